"""Cross-fit bound: how much the ranker of a run loses because its training days differ from the test window.

The served buyers of the test window (a sample of at most 10,000) fall into 5 folds; for each fold, the ranker's
settings (`ranker.chosen_settings`) learn from the shipped fit's training rows plus the labelled candidates of the other
folds' buyers (negatives sampled as in `Ranker.training_table`), and score the fold. With labels from the very window
it is scored on, this is a bound, not a result: it stays out of the leaderboard, and nothing served can call it. It
needs 5 LightGBM fits, so it runs here rather than in `make all`; `05c_ranker` shows its figures when they exist.
The shipped ranker is loaded from the run's fit cache; the 5 refits are not stored.
    .venv/bin/python -m bench.crossfit --params real-sample   # reports/real-sample/crossfit.json, about 1 minute
    .venv/bin/python -m bench.crossfit --params default       # reports/crossfit.json, about 4 minutes (2 cores)"""

import argparse, time
from pathlib import Path
import lightgbm as lgb, numpy as np, pandas as pd
from .common import machine
from hm_recsys.candidates import truth_keys
from hm_recsys.config import code_digest, load_config, write_json
from hm_recsys.etl import load_processed
from hm_recsys.evaluation import customer_metrics, window_truth
from hm_recsys.ranker import Ranker, chosen_settings, ranker_features, training_rows

CODE = "ranker"  # the module whose code (with what it imports) a run depends on: bench/run.py flags runs made on other code
FILE = "crossfit.json"


class Refit(Ranker):
    "The shipped `ranker` retrained with its settings on the labelled `rows`, serving from its candidates and fill."

    def __init__(self, ranker: Ranker, rows: pd.DataFrame):
        super().__init__(ranker.cfg, **ranker.p)
        self.rows, self.fc, self.fill, self._cache = rows, ranker.fc, ranker.fill, (None, None)
        s = self.train(None, None)
        self.model, self.features = lgb.Booster(model_str=s["model"]), s["features"]

    def training_table(self, tables, cutoff) -> pd.DataFrame:
        return self.rows


def crossfit(cfg, tables, settings: dict, folds: int = 5, sample: int = 10_000) -> dict:
    "MAP@12 of the sampled served test buyers as shipped and cross-fitted, and over all buyers (the others as shipped)."
    split, n = tables.split, len(tables.articles)
    ranker = Ranker(cfg, **settings).fit(tables, split.test_start)
    truth = window_truth(tables.transactions, split.test_start, split.test_end)
    on = ~ranker.cold(truth.customers)
    preds = ranker.recommend(truth.customers)
    shipped = customer_metrics(preds, truth)["ap"]
    past = ranker.windows_table(tables, split.test_start)  # the shipped fit's rows, rebuilt
    rng = np.random.default_rng(cfg.seed)
    who = np.sort(rng.permutation(truth.customers[on])[:sample])
    fold = np.full(len(tables.customers), -1)
    fold[who] = rng.integers(0, folds, len(who))  # -1: outside the sample
    x, tkey = ranker_features(ranker.fc, who), truth_keys(truth, n)
    lists, cf = preds.copy(), fold[truth.customers]
    # each fold scored by a refit on the other folds' candidates, labelled by the test window as the windows are labelled
    for f in range(folds):
        t = training_rows(x[fold[x.customer_idx.to_numpy()] != f], tkey, n, ranker.p["neg_rate"], rng)
        rows = pd.concat([past, t.assign(query=-1 - t.customer_idx)], ignore_index=True)
        lists[cf == f] = Refit(ranker, rows).recommend(truth.customers[cf == f])
    fit, mine = customer_metrics(lists, truth)["ap"], cf >= 0
    return {
        "buyers": int(mine.sum()),
        "shipped": float(shipped[mine].mean()),
        "crossfit": float(fit[mine].mean()),
        "all shipped": float(shipped.mean()),
        "all crossfit": float(fit.mean()),
    }


def main(params: str, out: Path | None = None) -> dict:
    cfg, t0 = load_config(params), time.perf_counter()
    if not (settings := chosen_settings(cfg)):
        raise FileNotFoundError(f"No ranker settings for {params}: run `make all PARAMS={params}` (05c_ranker) first.")
    result = crossfit(cfg, load_processed(cfg), settings)
    result |= {"params": params, "seconds": round(time.perf_counter() - t0, 1), "code": code_digest(CODE)}
    write_json(result | {"machine": machine()}, out or cfg.reports_path / FILE)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.crossfit", description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="real-sample")
    ap.add_argument("--out", type=Path, help="where to write the JSON (default: the run's reports folder)")
    a = ap.parse_args()
    print(main(a.params, a.out))
