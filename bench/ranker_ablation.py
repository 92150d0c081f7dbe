"""Ranker ablation: what other settings, candidate sources and features would be worth, by validation and test MAP@12.

Each variant changes one thing in the ranker that 05c chose (`ranker.chosen_settings`): a LightGBM or sampling setting
(`RANKER_DEFAULTS`), a candidate source's size or window (`CANDIDATE_DEFAULTS`), or extra features computed, like the
others, from the rows before each cutoff. It is fit at the validation and at the test cutoff and scored on each window
as served (the cold policy of the settings), for all buyers and for those with a purchase before the cutoff (warm). The fits go to a
temporary folder, so the run's fit cache stays as it is; it starts with links to the run's two-tower fits (where the
chosen ranker uses the two-tower source), which no variant changes. `make all` for the params file first.
    .venv/bin/python -m bench.ranker_ablation --params real-sample --out reports/real-sample/ranker-ablation.json
Not a test; about 10 minutes on the real sample, an hour on the default (2 cores)."""

import argparse, json, tempfile, time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
import numpy as np, pandas as pd
from .common import machine
from hm_recsys import ranker as R
from hm_recsys.candidates import pair_keys
from hm_recsys.config import code_digest, load_config, write_json
from hm_recsys.etl import load_processed
from hm_recsys.evaluation import Popularity, evaluate
from hm_recsys.model import fits_dir

CODE = "ranker"  # the module whose code (with what it imports) a run depends on: bench/run.py flags runs made on other code


def last_purchase(fc, x, cfg) -> dict:
    "Of the customer's last day with the candidate: units, price paid over its last price, online share, basket size, same-code articles in it; and distinct days bought."
    n, h = len(fc.articles), fc.cand.rows(x.customer_idx.unique())
    code = fc.groups["code"][h.article_idx.to_numpy()]
    h = h.assign(
        key=pair_keys(h.customer_idx, h.article_idx, n),
        online=(h.sales_channel_id == 2).astype("float32"),
        basket=h.groupby(["customer_idx", "t_dat"]).article_idx.transform("nunique"),
        same_code=h.groupby([h.customer_idx, h.t_dat, code]).article_idx.transform("nunique"),
    )
    pair = h.groupby("key")
    last = (
        h[h.t_dat.to_numpy() == pair.t_dat.transform("max").to_numpy()]
        .groupby("key")
        .agg(
            units=("quantity", "sum"),
            price=("price", "mean"),
            online=("online", "mean"),
            basket=("basket", "first"),
            same_code=("same_code", "first"),
        )
    )
    last["days"] = pair.t_dat.nunique()
    pos = last.index.get_indexer(pair_keys(x.customer_idx, x.article_idx, n))  # -1: never bought, NaN
    f = {f"last_{c}": np.append(last[c].to_numpy("float32"), np.float32(np.nan))[pos] for c in last.columns}
    f["last_price"] = f["last_price"] / x.item_price_last.to_numpy("float32")
    return f


def shares(fc, x, cfg) -> dict:
    "The candidate's, its product code's, department's and type's units over the customer's: in 7 days, and in 90 over all."
    f = {
        f"cust_{g}_share_7d": x[f"cust_{g}_7d"] / (x.customer_units_7d + 1e-3) for g in ("item", "code", "dept", "type")
    }
    return f | {
        f"cust_{g}_share_90d": x[f"cust_{g}_90d"] / (x.customer_units + 1e-3) for g in ("item", "code", "dept", "type")
    }


def ranks(fc, x, cfg) -> dict:
    "Ranks within the customer's candidates of the decayed history with the article and its code, and of the article's sales."
    cols = ("cust_item_decayed", "cust_code_decayed", "item_units_1d", "item_units_7d", "item_units_decayed")
    return {
        f"rank_{c}": x.groupby("customer_idx")[c].rank(ascending=False, method="min").astype("float32") for c in cols
    }


def discount(fc, x, cfg) -> dict:
    "The article's last price over its mean price, and its gap to the customer's mean price."
    return {
        "item_discount": x.item_price_last / x.item_price_mean,
        "price_gap_last": x.item_price_last - x.customer_mean_price,
    }


EDGES = np.array([1, 2, 3, 5, 7, 14, 21, 30, 60, 90, 180, 365])  # days since the customer last bought the article


