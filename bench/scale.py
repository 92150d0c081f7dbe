"""Scale benchmark: one synthetic preset end to end, wall time and peak memory (RSS) per stage.

Stages, each in its own process so that its peak RSS is its own (`os.wait4`), reading what the previous one wrote:
  generate  the preset's three Kaggle files (`synthetic.ensure_synthetic`)
  etl       processed Parquet tables and the split (`etl.run_etl`)
  features  customer/article features and popularity tables at the test cutoff (`features.build_features`)
  train     the two-tower model, 2 epochs on the last 12 weeks before the cutoff (`model.fit_two_tower`, no tuning)
  index     article embeddings, exact FAISS index and the registry (`index.TwoTowerRecommender`, `save_registry`)
  score     12 recommendations for every customer from the registry, and MAP@12 of the test week
  rank      the LightGBM ranker with its default settings (`ranker.Ranker`): fit on the windows before the cutoff,
            MAP@12 of the test week, then its lists for every customer stored in the registry (`ranked_lists`, `save_ranked`)
The run's data goes to data/scale-<preset>/ (removed first, so that nothing is cached), its params file too.
    .venv/bin/python -m bench.scale --preset tiny                       # seconds: the check
    .venv/bin/python -m bench.scale --preset full --out reports/scale.json   # Kaggle size: the benchmark
Targets (2 cores, 24 GB): the whole run <= 45 min, peak RSS <= 12 GB. `--profile` writes a cProfile file per stage."""

import argparse, json, os, shutil, subprocess, sys, time
from pathlib import Path
import yaml
from .common import ROOT, machine

STAGES = ("generate", "etl", "features", "train", "index", "score", "rank")
TARGETS = {"total_minutes": 45, "peak_rss_gb": 12}
CODE = "ranker"  # its code and what it imports cover every stage: each records it, bench/run.py flags stages run on other code


def params_file(preset: str, model: dict) -> Path:
    "Write data/scale-<preset>/params.yaml: the preset, the default split, the model block of tiny/default (12 weeks, 2 epochs, no progress bar) + `model`."
    base = yaml.safe_load((ROOT / "params" / ("tiny.yaml" if preset == "tiny" else "default.yaml")).read_text())
    p = {
        **{k: v for k, v in base.items() if k != "model"},
        "dataset": f"scale-{preset}",
        "preset": preset,
        "source": "synthetic",
        "reports_dir": f"data/scale-{preset}/reports",
        "model": {**base.get("model", {}), "train_days": 84, "epochs": 2, "progress": False, **model},
    }
    path = ROOT / "data" / f"scale-{preset}" / "params.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(p, sort_keys=False))
    return path


# ---------------------------------------------------------------- the stages (run in a child process)
def stage(name: str, params: Path) -> dict:
    "Run one stage; -> a few facts about what it produced."
    import numpy as np, pandas as pd
    from hm_recsys.config import load_config

    cfg = load_config(params)
    work = cfg.artifacts_dir
    if name == "generate":
        from hm_recsys.synthetic import ensure_synthetic

        raw = ensure_synthetic(cfg)
        return {"raw_mb": round(sum(f.stat().st_size for f in raw.iterdir() if f.is_file()) / 2**20, 1)}
    from hm_recsys.etl import load_processed, run_etl

    if name == "etl":
        t = run_etl(cfg)
        return {
            "transactions": len(t.transactions),
            "customers": len(t.customers),
            "articles": len(t.articles),
            "test_start": str(t.split.test_start.date()),
        }
    tables = load_processed(cfg)
    cutoff = tables.split.test_start
    if name == "features":
        from hm_recsys.features import build_features

        f = build_features(tables, cutoff, cfg)
        return {"customer_rows": len(f.customers), "article_rows": len(f.articles)}
    from hm_recsys.model import fit_two_tower, load_fit, model_params, save_fit

    p = model_params(cfg)
    if name == "train":
        model, info = fit_two_tower(tables, cutoff, p, cfg.seed)
        save_fit(model, info, work / "scale_model.pt")
        return {
            "train_days": p["train_days"],
            **{k: v for k, v in info.items() if k != "val_recall100"},
            "val_recall100": [round(r, 4) for r in info.get("val_recall100", [])],
        }
    if name == "index":
        from hm_recsys.index import TwoTowerRecommender
        from hm_recsys.registry import save_registry

        rec = TwoTowerRecommender(p, cfg.seed, fitted=load_fit(work / "scale_model.pt")).fit(tables, cutoff)
        path = save_registry(cfg, tables, rec)
        return {
            "index_vectors": int(rec.index.ntotal),
            "registry_mb": round(sum(f.stat().st_size for f in path.iterdir()) / 2**20, 1),
        }
    if name == "score":
        from hm_recsys.evaluation import customer_metrics, window_truth
        from hm_recsys.registry import load_registry, registry_dir
        from hm_recsys.model import customer_embeddings

        reg = load_registry(registry_dir(cfg))
        hist = reg.history()
        n, batch, t0 = len(tables.customers), 65536, time.perf_counter()
        preds = np.empty((n, 12), "int32")
        for s in range(0, n, batch):
            idx = np.arange(s, min(s + batch, n), dtype="int32")
            preds[s : s + len(idx)] = reg.search(customer_embeddings(reg.model, idx, hist, cutoff), 12)[1]
        secs = time.perf_counter() - t0
        pd.DataFrame(
            {
                "customer_idx": np.repeat(np.arange(n, dtype="int32"), 12),
                "rank": np.tile(np.arange(1, 13, dtype="int8"), n),
                "article_idx": preds.ravel(),
            }
        ).to_parquet(work / "scores.parquet")
        truth = window_truth(tables.transactions, cutoff, tables.split.test_end)
        ap = customer_metrics(preds[truth.customers], truth)["ap"]
        return {
            "customers_scored": n,
            "customers_per_s": round(n / secs),
            "test_customers": len(truth.customers),
            "map@12": round(float(ap.mean()), 5),
        }
    if name == "rank":
        from hm_recsys.evaluation import customer_metrics, window_truth
        from hm_recsys.ranker import Ranker, ranked_lists, save_ranked

        t0 = time.perf_counter()
        r = Ranker(cfg).fit(tables, cutoff)
        fit_s = time.perf_counter() - t0
        truth = window_truth(tables.transactions, cutoff, tables.split.test_end)
        ap = customer_metrics(r.recommend(truth.customers), truth)["ap"]
        t0 = time.perf_counter()
        lists = ranked_lists(r, np.arange(len(tables.customers)))
        lists_s = time.perf_counter() - t0
        save_ranked(cfg, r, lists)
        return {
            "objective": r.p["objective"],
            "two_tower": r.p["two_tower"],
            "fit_seconds": round(fit_s, 1),
            "train_rows": r.train_rows,
            "features": len(r.features),
            "map@12": round(float(ap.mean()), 5),
            "customers_ranked": int(lists.customer_idx.nunique()),
            "lists_seconds": round(lists_s, 1),
        }
    raise ValueError(f"unknown stage {name!r}; stages: {STAGES}")


