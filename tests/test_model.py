"Two-tower model, FAISS index, recommenders and registry on the tiny synthetic data."

import json, os, subprocess, sys
import numpy as np, pytest, torch
from hm_recsys.config import load_config, write_json
from hm_recsys.etl import run_etl
from hm_recsys.model import History, article_embeddings, customer_embeddings, day_number, fit_two_tower, model_params
from hm_recsys.baselines import BlendRecommender
from hm_recsys.index import TwoTowerRecommender, brute_force_topk, build_index, same_topk
from hm_recsys.registry import load_registry, save_registry


@pytest.fixture(scope="module")
def setup():
    cfg = load_config("tiny")
    tables = run_etl(cfg)
    p = {**model_params(cfg), "epochs": 1}
    return cfg, tables, p


@pytest.fixture(scope="module")
def fitted(setup):
    cfg, tables, p = setup
    return TwoTowerRecommender(p, cfg.seed).fit(tables, tables.split.test_start)


def test_history_is_strictly_before_the_day(setup):
    _, tables, _ = setup
    tx = tables.transactions
    c = tx.customer_idx.iloc[-1]
    day = tx.t_dat.iloc[-1]
    art, w = History.from_tx(tx).before([c], day_number(day), 50, 30.0)
    past = tx[(tx.customer_idx == c) & (tx.t_dat < day)]
    assert set(art[0][art[0] >= 0]) == set(past.article_idx.tail(50))
    assert np.isclose(w.sum(), 1.0) or len(past) == 0


def test_deterministic_for_a_seed(setup):
    cfg, tables, p = setup
    a, b = (article_embeddings(fit_two_tower(tables, tables.split.val_start, p, cfg.seed)[0]) for _ in range(2))
    np.testing.assert_array_equal(a, b)


def test_mkl_threads_do_not_follow_the_load():
    "With MKL's dynamic threads a fit depended on what else ran (04_model, Training): importing the model turns them off."
    env = {k: v for k, v in os.environ.items() if k != "MKL_DYNAMIC"}
    out = subprocess.run(
        [sys.executable, "-c", 'import os, hm_recsys.model; print(os.environ["MKL_DYNAMIC"])'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "FALSE"


def test_new_article_embedded_from_attributes(fitted):
    m = fitted.model
    codes = m.art_codes.numpy()
    new = int(np.flatnonzero(codes[:, 0] == 0)[0])
    before = article_embeddings(m)[new]
    with torch.no_grad():
        m.art_embs[0].weight[new + 1] += 10.0  # its own id row is never read
    assert np.isfinite(before).all() and np.allclose(article_embeddings(m)[new], before)
    with torch.no_grad():
        m.art_embs[0].weight[new + 1] -= 10.0


def test_faiss_exact_equals_numpy(fitted):
    emb = fitted.emb
    q = fitted.embed(np.arange(50))
    fs, fi = build_index(emb).search(q, 100)
    ns, ni = brute_force_topk(emb, q, 100)
    assert same_topk(fi, ni, ns) and np.allclose(fs, ns, atol=1e-4)


def test_recommenders_follow_the_interface(setup, fitted):
    cfg, tables, p = setup
    c = np.arange(20)
    for rec in (fitted, BlendRecommender(fitted, cfg.pop_days).fit(tables, fitted.cutoff)):
        r = rec.recommend(c, 12)
        assert r.dtype == np.int32 and r.shape == (20, 12) and (r >= -1).all()
        assert all(len(set(x[x >= 0])) == (x >= 0).sum() for x in r)
        np.testing.assert_array_equal(r, rec.recommend(c, 12))


def test_registry_round_trip_and_errors(setup, fitted, tmp_path):
    cfg, tables, _ = setup
    path = save_registry(cfg, tables, fitted, path=tmp_path / "registry")
    reg = load_registry(path)
    np.testing.assert_array_equal(article_embeddings(reg.model), fitted.emb)
    q = customer_embeddings(reg.model, np.arange(10), reg.history(), fitted.cutoff)
    np.testing.assert_array_equal(reg.search(q, 12)[1], fitted.recommend(np.arange(10), 12))
    meta = json.loads((path / "metadata.json").read_text())
    write_json({**meta, "format_version": 99}, path / "metadata.json")
    with pytest.raises(ValueError, match="format_version 99"):
        load_registry(path)
    (path / "weights.pt").unlink()
    with pytest.raises(FileNotFoundError, match="weights.pt missing"):
        load_registry(path)
