"""Serving: `recommend` (warm, cold, unknown, bad input, record_purchase), the HTTP API (every bad input, concurrency,
health after), the Gradio app through gradio_client, and an end-to-end run in headless Chromium (screenshot)."""

import hashlib, shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
import numpy as np, pytest
from fastapi.testclient import TestClient
from hm_recsys import api as http_api, app as gradio_app, serving as S
from hm_recsys.config import load_config
from docs.screenshot import CHROMIUM, demo as demo_png, served, shoot, show_example

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")  # inside gradio's queue
ROOT = Path(__file__).resolve().parents[1]
UNKNOWN = hashlib.sha256(b"nobody").hexdigest()


@pytest.fixture(scope="session")
def data(registry) -> S.ServingData:
    return S.serving_data(registry)


@pytest.fixture
def svc(data) -> S.HMRecommender:
    "A fresh service (no recorded purchases) on the registry's data."
    return S.HMRecommender(data)


@pytest.fixture(scope="session")
def ids(data) -> dict:
    "Customers: warm (most purchases), cold with a known age, unknown; an article."
    s = S.HMRecommender(data)
    c = s.data.customers
    warm = c[c.purchases > 0].sort_values("purchases", ascending=False).customer_id.iloc[0]
    cold = c[(c.purchases == 0) & c.age.notna()].customer_id.iloc[0]
    return dict(warm=warm, cold=cold, unknown=UNKNOWN, article=s.data.articles.article_id.iloc[-1])


# ---- recommend ------------------------------------------------------------------------------------------------
def test_warm(svc, ids):
    r = svc.recommend(ids["warm"])
    assert (r.strategy, r.cold_start, len(r.articles)) == ("two_tower", False, 12)
    assert len(set(r.article_ids)) == 12 and np.all(np.diff([a.score for a in r.articles]) <= 1e-6)
    bought = {p.article_id for p in svc.purchases(ids["warm"], 100)}
    for a in r.articles:
        assert a.name and a.product_type and a.colour and a.reason_article_id in bought
        assert a.reason.startswith(("because you bought", "you bought it on")) and a.strategy == "two_tower"
    assert r == svc.recommend(ids["warm"].upper())  # deterministic, case-insensitive ids
    assert S.recommend is not None and isinstance(r, S.Recommendations)


def test_cold_known_age(svc, ids):
    r = svc.recommend(ids["cold"], 5)
    assert (r.strategy, r.cold_start, len(r.articles)) == ("popular_age_group", True, 5)
    assert {a.reason for a in r.articles} <= {S.AGE, S.WEEK} and r.articles[0].reason == S.AGE
    p = svc.profile(ids["cold"])
    assert p.known and p.cold_start and p.purchases == 0 and p.age_group


def test_unknown(svc, ids):
    r = svc.recommend(ids["unknown"], 100)
    assert (r.strategy, r.cold_start, len(r.articles)) == ("popular_this_week", True, 100)
    assert all(a.reason == S.WEEK for a in r.articles) and len(set(r.article_ids)) == 100
    assert not svc.profile(ids["unknown"]).known and svc.purchases(ids["unknown"]) == []


def test_module_recommend_uses_the_service(svc, ids):
    S.use_service(svc)
    assert S.recommend(ids["warm"], 3) == svc.recommend(ids["warm"], 3)


BAD = [
    (dict(customer_id="abc"), "customer_id: must be 64 hexadecimal characters"),
    (dict(customer_id="g" * 64), "customer_id: must be 64 hexadecimal characters (0-9, a-f); character 1 is 'g'"),
    (dict(customer_id=42), "customer_id: must be a string"),
    (dict(top_k=0), "top_k: must be from 1 to 100, got 0"),
    (dict(top_k=101), "top_k: must be from 1 to 100, got 101"),
    (dict(top_k="12"), "top_k: must be a whole number"),
    (dict(top_k=2.5), "top_k: must be a whole number"),
    (dict(top_k=None), "top_k: must be a whole number"),
    (dict(top_k=True), "top_k: must be a whole number"),
]