def hazard_table(h: pd.DataFrame, cutoff, group: np.ndarray, days: int, m: float = 20.0) -> np.ndarray:
    "Per (group, bucket of days since): the smoothed share of a next-window buyer's past articles bought again, on 28 days of pseudo-cutoffs before `cutoff`."
    nb, n = len(EDGES) + 1, len(group)
    num, den = np.zeros((group.max() + 1, nb)), np.zeros((group.max() + 1, nb))
    for k in range(1, max(28 // days, 4) + 1):
        p = pd.Timestamp(cutoff) - pd.Timedelta(days=days * k)
        before, after = h[h.t_dat < p], h[(h.t_dat >= p) & (h.t_dat < p + pd.Timedelta(days=days))]
        last = (
            before[before.customer_idx.isin(after.customer_idx.unique())]
            .groupby(["customer_idx", "article_idx"])
            .t_dat.max()
            .reset_index()
        )
        c, a = last.customer_idx.to_numpy("int64"), last.article_idx.to_numpy("int64")
        y = np.isin(
            pair_keys(c, a, n), pair_keys(after.customer_idx.to_numpy("int64"), after.article_idx.to_numpy("int64"), n)
        )
        cell = (group[a], np.searchsorted(EDGES, (p - last.t_dat).dt.days.to_numpy()))
        np.add.at(num, cell, y)
        np.add.at(den, cell, 1)
    prior = num.sum(0) / np.maximum(den.sum(0), 1)
    return (num + m * prior) / (den + m)


def rebuy_hazard(fc, x, cfg) -> dict:
    "The `hazard_table` rate of the candidate's product type and of its product code, at the days since the customer last bought it."
    d, a, f = x.cust_item_days_since.to_numpy(), x.article_idx.to_numpy(), {}
    ok = ~np.isnan(d)
    for g in ("type", "code"):
        if not hasattr(fc, f"hazard_{g}"):
            setattr(fc, f"hazard_{g}", hazard_table(fc.cand.h, fc.cand.cutoff, fc.groups[g], cfg.test_days))
        v = np.full(len(x), np.nan, "float32")
        v[ok] = getattr(fc, f"hazard_{g}")[fc.groups[g][a[ok]], np.searchsorted(EDGES, d[ok].astype("int64"))]
        f[f"rebuy_hazard_{g}"] = v
    return f


# name: (kind, change): ranker settings, candidate settings, or a function of (FeatureContext, features, Config) -> new columns
VARIANTS = {
    "as chosen": ("settings", {}),
    "two-tower source": ("settings", dict(two_tower=True)),
    "400 rounds at rate 0.03": ("settings", dict(num_boost_round=400, learning_rate=0.03)),
    "63 leaves of at least 50 rows": ("settings", dict(num_leaves=63, min_data_in_leaf=50)),
    "feature fraction 0.8": ("settings", dict(feature_fraction=0.8)),
    "every negative kept": ("settings", dict(neg_rate=1.0)),
    "30 training windows": ("settings", dict(train_windows=30)),
    "more co-purchase candidates": ("candidates", dict(copurchase=120, cooc_neighbours=60, cooc_seeds=40)),
    "more popularity candidates": ("candidates", dict(age=60, popular=60)),
    "co-purchase over 7 days": ("candidates", dict(cooc_days=7)),
    "repurchase half-life 3 days": ("candidates", dict(half_life=3.0)),
    "last purchase details": ("features", last_purchase),
    "within-customer shares": ("features", shares),
    "within-customer ranks": ("features", ranks),
    "discount": ("features", discount),
    "rebuy hazard": ("features", rebuy_hazard),
}


@contextmanager
def extra_features(fn, cfg):
    "`ranker_features` with the columns of `fn(fc, x, cfg)` added, for the duration of the block."
    base = R.ranker_features

    def features(fc, customer_idx):
        x = base(fc, customer_idx)
        return x.assign(**fn(fc, x, cfg)) if fn else x

    R.ranker_features = features
    try:
        yield
    finally:
        R.ranker_features = base


def variant(cfg, tables, settings: dict, kind: str, change) -> dict:
    "MAP@12 as served, and of the warm buyers, on the validation and the test window, of the chosen ranker with `change`."
    s, t0, out = tables.split, time.perf_counter(), {}
    with tempfile.TemporaryDirectory() as tmp, extra_features(change if kind == "features" else None, cfg):
        local = replace(cfg, root=Path(tmp))
        fits_dir(local).mkdir(parents=True)
        for f in fits_dir(cfg).glob("two_tower-*"):
            (fits_dir(local) / f.name).symlink_to(f.resolve())
        for window, (a, b) in {"validation": (s.val_start, s.test_start), "test": (s.test_start, s.test_end)}.items():
            r = R.Ranker(local, **settings | (change if kind == "settings" else {}))
            if kind == "candidates":
                r.cp = r.cp | change
            res = evaluate(
                {"ranker": r, "fill": Popularity(cfg.pop_days, decay=True)},
                tables,
                a,
                b,
                k_candidates=None,
                n_boot=10,
                verbose=False,
            )
            out[window] = round(res["ranker"]["map@12"], 5)  # as served: `cold` is one of the settings
            out[f"{window} warm"] = round(res["ranker"]["segments"]["warm"]["map@12"], 5)
    return out | {"seconds": round(time.perf_counter() - t0, 1)}


def main(params: str, names: list[str] | None = None, out: Path | None = None, settings: dict | None = None) -> dict:
    "Score `names` of `VARIANTS` (default: all) on `params`, from 05c's chosen `settings` unless given; write JSON to `out`."
    names = names or list(VARIANTS)
    if bad := [n for n in names if n not in VARIANTS]:
        raise ValueError(f"unknown variant(s) {bad}; known: {list(VARIANTS)}")
    cfg = load_config(params)
    settings = R.chosen_settings(cfg) if settings is None else settings
    if not settings:
        raise FileNotFoundError(f"No ranker settings for {params}: run `make all PARAMS={params}` (05c_ranker) first.")
    tables, runs = load_processed(cfg), {}
    for name in names:
        kind, change = VARIANTS[name]
        runs[name] = {
            "kind": kind,
            "change": change.__doc__ if callable(change) else change,
            **variant(cfg, tables, settings, kind, change),
        }
        print(json.dumps({name: runs[name]}), flush=True)
    result = {"params": params, "settings": settings, "code": code_digest(CODE), "machine": machine(), "variants": runs}
    if out:
        write_json(result, out)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.ranker_ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="real-sample")
    ap.add_argument("--variants", default="", help="comma-separated names of VARIANTS (default: all)")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    a = ap.parse_args()
    main(a.params, a.variants.split(",") if a.variants else None, a.out)
