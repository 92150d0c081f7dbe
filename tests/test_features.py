"Features: strictly before the cutoff, stored atomically per cutoff, read back unchanged."

from dataclasses import replace
import numpy as np, pandas as pd
from hm_recsys.config import load_config
from hm_recsys.etl import Tables, Split
from hm_recsys.etl import history
from hm_recsys.features import age_bucket, build_features, load_features, features_path


def toy_tables():
    rows = [("2020-09-10", 0, 1, 1), ("2020-09-20", 0, 2, 3), ("2020-09-21", 1, 2, 1), ("2020-09-22", 1, 0, 5)]
    tx = pd.DataFrame(rows, columns=["t_dat", "customer_idx", "article_idx", "quantity"]).assign(
        t_dat=lambda d: pd.to_datetime(d.t_dat), price=np.float32(0.02), sales_channel_id=np.int8(2)
    )
    arts = pd.DataFrame(
        {
            "article_idx": np.arange(3, dtype="int32"),
            "article_id": ["01", "02", "03"],
            "product_code": [1, 1, 2],
            "index_code": ["A", "B", "A"],
            "detail_desc": ["x", "y", "z"],
        }
    )
    cus = pd.DataFrame(
        {
            "customer_idx": np.arange(3, dtype="int32"),
            "has_profile": [True, True, False],
            "age": [22.0, 51.0, np.nan],
            "FN": np.int8(0),
            "Active": np.int8(0),
            "club_member_status": ["ACTIVE", None, None],
            "fashion_news_frequency": ["NONE", None, None],
        }
    )
    return Tables(
        arts, cus, tx, Split(pd.Timestamp("2020-09-21"), pd.Timestamp("2020-09-22"), pd.Timestamp("2020-09-23"))
    )


def test_features_ignore_the_cutoff_day_and_round_trip(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = replace(load_config("tiny"), root=tmp_path)
    t, cut = toy_tables(), pd.Timestamp("2020-09-22")
    f = build_features(t, cut, cfg)
    assert f.articles.units.tolist() == [0, 1, 4]  # the 5 units of the 22nd are not seen
    assert f.customers.units.tolist() == [4, 1, 0]
    assert f.customers.days_since_last.tolist()[:2] == [2, 1]
    assert [list(s) for s in f.customers.seq_articles] == [[2, 1], [2], []]
    assert f.customers.age_bucket.tolist() == age_bucket([22, 51, np.nan]).tolist()
    assert f.articles.index_code.tolist() == [0, 1, 0] and "detail_desc" not in f.articles
    assert f.pop_recent.article_idx.tolist() == [2]  # tiny: pop_days 7, 2020-09-15..21
    early = build_features(replace(t, transactions=history(t.transactions, cut)), cut, cfg)
    pd.testing.assert_frame_equal(early.articles, f.articles)
    assert sorted(p.name for p in features_path(cfg, cut).iterdir()) == sorted(
        f"{n}.parquet" for n in ("customers", "articles", "pop_recent", "pop_decayed", "pop_age")
    )
    back = load_features(cfg, cut)
    pd.testing.assert_frame_equal(back.articles, f.articles)
    assert [list(s) for s in back.customers.seq_articles] == [[2, 1], [2], []]
