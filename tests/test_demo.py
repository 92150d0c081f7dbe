"""The demo as a user meets it: a walk through the app in headless Chromium, against `python -m hm_recsys.api` in its own
process with a write token, as `make serve` runs it. First view, warm, cold and unknown customers, a malformed id, 1 and
100 recommendations, a bad then a good purchase (double-clicked), the JSON, the API docs with the network cut off, and a
phone's screen; then the server's log, which must hold one line per bad input and no traceback."""

import hashlib
import pytest
from hm_recsys.serving import HMRecommender
from bench import durability as D
from docs.screenshot import CHROMIUM, PHONE, VIEWPORT, show_example

pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="Chromium is absent: `apt-get install -y chromium` (Debian) to run the browser test"
)


def test_demo_walk(registry, tmp_path):
    pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    from playwright.sync_api import sync_playwright

    c = HMRecommender.load(registry).data.customers
    warm = c.sort_values(["purchases", "customer_id"], ascending=[False, True]).customer_id.iloc[0]
    cold = c.customer_id[(c.purchases == 0) & c.age.notna()].iloc[0]
    unknown = hashlib.sha256(b"a walk-in").hexdigest()
    server = D.Server("tiny", registry, tmp_path / "walk.sqlite")
    with server.running(), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            text = lambda sel: page.locator(sel).first.inner_text()
            heading = lambda: text("#hm-recs-box .hm-recs-title")
            page.goto(server.url + "/", wait_until="load")

            # The first view: an example customer, whose badge and heading say the same; ids on cards, no scores.
            show_example(page)
            assert text(".hm-badge") in heading() and heading().startswith("12 recommendations · personalised")
            cards = page.locator("#hm-recs-box .hm-card")
            assert all(cards.nth(i).get_attribute("data-article-id") in cards.nth(i).inner_text() for i in range(12))
            assert "score" not in text("#hm-recs-box") and "two_tower: two_tower" not in page.content()
            assert page.locator("a[href='/docs']").count() == 1  # the app links to the API docs
            page.get_by_text("How it works").click()  # the details, behind an accordion: why no scores or prices
            page.get_by_text("the data's prices are scaled, with no currency").wait_for()

            box = page.locator("#hm-customer textarea, #hm-customer input").first

            def show(cid: str):
                box.fill(cid)
                page.locator("#hm-go").click()
                page.wait_for_function(
                    f"(document.querySelector('#hm-profile') || {{innerText: ''}}).innerText.includes('{cid[:10]}')"
                )

            # Cold and unknown customers: a badge that says so, and an empty state that says what it means.
            show(cold)
            assert text(".hm-badge").startswith("new customer") and text(".hm-badge") in heading()
            assert text("#hm-history") == "No purchases yet."
            show(unknown)
            assert "(new)" in text("#hm-profile") and text("#hm-history") == "A new customer: no purchases yet."

            # A malformed id: its message under the field, the stale results cleared, no "Error" pills.
            box.fill("hello")
            page.locator("#hm-go").click()
            page.wait_for_selector("#hm-customer-message .hm-error")
            assert text("#hm-customer-message").startswith("customer_id: must be 64 hexadecimal characters")
            assert page.locator("#hm-profile, #hm-recs-box .hm-card, #hm-history .hm-card").count() == 0
            assert page.get_by_text("Error", exact=True).count() == 0

            # The slider refreshes the list: 1 and 100 recommendations, with the right plural.
            show(warm)
            number = page.locator("#hm-k input[type=number]")
            for n, title in ((1, "1 recommendation ·"), (100, "100 recommendations ·")):
                number.fill(str(n))
                number.press("Enter")
                page.wait_for_function(
                    f"document.querySelector('#hm-recs-box .hm-recs-title').innerText.startsWith('{title}')"
                )
                assert cards.count() == n

            # A bad purchase, then a card clicked into the box and recorded with a double click: once, confirmed.
            article = page.locator("#hm-article textarea, #hm-article input").first
            article.fill("0000000001")
            page.locator("#hm-token input").fill(D.TOKEN)
            page.locator("#hm-buy").click()
            page.wait_for_selector("#hm-article-message .hm-error")
            assert "is not in the catalogue" in text("#hm-article-message")
            pick = cards.nth(3)
            aid = pick.get_attribute("data-article-id")
            pick.click()
            assert article.input_value() == aid
            before = server.health()["recorded_purchases"]
            page.locator("#hm-buy").dblclick()
            page.wait_for_selector("#hm-article-message .hm-ok")
            page.wait_for_timeout(1500)  # a second recording, had the second click made one, would be done by now
            assert server.health()["recorded_purchases"] == before + 1
            assert aid in text("#hm-article-message") and article.input_value() == ""
            assert page.locator("#hm-history .hm-card").first.get_attribute("data-article-id") == aid
            bought = page.locator(f"#hm-recs-box .hm-card[data-article-id='{aid}']")
            assert "repeat purchases are this data's strongest signal" in bought.first.inner_text()

            # The JSON, as POST /recommend returns it.
            page.locator("#hm-json").get_by_text("The result as JSON").click()
            page.locator("#hm-json").get_by_text("model_version").first.wait_for()

            # The API docs with every request beyond the server refused: Swagger UI from the server's own files.
            offline = browser.new_context()
            offline.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
            docs = offline.new_page()
            docs.goto(server.url + "/docs", wait_until="load")
            docs.wait_for_selector(".swagger-ui .info .title")
            assert "hm-recsys" in docs.locator(".swagger-ui .info .title").inner_text()
            assert docs.locator(".opblock-summary-path").count() >= 4  # /health, /recommend, /purchases, /admin/reload

            # A phone: the recommendations come first, within the first screen, before the long controls.
            phone = browser.new_page(viewport=PHONE)
            phone.goto(server.url + "/", wait_until="load")
            show_example(phone)
            top = lambda sel: phone.locator(sel).bounding_box()["y"]
            assert top("#hm-results") < top("#hm-controls") and top("#hm-recs-box") < PHONE["height"]
        finally:
            browser.close()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert "bad input: customer_id: must be 64 hexadecimal" in log and "bad input: article_id:" in log
