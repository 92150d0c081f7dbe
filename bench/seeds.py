"""The ranker over several seeds: how much of its lead over the heuristics one seed's luck could make.

Refits the ranker of a params file, with the settings 05c chose (`ranker.chosen_settings`), at the test cutoff with
seeds 1..N in place of the run's own, and scores each on the test window. The seed draws the sampled negatives and
LightGBM's feature subsets (and the two-tower source's fit, where 05c chose that source); the other candidates and the
heuristics do not depend on it. The heuristics and the committed
ranker come from the run's metrics.json (`make all` or `make real-sample` first). The fits go to a temporary folder, so
the run's fit cache stays as it is. Writes JSON in reports/seeds/, where `python -m bench.run --only seeds` reads every run
(and `make readme` the README's paragraph on seeds).
    .venv/bin/python -m bench.seeds real-sample --seeds 8    # reports/seeds/real-sample.json, about 1 minute
    .venv/bin/python -m bench.seeds default --seeds 8        # reports/seeds/default.json, about 5 minutes (2 cores)"""

import argparse, json, tempfile, time
from dataclasses import replace
from pathlib import Path
from .common import ROOT, machine

RUNS_DIR = ROOT / "reports" / "seeds"  # one JSON per run
CODE = "ranker"  # the module whose code (with what it imports) a run depends on: bench/run.py flags runs made on other code
VERSUS = ("repurchase_decayed", "blend")  # issue 6 measures the ranker against these (real sample, synthetic default)


def main(params: str, seeds: int, out: Path, metrics: Path | None = None):
    import numpy as np
    from hm_recsys.config import code_digest, load_config, write_json
    from hm_recsys.etl import load_processed
    from hm_recsys.evaluation import evaluate
    from hm_recsys.ranker import Ranker, chosen_settings

    if seeds < 1:
        raise ValueError(f"seeds={seeds}: refit with at least 1 seed.")
    cfg = load_config(params)
    metrics = Path(metrics or cfg.reports_path / "metrics.json")
    if not metrics.exists():
        raise FileNotFoundError(f"No {metrics}: run `make all PARAMS=...` for {params} first.")
    committed = json.loads(metrics.read_text())["recommenders"]
    if missing := [n for n in ("ranker", *VERSUS) if n not in committed]:
        raise ValueError(f"{metrics} has no {missing}: rerun 06_leaderboard.")
    tables, settings, t0 = load_processed(cfg), chosen_settings(cfg), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        score = lambda seed: evaluate(
            {"ranker": Ranker(replace(cfg, root=Path(tmp), seed=seed), **settings)},
            tables,
            k_candidates=None,
            n_boot=10,
            verbose=False,
        )["ranker"]["map@12"]
        maps = np.array([score(seed) for seed in range(1, seeds + 1)])

    def versus(name: str) -> dict:
        "The heuristic's MAP@12, and the seeds' mean, lowest and highest MAP@12 over it."
        base = committed[name]["map@12"]
        return {
            "map@12": round(base, 5),
            **{
                f"ratio {s}": round(float(f(maps)) / base, 4)
                for s, f in (("mean", np.mean), ("min", np.min), ("max", np.max))
            },
        }

    result = dict(
        params=cfg.dataset,
        settings=settings,
        seeds=list(range(1, seeds + 1)),
        **{"map@12": [round(float(m), 5) for m in maps]},
        mean=round(float(maps.mean()), 5),
        sd=round(float(maps.std(ddof=1)), 5) if seeds > 1 else None,
        committed={"seed": cfg.seed, "map@12": round(committed["ranker"]["map@12"], 5)},
        versus={n: versus(n) for n in VERSUS},
        seconds=round(time.perf_counter() - t0, 1),
        code=code_digest(CODE),
        machine=machine(),
    )
    write_json(result, out)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.seeds", description=__doc__.splitlines()[0])
    ap.add_argument("params")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    main(a.params, a.seeds, a.out or RUNS_DIR / f"{Path(a.params).stem}.json")
