"The ETL: no leakage across the split, quantities, customers without profile, idempotence, atomicity."

import json
from dataclasses import replace
from pathlib import Path
import numpy as np, pandas as pd, pytest
from hm_recsys.config import Config
from hm_recsys.data import example_frames, load_raw, write_kaggle
from hm_recsys.etl import history, load_processed, run_etl

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "hm-real-sample"


@pytest.fixture
def cfg(tmp_path):
    raw = write_kaggle(tmp_path / "raw", example_frames(days=30))
    return Config(dataset="example", source="files", data_dir=str(raw), test_days=7, val_days=5, root=tmp_path)


def test_split_no_leakage(cfg):
    t = run_etl(cfg)
    tx, sp = t.transactions, t.split
    train, val, test = sp.train(tx), sp.val(tx), sp.test(tx)
    assert train.t_dat.max() < sp.val_start <= val.t_dat.min() <= val.t_dat.max() < sp.test_start <= test.t_dat.min()
    assert test.t_dat.max() < sp.test_end and len(train) + len(val) + len(test) == len(tx)
    assert sp.test_start == tx.t_dat.max() - pd.Timedelta(days=6) and sp.val_start == sp.test_start - pd.Timedelta(
        days=5
    )
    assert history(tx, sp.test_start).t_dat.max() < sp.test_start


def test_tables(cfg):
    t, raw = run_etl(cfg), load_raw(cfg)
    tx, cu, ar = t.transactions, t.customers, t.articles
    assert tx.quantity.sum() == len(raw.transactions) and (tx.quantity > 1).any()
    assert not tx.duplicated(["t_dat", "customer_idx", "article_idx", "price", "sales_channel_id"]).any()
    assert tx[["t_dat", "customer_idx", "article_idx"]].apply(tuple, axis=1).is_monotonic_increasing
    assert dict(tx.dtypes.astype(str)) == dict(
        t_dat="datetime64[ns]",
        customer_idx="int32",
        article_idx="int32",
        price="float32",
        sales_channel_id="int8",
        quantity="int16",
    )
    assert (ar.article_idx == np.arange(len(ar))).all() and ar.article_id.is_monotonic_increasing
    assert (cu.customer_idx == np.arange(len(cu))).all() and cu.customer_id.is_monotonic_increasing
    nop = cu[~cu.has_profile]
    assert len(nop) == raw.report["customers_without_profile"] == 1 and nop.customer_idx.isin(tx.customer_idx).all()
    assert (nop.FN == 0).all() and nop.age.isna().all() and len(cu) == len(raw.customers) + 1


def test_idempotent(cfg):
    run_etl(cfg)
    f = cfg.processed_dir / "transactions.parquet"
    stamp = f.stat().st_mtime_ns
    assert run_etl(cfg).split == load_processed(cfg).split and f.stat().st_mtime_ns == stamp
    run_etl(replace(cfg, val_days=3))
    assert f.stat().st_mtime_ns != stamp and load_processed(cfg).split.val_start == load_processed(
        cfg
    ).split.test_start - pd.Timedelta(days=3)


def test_atomic(cfg, monkeypatch):
    first = run_etl(cfg)
    orig = pd.DataFrame.to_parquet

    def failing(self, path, *a, **k):
        if "transactions" in str(path):
            raise OSError("disk full (injected)")
        return orig(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    with pytest.raises(OSError, match="injected"):
        run_etl(replace(cfg, test_days=3))
    assert [p.name for p in cfg.processed_dir.parent.iterdir()] == ["processed"]
    assert load_processed(cfg).split == first.split


def test_stray_future_date(tmp_path):
    "A row dated years after the others stops the ETL with what is wrong and how to fix it; nothing is written."
    frames = example_frames(days=30)
    tx = frames["transactions"]
    frames["transactions"] = pd.concat([tx, tx.tail(1).assign(t_dat="2030-01-01")], ignore_index=True)
    cfg = Config(
        dataset="example",
        source="files",
        data_dir=str(write_kaggle(tmp_path / "raw", frames)),
        test_days=7,
        val_days=5,
        root=tmp_path,
    )
    with pytest.raises(
        ValueError, match=r"validation window holds no purchase.*2030-01-01: 1; a date far after the others.*set cutoff"
    ):
        run_etl(cfg)
    assert not cfg.processed_dir.exists()


def test_load_processed_missing(cfg):
    with pytest.raises(FileNotFoundError, match="Run the ETL first"):
        load_processed(cfg)


def test_real_sample(tmp_path):
    if not REAL.exists():
        pytest.skip(f"real sample absent: {REAL}")
    cfg = Config(
        dataset="real-sample",
        source="files",
        data_dir=str(REAL),
        cutoff="2020-09-22",
        test_days=1,
        val_days=1,
        root=tmp_path,
    )
    t = run_etl(cfg)
    assert t.split.to_dict() == dict(val_start="2020-09-21", test_start="2020-09-22", test_end="2020-09-23")
    s = json.loads((cfg.processed_dir / "split.json").read_text())
    assert s["customers"]["test"] == 5_237 and s["test_customers_with_history"] == 1_037
    assert t.transactions.quantity.sum() == 159_680 and (~t.customers.has_profile).sum() > 0
