"The benchmark scripts on small inputs: retrieval figures, the quality table, BENCHMARKS.md."

import json, subprocess, sys
from pathlib import Path
import pytest
from bench import common, device, ranker_ablation, retrieval, run, scale, seeds

ROOT = Path(__file__).resolve().parents[1]


def test_retrieval_small():
    r = retrieval.run(n=3000, n_queries=100, n_single=10, k=20, clusters=30)
    res = r["results"]
    assert set(res) == {"numpy brute force", "faiss flat (exact)", "faiss ivf", "faiss hnsw", "pytorch brute force"}
    for exact in ("numpy brute force", "faiss flat (exact)", "pytorch brute force"):
        assert res[exact]["recall vs exact"] > 0.999
    for x in res.values():
        assert 0 < x["recall vs exact"] <= 1 and x["single query ms"] > 0 and x["batched queries/s"] > 0
    assert res["numpy brute force"]["batched speed-up vs numpy"] == 1


def test_benchmarks_markdown():
    b = {
        "machine": common.machine(),
        "updated": "now",
        "quality": run.quality(),
        "retrieval": retrieval.run(n=2000, n_queries=50, n_single=5, k=10, clusters=20),
        "serving": {"missing": "the registry"},
        "scale": {"missing": "reports/scale.json"},
        "device": {
            "tiny": {
                "params": "tiny",
                "device": "cpu",
                "cpu_threads": 2,
                "fit_seconds": 1.0,
                "best_epoch": 2,
                "test_recall100": 0.5,
                "machine": {"gpu": None, "cpu": "x", "cores": 2},
                "current": False,
            }
        },
        "ablations": {
            "ranker": {"missing": "reports/**/ranker-ablation.json"},
            "two-tower": {
                "tiny": {
                    "current": True,
                    "variants": {
                        "basket context": {
                            "best_epoch": 2,
                            "validation_map@12": [0.01, 0.02],
                            "test_map@12": {"all": 0.03, "warm": 0.04, "cold": 0.005},
                            "seconds": 1.5,
                        }
                    },
                }
            },
        },
    }
    md = run.markdown(b)
    for h in (
        "## Machine",
        "## Quality",
        "## Retrieval",
        "## Serving",
        "## Scale",
        "pytorch brute force",
        "## Two-tower training by device",
        "| tiny | tiny | x, 2 cores | cpu |",
        "| on the current code |",
        "| no: rerun it |",
        "## Ablations",
        "| tiny | basket context | 2 | 0.02 | 0.03 | 0.04 | 0.005 | 1.5 | yes |",
        "*reports/**/ranker-ablation.json: not run yet.*",
    ):
        assert h in md
    assert b["machine"]["cores"] >= 1 and b["machine"]["ram_gb"] > 0
    assert (
        b["machine"]["torch_cpu"] and b["machine"]["versions"]["lightgbm"] and f"| {b['machine']['torch_cpu']} |" in md
    )
    if Path("/proc/cpuinfo").exists():
        assert "(family " in b["machine"]["cpu"]


def test_device_fit_on_tiny(tmp_path):
    from hm_recsys.config import load_config
    from hm_recsys.etl import run_etl

    run_etl(load_config("tiny"))
    device.main("tiny", tmp_path / "d.json")
    r = json.loads((tmp_path / "d.json").read_text())
    assert r["device"] in ("cpu", "cuda") and r["fit_seconds"] > 0 and 1 <= r["best_epoch"] <= len(r["val_recall100"])
    assert 0 < r["test_recall100"] <= 1 and r["machine"]["cores"] >= 1
    assert run.runs(tmp_path, "none", device.CODE)["d"]["current"]  # made on the code of now
    (tmp_path / "d.json").write_text(json.dumps(r | {"code": "older"}))
    older = run.runs(tmp_path, "none", device.CODE)
    assert not older["d"]["current"] and "| no: rerun it |" in run.markdown(
        {"machine": r["machine"], "updated": "now", "device": older}
    )