# ---------------------------------------------------------------- the driver
def run_stage(name: str, params: Path, profile: bool) -> dict:
    "Run `name` in a child process; its wall time, its own peak RSS, what it reports and the code it ran."
    from hm_recsys.config import code_digest

    facts = params.parent / f"stage_{name}.json"
    facts.unlink(missing_ok=True)
    prof = ["-m", "cProfile", "-o", str(params.parent / f"{name}.prof")] if profile else []
    cmd = [sys.executable, *prof, "-m", "bench.scale", "--stage", name, "--params", str(params), "--facts", str(facts)]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    out = {
        "stage": name,
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(usage.ru_maxrss / 2**20, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "ok": child.returncode == 0,
        "code": code_digest(CODE),
    }
    if facts.exists():
        out.update(json.loads(facts.read_text()))
    print(json.dumps(out), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny", help="tiny (seconds), small, or full (Kaggle size)")
    ap.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="comma-separated subset (keeps the data of earlier stages, and with --out their results)",
    )
    ap.add_argument("--model", default="{}", help="JSON overrides of the model block, e.g. '{\"max_epochs\": 2}'")
    ap.add_argument("--profile", action="store_true", help="cProfile each stage into data/scale-<preset>/<stage>.prof")
    ap.add_argument("--out", default="", help="write the results as JSON here (bench/run.py reads reports/scale.json)")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    ap.add_argument("--facts", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stage:  # child
        Path(a.facts).write_text(json.dumps(stage(a.stage, Path(a.params)), default=str))
        return
    stages = a.stages.split(",")
    if bad := set(stages) - set(STAGES):
        sys.exit(f"unknown stage(s) {sorted(bad)}; stages: {','.join(STAGES)}")
    if stages == list(STAGES):
        for d in ("data", "artifacts"):
            shutil.rmtree(ROOT / d / f"scale-{a.preset}", ignore_errors=True)
    params = params_file(a.preset, json.loads(a.model))
    results = []
    for s in stages:
        results.append(run_stage(s, params, a.profile))
        if not results[-1]["ok"]:
            break
    rerun = [r["stage"] for r in results] if stages != list(STAGES) else []
    if a.out and Path(a.out).exists() and rerun:  # some stages rerun: keep the others' results
        old, ran = json.loads(Path(a.out).read_text()), {r["stage"]: r for r in results}
        results = [ran.pop(r["stage"], r) for r in old["stages"]] + list(ran.values())
        rerun = [s for s in STAGES if s in {*rerun, *old.get("rerun", [])}]  # every stage rerun since the whole run
    res = {
        "preset": a.preset,
        "machine": machine(),
        "params": yaml.safe_load(params.read_text()),
        "stages": results,
        "rerun": rerun,
        "total_minutes": round(sum(r["wall_s"] for r in results) / 60, 2),
        "peak_rss_gb": max(r["peak_rss_gb"] for r in results),
        "targets": TARGETS,
        "ok": all(r["ok"] for r in results),
    }
    res["meets_targets"] = (
        res["ok"] and res["total_minutes"] <= TARGETS["total_minutes"] and res["peak_rss_gb"] <= TARGETS["peak_rss_gb"]
    )
    print(json.dumps({k: res[k] for k in ("preset", "total_minutes", "peak_rss_gb", "ok", "meets_targets")}))
    if a.out:
        from hm_recsys.config import write_json

        write_json(res, Path(a.out))
    if not res["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