@pytest.mark.parametrize("kw,msg", BAD)
def test_bad_input(svc, ids, kw, msg):
    with pytest.raises(S.InvalidInput, match=msg.replace("(", r"\(").replace(")", r"\)")) as e:
        svc.recommend(**{"customer_id": ids["warm"], "top_k": 12, **kw})
    assert isinstance(e.value, ValueError) and e.value.field == next(iter(kw))


def test_record_purchase(svc, ids):
    before, n = svc.recommend(ids["warm"]), svc.profile(ids["warm"]).purchases
    v = svc.data.article_vectors
    far = svc.data.articles.article_id.iloc[
        int(np.argmin(v @ v[svc._article[before.article_ids[0]]]))
    ]  # unlike its top pick
    card = svc.record_purchase(ids["warm"], far).article
    assert card.article_id == far and card.day == svc.day
    after = svc.recommend(ids["warm"])
    assert after.article_ids != before.article_ids and after.strategy == "two_tower"
    assert svc.purchases(ids["warm"])[0].article_id == far and svc.profile(ids["warm"]).purchases == n + 1
    assert svc.health()["recorded_purchases"] == 1


def test_record_purchase_warms_a_cold_customer(svc, ids):
    svc.record_purchase(ids["cold"], ids["article"])
    r = svc.recommend(ids["cold"])
    assert (r.strategy, r.cold_start) == ("two_tower", False)
    assert r.articles[0].reason_article_id == ids["article"] and not svc.profile(ids["cold"]).cold_start


def test_record_purchase_bad_input(svc, ids):
    with pytest.raises(S.InvalidInput, match=r"article_id: 9999999999 is not in the catalogue"):
        svc.record_purchase(ids["warm"], "9999999999")
    with pytest.raises(S.InvalidInput, match=r"article_id: must be an article id of 10 digits"):
        svc.record_purchase(ids["warm"], "shoe")
    with pytest.raises(S.UnknownCustomer, match="is not a customer of this registry"):
        svc.record_purchase(ids["unknown"], ids["article"])
    assert svc.health()["recorded_purchases"] == 0


# ---- the HTTP API ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(data):
    with TestClient(http_api.create_app(S.HMRecommender(data))) as c:
        yield c


def test_api_health_docs_ui(api):
    h = api.get("/health").json()
    assert h["ready"] is True and h["articles"] > 0 and h["model_version"] and h["data_fingerprint"]
    assert api.get("/docs").status_code == 200 and {"/recommend", "/purchases", "/health"} <= set(
        api.get("/openapi.json").json()["paths"]
    )
    assert api.get("/").status_code == 200 and "gradio" in api.get("/").text.lower()


def test_api_recommend(api, ids):
    r = api.post("/recommend", json={"customer_id": ids["warm"], "top_k": 12})
    assert r.status_code == 200
    j = r.json()
    assert (j["cold_start"], j["strategy"], len(j["articles"])) == (False, "two_tower", 12)
    assert set(j["articles"][0]) >= {"article_id", "name", "product_type", "colour", "price", "score", "reason"}
    j = api.post("/recommend", json={"customer_id": ids["unknown"]}).json()
    assert (j["cold_start"], j["strategy"], len(j["articles"])) == (True, "popular_this_week", 12)


