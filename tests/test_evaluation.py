"The evaluation harness: metrics against hand-computed cases and the reference `apk`, and the real-sample reference figures."

from pathlib import Path
import numpy as np, pytest
from hm_recsys.evaluation import (
    Truth,
    customer_metrics,
    bootstrap_ci,
    merge_lists,
    evaluate,
    Popularity,
    RepurchaseDecayed,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "hm-real-sample"


def apk(actual, predicted, k=12):
    "The classic ml_metrics / Kaggle reference."
    predicted = list(predicted)[:k]
    score, num_hits = 0.0, 0.0
    for i, p in enumerate(predicted):
        if p in actual and p not in predicted[:i]:
            num_hits += 1.0
            score += num_hits / (i + 1.0)
    return score / min(len(actual), k) if actual else 0.0


def test_hand_computed():
    truth = Truth.from_lists([0, 1, 2, 3], [[1, 2], [4], list(range(100, 113)), [7]])
    p = np.full((4, 12), -1)
    p[0, :3] = [1, 9, 2]  # hits at 1 and 3: (1 + 2/3) / 2
    p[1, :2] = [4, 4]  # a repeat counts once
    p[2] = range(100, 112)  # 12 of 13 bought: AP divides by min(13, 12)
    p[3, :3] = [5, 6, 8]  # no hit
    m = customer_metrics(p, truth)
    np.testing.assert_allclose(m["ap"], [5 / 6, 1, 1, 0])
    np.testing.assert_allclose(m["recall"], [1, 1, 12 / 13, 0])
    np.testing.assert_allclose(m["hit"], [1, 1, 1, 0])
    np.testing.assert_allclose(m["ndcg"][:2], [(1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3)), 1])
    np.testing.assert_allclose(customer_metrics(np.array([[9, 8, 1]]), Truth.from_lists([0], [[1]]))["ap"], [1 / 3])


@pytest.mark.parametrize("seed", range(3))
def test_matches_reference_apk(seed):
    rng = np.random.default_rng(seed)
    n, n_items = 2000, 25
    actual = [sorted(set(rng.integers(0, n_items, rng.integers(1, 20)).tolist())) for _ in range(n)]
    pred = rng.integers(-1, n_items, (n, 12))
    got = customer_metrics(pred, Truth.from_lists(np.arange(n), actual))["ap"]
    np.testing.assert_allclose(got, [apk(a, p) for a, p in zip(actual, pred)], rtol=0, atol=1e-12)


def test_truth_rows_must_match():
    with pytest.raises(ValueError, match="prediction rows"):
        customer_metrics(np.zeros((2, 12), int), Truth.from_lists([0], [[1]]))


def test_bootstrap_is_seeded():
    v = np.random.default_rng(0).random(5000)
    lo, hi = bootstrap_ci(v, n_boot=200, seed=1)
    assert lo < v.mean() < hi and bootstrap_ci(v, n_boot=200, seed=1) == [lo, hi]


def test_merge_lists_fills_without_repeats():
    got = merge_lists(np.array([[3, -1, 3], [-1, -1, -1]]), np.array([[1, 3, 2], [1, 3, 2]]), k=4)
    np.testing.assert_array_equal(got, [[3, 1, 2, -1], [1, 3, 2, -1]])
    assert got.dtype == np.int32


@pytest.fixture(scope="module")
def real_tables():
    if not (REAL / "transactions_train.csv").exists():
        pytest.skip(f"real H&M sample not found at {REAL}")
    from hm_recsys.config import load_config
    from hm_recsys.etl import run_etl

    return run_etl(load_config("real-sample", data_dir=str(REAL)))


def test_real_sample_reference_figures(real_tables):
    "README of hm-real-sample: the harness must reproduce the independent figures to within 1% (relative)."
    split = real_tables.split
    assert str(split.test_start.date()) == "2020-09-22"
    res = evaluate(
        {
            "popularity": Popularity(6),
            "decayed_popularity": Popularity(6, decay=True),
            "repurchase_decayed": RepurchaseDecayed(6),
        },
        real_tables,
        k_candidates=None,
        n_boot=10,
        verbose=False,
    )
    assert res["popularity"]["customers"] == 5237
    assert res["popularity"]["segments"]["warm"]["customers"] == 1037
    for name, ref in {"popularity": 0.00699, "decayed_popularity": 0.00824, "repurchase_decayed": 0.03728}.items():
        assert res[name]["map@12"] == pytest.approx(ref, rel=0.01), name
    assert res["repurchase_decayed"]["segments"]["warm"]["map@12"] == pytest.approx(0.1553, rel=0.01)


