"""What the served API was told, kept: short versions of bench/durability.py (restart, kill -9 under writers, hot swap
under load, soak), several workers on one event store, the token over real HTTP, and a recorded purchase reaching the
next run's processed tables through `make events-export`'s function. Each server is `python -m hm_recsys.api` in its
own process, as `make serve` runs it."""

import os, subprocess, sys
from dataclasses import replace
import httpx
from hm_recsys.etl import run_etl
from hm_recsys.events import EventStore, events_path, export_events
from hm_recsys.serving import HMRecommender
from bench import durability as D
from bench.common import ROOT


def test_restart_and_kill_9(registry, tmp_path):
    r = D.kill("tiny", registry, clients=8, n=60, kill_after=1.5, work=tmp_path)
    assert r["restart"] == dict(acknowledged=60, failed=0, after_restart=60)
    k = r["kill"]
    assert k["acknowledged"] > 0 and k["acknowledged_present"] == k["acknowledged"]  # every 200 survived the kill
    assert k["rows"] == k["distinct_request_ids"] == k["reloaded_after_restart"]  # nothing twice, all reloaded
    retry = r["retry"]
    assert retry["already"] == k["committed_unanswered"] and retry["new"] + retry["already"] == retry["sent"]
    assert retry["recorded_after"] == retry["rows_after"] == k["rows"] + retry["new"]


def test_hot_swap_under_load(registry, tmp_path):
    r = D.swap("tiny", registry, clients=8, seconds=4, work=tmp_path)
    assert r["errors"] == 0 and r["requests"] > 100, r["first_errors"]
    assert r["version_before"] != r["version_after"] and r["versions_served"] == sorted(
        {r["version_before"], r["version_after"]}
    )
    assert r["purchases_after_swap"] == r["purchases_before_swap"] == 50


def test_soak_short(registry, tmp_path):
    r = D.soak("tiny", registry, clients=8, minutes=0.1, work=tmp_path)
    assert r["errors"] == 0 and r["per_minute"][0]["requests"] > 100
    assert r["recorded_purchases"] == r["purchases_acknowledged"] > 0


def test_two_workers_share_one_store(registry, tmp_path):
    svc = HMRecommender.load(registry)
    with D.Server("tiny", registry, tmp_path / "two.sqlite", workers=2).running() as server:
        s = D.purchase_stream(server.url, D.some_purchases(svc, 40), 4, "two", D.threading.Event())
        assert len(s["acked"]) == 40
        seen = {server.health()["recorded_purchases"] for _ in range(20)}  # answered by either worker
    assert seen == {40}
    assert EventStore(tmp_path / "two.sqlite").count() == 40


def test_token_and_exposure_over_http(registry, tmp_path):
    svc = HMRecommender.load(registry)
    cid, aid = D.some_purchases(svc, 1)[0]
    with D.Server("tiny", registry, tmp_path / "t.sqlite").running() as server:
        body = {"customer_id": cid, "article_id": aid}
        none = httpx.post(f"{server.url}/purchases", json=body)
        wrong = httpx.post(f"{server.url}/purchases", json=body, headers={"Authorization": "Bearer nope"})
        assert (none.status_code, wrong.status_code) == (401, 401)
        assert "send the header `Authorization: Bearer <token>`" in none.json()["detail"]
        assert "is not this server's" in wrong.json()["detail"] and none.headers["www-authenticate"] == "Bearer"
        assert httpx.post(f"{server.url}/recommend", json={"customer_id": cid}).status_code == 200  # reads stay open
        assert httpx.post(f"{server.url}/purchases", json=body, headers=D.AUTH).status_code == 200
    env = {k: v for k, v in os.environ.items() if k != "HM_API_TOKEN"}
    run = subprocess.run(
        [sys.executable, "-m", "hm_recsys.api", "--params", "tiny", "--registry", str(registry), "--host", "0.0.0.0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and "serves beyond this machine, and then writes need a token" in run.stderr
    assert "HM_API_TOKEN" in run.stderr and "Traceback" not in run.stderr


def test_a_recorded_purchase_reaches_the_next_run(tiny_cfg, registry, tmp_path):
    "Recorded over HTTP, exported (make events-export), then found by the ETL of the next run (in a root of its own)."
    cfg = replace(tiny_cfg, root=tmp_path)
    tables = run_etl(cfg)
    svc = HMRecommender.load(registry)
    c, a = tables.customers, tables.articles
    bought = set(zip(tables.transactions.customer_idx, tables.transactions.article_idx))
    ci, ai = next((i, j) for i in range(len(c)) for j in range(len(a)) if (i, j) not in bought)
    cid, aid = c.customer_id.iloc[ci], a.article_id.iloc[ai]
    with D.Server("tiny", registry, events_path(cfg)).running() as server:
        r = httpx.post(f"{server.url}/purchases", json={"customer_id": cid, "article_id": aid}, headers=D.AUTH)
        assert r.status_code == 200
    export_events(cfg)
    after = run_etl(cfg).transactions
    new = after[(after.customer_idx == ci) & (after.article_idx == ai)]
    assert len(new) == 1 and str(new.t_dat.iloc[0].date()) == svc.day
    assert len(after) == len(tables.transactions) + 1