HTTP_BAD = [
    (
        "/recommend",
        {"customer_id": "abc", "top_k": 12},
        422,
        "customer_id: must be 64 hexadecimal characters (0-9, a-f), got 3: 'abc'.",
    ),
    (
        "/recommend",
        {"customer_id": "z" * 64},
        422,
        "customer_id: must be 64 hexadecimal characters (0-9, a-f); character 1 is 'z'.",
    ),
    (
        "/recommend",
        {"customer_id": 12345},
        422,
        "customer_id: must be a string of 64 hexadecimal characters, not int 12345.",
    ),
    ("/recommend", {"top_k": 12}, 422, "customer_id: is required."),
    ("/recommend", {"customer_id": UNKNOWN, "top_k": 0}, 422, "top_k: must be from 1 to 100, got 0."),
    ("/recommend", {"customer_id": UNKNOWN, "top_k": 101}, 422, "top_k: must be from 1 to 100, got 101."),
    (
        "/recommend",
        {"customer_id": UNKNOWN, "top_k": 2.5},
        422,
        "top_k: must be a whole number from 1 to 100, not float 2.5.",
    ),
    (
        "/recommend",
        {"customer_id": UNKNOWN, "top_k": "12"},
        422,
        "top_k: must be a whole number from 1 to 100, not str '12'.",
    ),
    (
        "/recommend",
        {"customer_id": UNKNOWN, "top_k": None},
        422,
        "top_k: must be a whole number from 1 to 100, not NoneType None.",
    ),
    (
        "/purchases",
        {"customer_id": UNKNOWN, "article_id": "9999999999"},
        422,
        "article_id: 9999999999 is not in the catalogue",
    ),
    (
        "/purchases",
        {"customer_id": UNKNOWN, "article_id": "shoe"},
        422,
        "article_id: must be an article id of 10 digits such as '0108775015', not 'shoe'.",
    ),
    (
        "/purchases",
        {"customer_id": "abc", "article_id": "0108775015"},
        422,
        "customer_id: must be 64 hexadecimal characters",
    ),
    (
        "/purchases",
        {"customer_id": UNKNOWN, "article_id": "ARTICLE"},
        422,
        "article_id: must be an article id of 10 digits",
    ),
]


@pytest.mark.parametrize("path,body,status,msg", HTTP_BAD)
def test_api_bad_input(api, path, body, status, msg):
    r = api.post(path, json=body)
    assert r.status_code == status and r.json()["detail"].startswith(msg), r.text


def test_api_bad_json_and_unknown_customer(api, ids):
    r = api.post("/recommend", content=b'{"customer_id": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("body: is not valid JSON")
    r = api.post("/purchases", json={"customer_id": UNKNOWN, "article_id": ids["article"]})
    assert r.status_code == 404 and "is not a customer of this registry" in r.json()["detail"]
    assert api.get("/health").json()["ready"] is True


def test_api_purchase_changes_recommendations(api, ids):
    before = api.post("/recommend", json={"customer_id": ids["cold"]}).json()
    r = api.post("/purchases", json={"customer_id": ids["cold"], "article_id": ids["article"]})
    assert r.status_code == 200 and r.json()["article"]["article_id"] == ids["article"]
    after = api.post("/recommend", json={"customer_id": ids["cold"]}).json()
    assert before["cold_start"] and not after["cold_start"] and after["articles"] != before["articles"]


def test_api_concurrent(api, ids):
    bodies = [{"customer_id": c, "top_k": 12} for c in (ids["warm"], ids["cold"], ids["unknown"])] * 20
    with ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda b: api.post("/recommend", json=b).status_code, bodies))
    assert codes == [200] * len(bodies) and api.get("/health").json()["ready"]