def toy_tables():
    "6 articles, 4 customers (ages 22, 50, missing, 23); cutoff 2020-09-22, one test day."
    import pandas as pd
    from hm_recsys.etl import Tables, Split

    rows = [
        ("2020-09-10", 0, 5, 1),
        ("2020-09-20", 0, 1, 1),
        ("2020-09-20", 0, 2, 3),  # 0: old 5; 1 and 2 on the 20th, 2 more units
        ("2020-09-21", 1, 3, 1),
        ("2020-09-16", 1, 4, 2),
        ("2020-09-21", 3, 3, 1),
        ("2020-09-16", 2, 4, 1),
        ("2020-09-22", 2, 0, 9),
        ("2020-09-22", 0, 4, 1),
        ("2020-09-22", 2, 3, 1),
    ]
    tx = pd.DataFrame(rows, columns=["t_dat", "customer_idx", "article_idx", "quantity"]).assign(
        t_dat=lambda d: pd.to_datetime(d.t_dat), price=0.01, sales_channel_id=2
    )
    arts = pd.DataFrame({"article_idx": range(6), "article_id": [f"{i:010d}" for i in range(6)]})
    cus = pd.DataFrame({"customer_idx": range(4), "customer_id": list("abcd"), "age": [22, 50, np.nan, 23]})
    return Tables(
        arts, cus, tx, Split(pd.Timestamp("2020-09-21"), pd.Timestamp("2020-09-22"), pd.Timestamp("2020-09-23"))
    )


def test_baselines_on_toy_data():
    from hm_recsys.baselines import AgePopularity

    t, cut, c = toy_tables(), "2020-09-22", np.arange(4)
    # units in the 6 days before: 4 -> 3, 3 -> 2, 2 -> 3, 1 -> 1; the test day (article 0, 9 units) is never seen
    np.testing.assert_array_equal(Popularity(6).fit(t, cut).recommend(c, 5)[0], [2, 4, 3, 1, -1])
    # decayed: 3 -> 1 + 1, 2 -> 3/2, 1 -> 1/2, 4 -> 3/6
    np.testing.assert_array_equal(Popularity(6, decay=True).fit(t, cut).recommend(c, 4)[0], [3, 2, 1, 4])
    rep = RepurchaseDecayed(6).fit(t, cut).recommend(c, 5)
    np.testing.assert_array_equal(rep, [[2, 1, 5, 3, 4], [3, 4, 2, 1, -1], [4, 3, 2, 1, -1], [3, 2, 1, 4, -1]])
    age = AgePopularity(6).fit(t, cut).recommend(c, 3)
    # ages 22 and 23 share a bucket (2 -> 3/2, 3 -> 1, 1 -> 1/2); 50: 3 -> 1, 4 -> 2/6, then the global list; missing age: global
    np.testing.assert_array_equal(age, [[2, 3, 1], [3, 4, 2], [3, 2, 1], [2, 3, 1]])
    assert rep.dtype == np.int32


def test_evaluate_and_save_metrics(tmp_path):
    import json
    from dataclasses import replace
    from hm_recsys.config import load_config
    from hm_recsys.evaluation import save_metrics

    t = toy_tables()
    res = evaluate(
        {"popularity": Popularity(6), "repurchase_decayed": RepurchaseDecayed(6)}, t, n_boot=20, verbose=False
    )
    r = res["repurchase_decayed"]
    assert r["customers"] == 2 and r["segments"]["warm"]["customers"] == 2 and r["segments"]["cold"]["customers"] == 0
    # customer 0 bought {4}: rank 5 of [2, 1, 5, 3, 4]; customer 2 bought {0, 3}: 3 at rank 2
    assert r["map@12"] == pytest.approx((1 / 5 + (1 / 2) / 2) / 2)
    cfg = replace(load_config("tiny"), reports_dir=str(tmp_path))
    save_metrics({"popularity": res["popularity"]}, cfg, "2020-09-22", 1)
    doc = json.loads(save_metrics({"repurchase_decayed": r}, cfg, "2020-09-22", 1).read_text())
    assert list(doc) == ["dataset", "cutoff", "test_days", "recommenders"]
    assert set(doc["recommenders"]) == {"popularity", "repurchase_decayed"}
    assert set(r) >= {
        "map@12",
        "recall@12",
        "ndcg@12",
        "hitrate@12",
        "recall@100",
        "ci95",
        "segments",
        "fit_seconds",
        "recommend_seconds",
    }
