"""Two-tower ablation: what each training setting is worth, by validation and test MAP@12 of the model's own top 12.

For each variant (model settings over the params file's), a model is trained on the rows before the validation window
for up to `--epochs` epochs, keeping the epoch of best validation MAP@12; then a model with those epochs is refitted on
every row before the test window and scored there (all test customers, and the warm / cold segments).
    .venv/bin/python -m bench.ablation --params real-sample --out reports/real-sample/ablation.json
Not a test; minutes on the real sample (2 cores)."""

import argparse, json, time
import numpy as np, torch
from .common import machine
from hm_recsys.config import code_digest, load_config, write_json
from hm_recsys.etl import load_processed
from hm_recsys.evaluation import customer_metrics, window_truth
from hm_recsys.etl import history
from hm_recsys.index import TwoTowerRecommender
from hm_recsys.model import build_model, model_params, train, training_pairs

CODE = "index"  # the module whose code (with what it imports: the model, evaluation) a run depends on: bench/run.py flags runs made on other code
VARIANTS = {
    "no basket context": dict(basket_context=False),
    "basket context": dict(basket_dropout=0.0),
    "basket context on half the rows": dict(basket_dropout=0.5),
}


def map12(model, tables, start, end) -> dict:
    "MAP@12 of the `two_tower` recommender on this model (exact FAISS top 12) on [start, end): all buyers, warm and cold."
    truth, seen = window_truth(tables.transactions, start, end), history(tables.transactions, start)
    top = TwoTowerRecommender(model.params, fitted=(model, {})).fit(tables, start).recommend(truth.customers)
    ap, warm = customer_metrics(top, truth)["ap"], np.isin(truth.customers, seen.customer_idx.unique())
    return {
        "all": round(float(ap.mean()), 5),
        "warm": round(float(ap[warm].mean()), 5),
        "cold": round(float(ap[~warm].mean()), 5),
    }


def variant(tables, p: dict, epochs: int, seed: int) -> dict:
    "Validation curve, best epoch, and the test MAP@12 of a refit with that many epochs."
    s, t0 = tables.split, time.perf_counter()
    torch.manual_seed(seed)
    model = build_model(tables, s.val_start, p)
    curve = train(
        model,
        training_pairs(tables.transactions, s.val_start, p),
        p,
        epochs,
        seed,
        lambda ep: map12(model, tables, s.val_start, s.test_start)["all"],
    )
    best = int(np.argmax(curve)) + 1
    torch.manual_seed(seed)
    model = build_model(tables, s.test_start, p)
    train(model, training_pairs(tables.transactions, s.test_start, p), p, best, seed)
    return {
        "validation_map@12": curve,
        "best_epoch": best,
        "test_map@12": map12(model, tables, s.test_start, s.test_end),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="real-sample")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names of VARIANTS")
    ap.add_argument("--out", default="", help="write the results as JSON here")
    a = ap.parse_args()
    cfg = load_config(a.params)
    tables = load_processed(cfg)
    base = model_params(cfg)
    out = {}
    for name in a.variants.split(","):
        out[name] = {"settings": VARIANTS[name], **variant(tables, {**base, **VARIANTS[name]}, a.epochs, cfg.seed)}
        print(json.dumps({name: out[name]}), flush=True)
    if a.out:
        write_json(
            {"params": a.params, "code": code_digest(CODE), "machine": machine(), "epochs": a.epochs, "variants": out},
            a.out,
        )


if __name__ == "__main__":
    main()