# ---- the Gradio app and the browser -------------------------------------------------------------------------
def test_gradio_client(registry, ids):
    from gradio_client import Client

    demo = gradio_app.build_demo(S.HMRecommender.load(registry))  # load() as the app does
    _, url, _ = demo.launch(
        server_name="127.0.0.1",
        server_port=http_api.free_port(),
        prevent_thread_lock=True,
        quiet=True,
        theme=gradio_app.THEME,
        css=gradio_app.CSS,
    )
    try:
        client = Client(url, verbose=False)
        msg, profile, history, cards, raw = client.predict(ids["warm"], 12, api_name="/recommend")
        assert msg == "" and "personalised" in profile and cards.count('class="hm-card"') == 12
        assert history.count('class="hm-card"') > 0 and raw["strategy"] == "two_tower" and len(raw["articles"]) == 12
        msg, profile, history, cards, raw = client.predict(ids["unknown"], 5, api_name="/recommend")
        assert "new customer" in profile and cards.count('class="hm-card"') == 5 and raw["cold_start"]
        assert "no purchases yet" in history
        msg, profile, history, cards, raw = client.predict("abc", 12, api_name="/recommend")  # a message, no error
        assert "customer_id: must be 64 hexadecimal" in msg and (profile, raw) == ("", None) and "hm-card" not in cards
        done, box, msg, profile, history, cards, raw = client.predict(
            ids["cold"], ids["article"], 12, "", api_name="/record_purchase"
        )
        assert "Recorded" in done and box == "" and raw["strategy"] == "two_tower" and "personalised" in profile
        assert history.count('class="hm-card"') == 1
    finally:
        demo.close()


@pytest.fixture(scope="module")
def server(data):
    "The API and the app served by uvicorn on 127.0.0.1 in a thread."
    with served(http_api.create_app(S.HMRecommender(data))) as url:
        yield url


@pytest.mark.skipif(
    not CHROMIUM, reason="Chromium is absent: `apt-get install -y chromium` (Debian) to run the browser test"
)
def test_browser(server, ids, tmp_path):
    """Open the app (`shoot`, as `make screenshot` does): a cold customer gets the badge, a bad id its message; the first
    example, a warm customer (`show_example`), gets profile, history and 12 cards; the page ends as a screenshot."""
    pytest.importorskip("playwright.sync_api", reason="pip install playwright")

    def steps(page):
        show_example(page)
        assert (
            page.locator("#hm-recs-box .hm-card").count() == 12
            and "because you bought" in page.locator("#hm-recs-box .hm-card").first.inner_text() + page.content()
        )
        assert "Purchases" in page.locator("#hm-profile").inner_text()
        box = page.locator("#hm-customer").locator("textarea, input").first
        box.fill(ids["cold"])
        page.locator("#hm-go").click()
        page.wait_for_selector(".hm-badge.hm-cold", timeout=20_000)
        assert page.locator("#hm-recs-box .hm-card").count() == 12
        box.fill("abc")
        page.locator("#hm-go").click()
        page.get_by_text("customer_id: must be 64 hexadecimal characters").first.wait_for(timeout=20_000)

    assert shoot(server + "/", tmp_path / "demo.png", steps).stat().st_size > 10_000


@pytest.mark.skipif(
    not CHROMIUM, reason="Chromium is absent: `apt-get install -y chromium` (Debian) to run the browser test"
)
def test_screenshot_script(registry, tmp_path):
    "`make screenshot`'s script: the page of a registry's first example customer as a PNG; no registry, a clear error."
    pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    out = demo_png("tiny", tmp_path / "figures" / "demo.png", registry)
    assert (
        out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and out.stat().st_size > 10_000
        and sorted(p.name for p in out.parent.iterdir()) == ["demo-error.png", "demo-phone.png", "demo.png"]
    )
    with pytest.raises(FileNotFoundError, match="No registry in .*`make all`"):
        demo_png("tiny", tmp_path / "x.png", tmp_path / "none")


def test_pictures_from_an_images_folder(data, ids, tmp_path, monkeypatch):
    "With a Kaggle images folder (images/010/0108775015.jpg) the cards show the photos, else swatches of the article's colour."
    from PIL import Image

    svc = S.HMRecommender(data)
    one = svc.recommend(ids["warm"], 1)
    card = one.articles[0]
    swatch = gradio_app.data_uri(gradio_app.article_picture(card.article_id, card.product_type, card.colour))
    (tmp_path / card.article_id[:3]).mkdir()
    Image.new("RGB", (60, 90), (1, 2, 3)).save(tmp_path / card.article_id[:3] / f"{card.article_id}.jpg")
    monkeypatch.setenv("HM_IMAGES_DIR", str(tmp_path))
    photo = S.HMRecommender(data)
    html = gradio_app.cards_html(photo, one)
    assert (
        photo.images_dir == str(tmp_path) and swatch not in html and gradio_app.cards_html(svc, one).count(swatch) == 1
    )
    px = gradio_app.article_picture(card.article_id, card.product_type, card.colour, str(tmp_path)).getpixel((5, 5))
    assert max(abs(a - b) for a, b in zip(px, (1, 2, 3))) <= 4  # JPEG