def test_seeds_on_tiny(tmp_path):
    from hm_recsys.config import code_digest, load_config
    from hm_recsys.etl import run_etl

    run_etl(load_config("tiny"))
    m = {
        "recommenders": {n: {"map@12": v} for n, v in (("ranker", 0.05), ("repurchase_decayed", 0.04), ("blend", 0.02))}
    }
    (tmp_path / "metrics.json").write_text(json.dumps(m))
    r = seeds.main("tiny", 2, tmp_path / "s.json", tmp_path / "metrics.json")
    assert (
        r["seeds"] == [1, 2]
        and len(r["map@12"]) == 2
        and all(0 < x < 1 for x in r["map@12"])
        and r["committed"] == {"seed": 42, "map@12": 0.05}
    )
    assert r["code"] == code_digest(seeds.CODE)  # bench/run.py flags the run once the ranker's code changes
    assert (
        r["versus"]["blend"]["ratio min"] == pytest.approx(min(r["map@12"]) / 0.02, abs=1e-3)
        and json.loads((tmp_path / "s.json").read_text())["mean"] == r["mean"]
    )
    md = run.markdown({"machine": r["machine"], "updated": "now", "seeds": {"tiny": r}})
    assert "## The ranker over seeds" in md and f"| tiny | 2 | {r['mean']:.4f}".rstrip("0") in md
    with pytest.raises(FileNotFoundError, match="make all"):
        seeds.main("tiny", 1, tmp_path / "t.json", tmp_path / "none.json")
    with pytest.raises(ValueError, match="at least 1"):
        seeds.main("tiny", 0, tmp_path / "t.json", tmp_path / "metrics.json")


def test_scale_tiny(tmp_path, monkeypatch):
    "`python -m bench.scale`'s tiny check end to end (each stage in its own process); BENCHMARKS.md says whether it ran the code of now."
    subprocess.run(
        [sys.executable, "-m", "bench.scale", "--preset", "tiny", "--out", str(tmp_path / "scale-tiny.json")],
        cwd=ROOT,
        check=True,
    )
    monkeypatch.setattr(run, "REPORTS", tmp_path)
    r = run.scale()
    assert [s["stage"] for s in r["stages"]] == list(scale.STAGES) and r["ok"] and r["meets_targets"] and r["current"]
    assert "On the current code: yes." in run.markdown({"machine": r["machine"], "updated": "now", "scale": r})
    x = json.loads((tmp_path / "scale-tiny.json").read_text())
    x["stages"][-1]["code"] = "older"
    (tmp_path / "scale-tiny.json").write_text(json.dumps(x))
    older = run.scale()
    assert not older["current"] and "On the current code: no: rerun it." in run.markdown(
        {"machine": r["machine"], "updated": "now", "scale": older}
    )


def test_crossfit_on_tiny(tmp_path):
    "The cross-fit bound learns from the test labels too: on the sampled buyers it should not fall far below the shipped lists."
    from dataclasses import replace
    from bench import crossfit
    from hm_recsys.config import load_config
    from hm_recsys.etl import load_processed, run_etl

    cfg = load_config("tiny")
    run_etl(cfg)
    settings = {"objective": "binary", "two_tower": False, "cold": "popularity", "num_boost_round": 30}
    r = crossfit.crossfit(replace(cfg, root=tmp_path), load_processed(cfg), settings, sample=300)
    assert 0 < r["buyers"] <= 300 and 0 < r["shipped"] <= 1 and 0 < r["crossfit"] <= 1
    assert r["all crossfit"] != r["all shipped"]  # the refits changed the sampled buyers' lists


