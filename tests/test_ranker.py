"Candidates and ranker on the tiny preset: no leakage across the cutoff, repurchases retrieved, reproducible fits."

from dataclasses import replace
import numpy as np, pandas as pd, pytest
from hm_recsys.candidates import CandidateContext, candidate_params, candidates
from hm_recsys.config import load_config
from hm_recsys.etl import history, run_etl
from hm_recsys.ranker import Ranker

FAST = dict(train_windows=1, num_boost_round=10)


@pytest.fixture(scope="module")
def run():
    cfg = load_config("tiny")
    return cfg, run_etl(cfg)


def buyers(tables, start, end):
    tx = tables.transactions
    return np.unique(tx[(tx.t_dat >= start) & (tx.t_dat < end)].customer_idx.to_numpy())


def test_training_windows_end_by_the_cutoff(run):
    cfg, tables = run
    cut, day = tables.split.test_start, pd.Timedelta(days=cfg.test_days)
    windows = Ranker(cfg, train_windows=3).windows(cut)
    assert windows == [(cut - day, cut), (cut - 2 * day, cut - day), (cut - 3 * day, cut - 2 * day)]


def test_fit_reads_nothing_from_the_cutoff_on(run):
    "Same model and recommendations whether the tables hold the rows from the cutoff on or not."
    cfg, tables = run
    cut, c = tables.split.val_start, buyers(tables, tables.split.val_start, tables.split.test_start)
    full = Ranker(cfg, **FAST).fit(tables, cut)
    past = Ranker(cfg, **FAST).fit(replace(tables, transactions=history(tables.transactions, cut)), cut)
    assert full.model.model_to_string() == past.model.model_to_string()
    np.testing.assert_array_equal(full.recommend(c), past.recommend(c))


def test_candidates_include_repurchases(run):
    cfg, tables = run
    cut = tables.split.test_start
    past = history(tables.transactions, cut)
    c = np.intersect1d(buyers(tables, cut, tables.split.test_end), past.customer_idx.unique())
    x = candidates(CandidateContext(tables, cut, candidate_params(cfg)), c)
    last = past[past.customer_idx.isin(c)].sort_values("t_dat").groupby("customer_idx").article_idx.last()
    got = x.set_index(["customer_idx", "article_idx"]).repurchase_rank
    assert got.reindex(list(last.items())).notna().all()  # every customer's latest article is a candidate
    assert (
        set(x.customer_idx) <= set(c)
        and x.groupby("customer_idx")["rank"].apply(lambda r: (np.diff(r) == 1).all()).all()
    )


def test_deterministic(run):
    cfg, tables = run
    cut, c = tables.split.test_start, buyers(tables, tables.split.test_start, tables.split.test_end)
    a, b = (Ranker(cfg, **FAST).fit(tables, cut) for _ in range(2))
    assert a.model.model_to_string() == b.model.model_to_string()
    np.testing.assert_array_equal(a.recommend(c), b.recommend(c))
    recs = a.recommend(c, k=12)
    assert recs.dtype == np.int32 and recs.shape == (len(c), 12) and (recs >= 0).all()


def test_default_windows(run):
    cfg, tables = run
    cut = tables.split.test_start
    assert len(Ranker(cfg).windows(cut)) == 2  # weekly windows: at least two
    assert len(Ranker(replace(cfg, test_days=1)).windows(cut)) == 5  # daily windows: 5 days of labels


def test_two_tower_source(run):
    "With `two_tower`, a model fit at each window start (epochs tuned once) feeds a source and its scores."
    cfg, tables = run
    cut = tables.split.test_start
    r = Ranker(cfg, two_tower=True, **FAST).fit(tables, cut)
    assert r.tt_epochs > 0 and {"two_tower_rank", "two_tower_score", "two_tower_sim"} <= set(r.features)
    assert r.recommend(buyers(tables, cut, tables.split.test_end)).shape[1] == 12


def test_a_shared_store_changes_nothing(run, tmp_path):
    "Rankers that share a store (05c's two objectives) fit and rank as each would alone; the store builds one table."
    cfg, tables = run
    cut, c = tables.split.val_start, buyers(tables, tables.split.val_start, tables.split.test_start)
    store, objectives = {}, ("binary", "lambdarank")
    shared = [
        Ranker(replace(cfg, root=tmp_path / "shared"), store, objective=o, **FAST).fit(tables, cut) for o in objectives
    ]
    alone = [Ranker(replace(cfg, root=tmp_path / "alone"), objective=o, **FAST).fit(tables, cut) for o in objectives]
    assert sorted(k[0] for k in store) == ["context", "table"]
    assert shared[0].model.model_to_string() != shared[1].model.model_to_string()
    for s, a in zip(shared, alone):
        assert s.model.model_to_string() == a.model.model_to_string() and s.train_rows == a.train_rows
        np.testing.assert_array_equal(s.recommend(c), a.recommend(c))
    other = Ranker(cfg, store, neg_rate=0.5, **FAST)  # other training rows: not shared
    assert other.shared("table", cut, lambda: "built") == "built" and len(store) == 3