def test_ranker_lists(registry, tmp_path):
    """With the ranker's lists in the registry, warm customers get them (reasons name the source), a longer request is
    topped up, a recorded purchase hands over to the two-tower; lists of another cutoff are refused."""
    from hm_recsys.etl import run_etl
    from hm_recsys.ranker import Ranker, ranked_lists, save_ranked

    cfg = replace(load_config("tiny"), root=registry.parents[2])
    tables = run_etl(cfg)
    path = tmp_path / "registry"
    shutil.copytree(registry, path)
    r = Ranker(cfg, train_windows=1, num_boost_round=10, two_tower=True).fit(tables, tables.split.test_start)
    lists = ranked_lists(r, np.arange(len(tables.customers)), k=5)
    save_ranked(cfg, r, lists, path)
    svc = S.HMRecommender.load(path)
    assert gradio_app.about(svc).startswith("The LightGBM ranker's lists") and gradio_app.about(
        S.HMRecommender.load(registry)
    ).startswith("Two-tower retrieval")
    c = int(lists.customer_idx.iloc[0])
    cid = svc.data.customers.customer_id.iloc[c]
    rec = svc.recommend(cid, 12)
    assert rec.strategy == "ranker" and svc.version.startswith("ranker-")
    assert (
        rec.article_ids[:5]
        == svc.data.articles.article_id.to_numpy()[lists.article_idx[lists.customer_idx == c]].tolist()
    )
    assert (
        all(a.source and a.reason and a.strategy == "ranker" for a in rec.articles[:5])
        and len(set(rec.article_ids)) == 12
    )
    svc.record_purchase(cid, rec.article_ids[0])
    assert svc.recommend(cid).strategy == "two_tower"
    c = svc.data.customers
    for cold in c.customer_id[(c.purchases == 0) & c.index.isin(lists.customer_idx)]:  # `cold: ranker` lists them too
        r = svc.recommend(cold)
        assert (r.strategy, r.cold_start, len(r.article_ids)) == ("ranker", True, 12) and all(
            a.reason for a in r.articles
        )
    other = Ranker(cfg, train_windows=1, num_boost_round=10).fit(tables, tables.split.val_start)
    with pytest.raises(ValueError, match="fit both on one cutoff"):
        save_ranked(cfg, other, lists, path)


def test_registry_serves_alone(registry, data, tmp_path):
    "A registry copied away from the project (no processed tables beside it) serves the same; another format version is refused."
    import json

    alone = tmp_path / "registry"
    shutil.copytree(registry, alone)
    copy = S.serving_data(alone)
    assert copy.articles.equals(data.articles) and copy.customers.equals(data.customers)
    assert (
        data.customers.purchases.sum() > 0
        and data.articles.price.notna().any()
        and (data.articles.name != "None").all()
    )
    meta = json.loads((alone / "metadata.json").read_text())
    meta["format_version"] = 1
    (alone / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format_version 1.*`make all` writes it afresh"):
        S.serving_data(alone)


def test_api_refuses_a_large_body_over_http(server, ids):
    "A 10 MB body gets 413 from the real server before it is parsed, and the server goes on answering."
    import httpx

    r = httpx.post(
        f"{server}/purchases", content=b"{" + b" " * 10 * 2**20 + b"}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and "over the limit of 65,536" in r.json()["detail"]
    ok = httpx.post(f"{server}/recommend", json={"customer_id": ids["warm"], "top_k": 3})
    assert ok.status_code == 200 and len(ok.json()["articles"]) == 3