def test_ranker_ablation_on_tiny(tmp_path, monkeypatch):
    from dataclasses import replace
    import numpy as np
    from hm_recsys import ranker as R
    from hm_recsys.config import load_config
    from hm_recsys.etl import load_processed, run_etl
    from hm_recsys.evaluation import Popularity, evaluate

    cfg = load_config("tiny")
    run_etl(cfg)
    tables = load_processed(cfg)
    s = tables.split
    settings, plain = {"objective": "binary", "two_tower": False, "cold": "ranker"}, R.ranker_features
    fc = R.FeatureContext(tables, s.test_start, R.candidate_params(cfg))
    x = R.ranker_features(fc, np.arange(50))
    bought = ~np.isnan(x.cust_item_days_since.to_numpy())
    assert 0 < bought.sum() < len(x)
    for fn in (
        ranker_ablation.last_purchase,
        ranker_ablation.rebuy_hazard,
    ):  # defined exactly on the articles bought before
        f = fn(fc, x, cfg)
        assert all(
            len(v) == len(x) and not np.isnan(np.asarray(v)[bought]).any() and np.isnan(np.asarray(v)[~bought]).all()
            for v in f.values()
        )
    assert (f["rebuy_hazard_type"][bought] >= 0).all() and (f["rebuy_hazard_type"][bought] <= 1).all()
    r = ranker_ablation.main(
        "tiny",
        ["as chosen", "two-tower source", "last purchase details", "more popularity candidates"],
        tmp_path / "a.json",
        settings,
    )
    assert (
        R.ranker_features is plain
        and json.loads((tmp_path / "a.json").read_text())["variants"].keys() == r["variants"].keys()
    )
    for v in r["variants"].values():
        assert all(0 <= v[k] <= 1 for k in ("validation", "test", "validation warm", "test warm"))
    res = evaluate(
        {"ranker": R.Ranker(replace(cfg, root=tmp_path), **settings), "fill": Popularity(cfg.pop_days, decay=True)},
        tables,
        s.test_start,
        s.test_end,
        k_candidates=None,
        n_boot=10,
        verbose=False,
    )
    assert r["variants"]["as chosen"]["test"] == round(res["ranker"]["map@12"], 5)  # the shipped ranker's figure
    with pytest.raises(ValueError, match="unknown variant"):
        ranker_ablation.main("tiny", ["no such thing"], None, settings)
    f = tmp_path / "tiny" / "ranker-ablation.json"
    f.parent.mkdir()
    (tmp_path / "a.json").rename(f)
    monkeypatch.setattr(run, "REPORTS", tmp_path)  # BENCHMARKS.md's ablations section reads the run back
    a = run.ablations()
    assert a["ranker"]["tiny"]["current"] and a["two-tower"] == {"missing": "reports/**/ablation.json"}
    assert "| tiny | last purchase details | features | " in run.markdown(
        {"machine": r["machine"], "updated": "now", "ablations": a}
    )
    f.write_text(json.dumps(json.loads(f.read_text()) | {"code": "older"}))  # as if the ranker's code changed since
    assert "| no: rerun it |" in run.markdown({"machine": r["machine"], "updated": "now", "ablations": run.ablations()})


def test_timed_records_a_run_and_its_peak_memory(tmp_path):
    "bench/timed.py as make all calls it: the command's status, and an entry only for a run that succeeded."
    from bench import timed

    out, py = tmp_path / "timings.json", sys.executable
    grow = "x = bytearray(300 * 2**20); x[::4096] = b'1' * len(x[::4096])"  # 300 MB, touched
    assert timed.run(out, "big", [py, "-c", grow]) == 0
    assert timed.run(out, "broken", [py, "-c", "raise SystemExit(3)"]) == 3
    t = json.loads(out.read_text())
    assert list(t) == ["big"] and t["big"]["seconds"] > 0 and 0.3 <= t["big"]["peak_rss_gb"] < 2
    cli = [py, "-m", "bench.timed", str(out), "small", "--", py, "-c", "pass"]
    assert subprocess.run(cli, cwd=ROOT).returncode == 0
    assert sorted(json.loads(out.read_text())) == ["big", "small"]  # the others kept


def test_timed_writers_side_by_side_lose_nothing(tmp_path):
    "make -j2 finishes two notebooks at once: the lock keeps both entries."
    out = tmp_path / "timings.json"
    cmd = lambda i: [sys.executable, "-m", "bench.timed", str(out), f"nb{i}", "--", sys.executable, "-c", "pass"]
    procs = [subprocess.Popen(cmd(i), cwd=ROOT) for i in range(8)]
    assert all(p.wait() == 0 for p in procs)
    assert sorted(json.loads(out.read_text())) == [f"nb{i}" for i in range(8)]


def test_pipeline_section():
    "BENCHMARKS.md's table of where make all's time goes, from a fresh run and a run's timings."
    nb = lambda s, gb: {"seconds": s, "peak_rss_gb": gb}
    fresh = {
        "at": "now",
        "commit": "abc",
        "setup_seconds": 60.0,
        "runs": {"default": {"seconds": 600.0, "noop_seconds": 2.0, "notebooks": {"05c_ranker": nb(200.0, 3.0)}}},
    }
    md = "\n".join(run.pipeline_md({"fresh": fresh, "timings": {"real-sample": {"04_model": nb(60.0, 2.5)}}}))
    assert "| default | 600 | 11 | 3 | 2 |" in md  # (600 + 60) s = 11 min
    assert "| 05c_ranker | 200 | 3 |  |  |" in md and "| 04_model |  |  | 60 | 2.5 |" in md
    assert run.pipeline_md({"fresh": None, "timings": {}}) == ["## Where `make all`'s time goes"]
