"Synthetic generator: determinism, exact Kaggle format, idempotent ensure_synthetic, oracle, realism table."

import json
from dataclasses import replace
from pathlib import Path
import pandas as pd, pytest
from hm_recsys.config import load_config
from hm_recsys.oracle import Oracle
from hm_recsys.realism import REAL_STATS, protocol_maps, read_raw, realism
from hm_recsys.synthetic import END_DATE, ensure_synthetic, generate

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "hm-real-sample"
FILES = ("articles.csv", "customers.csv", "transactions_train.csv")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "raw"
    generate("tiny", 42, out)
    return out


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    generate("tiny", 42, tmp_path / "again")
    generate("tiny", 7, tmp_path / "other")
    for f in FILES:
        assert (tiny / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    assert (tiny / "transactions_train.csv").read_bytes() != (
        tmp_path / "other" / "transactions_train.csv"
    ).read_bytes()


def _col(path: Path, name: str) -> pd.Series:
    return pd.read_csv(path, dtype=str, keep_default_na=False)[name]


@pytest.mark.parametrize(
    "path,col,pattern",
    [
        ("articles.csv", "article_id", r"0\d{9}"),
        ("articles.csv", "product_code", r"0\d{6}"),
        ("customers.csv", "customer_id", r"[0-9a-f]{64}"),
        ("customers.csv", "postal_code", r"[0-9a-f]{64}"),
        ("customers.csv", "FN", r"(1\.0)?"),
        ("customers.csv", "Active", r"(1\.0)?"),
        ("customers.csv", "age", r"(\d{2}\.0)?"),
        ("transactions_train.csv", "t_dat", r"20\d\d-\d\d-\d\d"),
        ("transactions_train.csv", "customer_id", r"[0-9a-f]{64}"),
        ("transactions_train.csv", "article_id", r"0\d{9}"),
        ("transactions_train.csv", "price", r"0\.\d{3,17}"),
        ("transactions_train.csv", "sales_channel_id", r"[12]"),
    ],
)
def test_kaggle_format(tiny, path, col, pattern):
    s = _col(tiny / path, col)
    bad = s[~s.str.fullmatch(pattern)]
    assert bad.empty, f"{path}:{col} e.g. {bad.iloc[0]!r}"


def test_ids_consistent_and_dates(tiny):
    a, c, t = read_raw(tiny)
    assert t.customer_id.isin(set(c.customer_id)).all() and t.article_id.isin(set(a.article_id)).all()
    assert a.article_id.is_unique and c.customer_id.is_unique and c.customer_id.is_monotonic_increasing
    assert t.t_dat.max() == END_DATE and t.t_dat.is_monotonic_increasing
    assert (a.article_id.str[:7] == a.product_code.astype(str).str.zfill(7)).all()


@pytest.mark.skipif(not REAL.exists(), reason=f"real sample not found at {REAL}")
@pytest.mark.parametrize("name", FILES)
def test_header_is_the_real_one(tiny, name):
    real = (REAL / name).open().readline()
    assert (tiny / name).open().readline() == real


def test_ensure_synthetic_idempotent(tmp_path):
    cfg = replace(load_config("tiny"), root=tmp_path, dataset="t")
    raw = ensure_synthetic(cfg)
    meta = json.loads((raw / "generator.json").read_text())
    assert (meta["preset"], meta["seed"]) == ("tiny", cfg.seed) and all((raw / f).exists() for f in FILES)
    stamp = (raw / "transactions_train.csv").stat().st_mtime_ns
    assert ensure_synthetic(cfg) == raw and (raw / "transactions_train.csv").stat().st_mtime_ns == stamp
    ensure_synthetic(replace(cfg, seed=cfg.seed + 1))
    assert json.loads((raw / "generator.json").read_text())["seed"] == cfg.seed + 1
    assert not [p for p in raw.parent.iterdir() if p.name.endswith(".tmp")]


def test_ensure_synthetic_refuses_files_params():
    with pytest.raises(ValueError, match="nothing to generate"):
        ensure_synthetic(replace(load_config("tiny"), source="files", data_dir="x"))


def test_oracle_valid_and_beats_popularity(tiny):
    _, _, tx = read_raw(tiny)
    cutoff = tx.t_dat.max() - pd.Timedelta(days=6)
    truth = tx[tx.t_dat >= cutoff].groupby("customer_id").article_id.agg(set).to_dict()
    oracle = Oracle.load(tiny)
    recs = oracle.recommend(list(truth), cutoff, 7, tx[tx.t_dat < cutoff], k=12)
    ids = set(oracle.w.article_ids)
    assert len(recs) == len(truth) and all(len(r) == 12 == len(set(r)) and set(r) <= ids for r in recs)
    assert recs == oracle.recommend(list(truth), cutoff, 7, tx[tx.t_dat < cutoff], k=12)
    unknown = oracle.recommend(["f" * 64], cutoff, 7, tx.iloc[:0])
    assert len(unknown[0]) == 12
    m = protocol_maps(tiny, 7, 7, oracle=True)
    assert m["oracle"] > 1.3 * max(m["decayed_popularity"], m["repurchase_decayed"]), m


def test_product_types_ship_with_the_package():
    "The product-type table is a data file of the package, read at import and declared as package data for a wheel."
    import tomllib
    from hm_recsys.synthetic import PRODUCT_TYPES

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert "product_types.csv" in pyproject["tool"]["setuptools"]["package-data"]["hm_recsys"]
    assert len(PRODUCT_TYPES) == 131 and all(len(r) == 6 for r in PRODUCT_TYPES)


def test_catalogue_shares_have_one_source():
    from hm_recsys.synthetic import IG_CATALOGUE

    assert {g: REAL_STATS[f"catalogue share {g}"][0] for g in IG_CATALOGUE} == IG_CATALOGUE


def test_realism_table(tiny):
    r = realism(tiny)
    assert list(r.index) == list(REAL_STATS) and r["synthetic"].notna().all()
    customers = r[r.index.str.startswith(("customers", "catalogue share"))]
    assert customers["pass"].all(), customers[~customers["pass"]]


@pytest.mark.skipif(not REAL.exists(), reason=f"real sample not found at {REAL}")
def test_the_real_value_of_our_own_statistic_is_the_real_samples():
    row = "last day: pairs on articles unsold in the 6 days before"  # the one row whose real value is not the README's
    r = realism(REAL).loc[row]
    assert r["synthetic"] == pytest.approx(r["real"], abs=5e-4) and r["pass"], r


@pytest.mark.skipif(not REAL.exists(), reason=f"real sample not found at {REAL}")
def test_real_catalogue_option(tmp_path):
    lines = (REAL / "articles.csv").read_text().splitlines(keepends=True)[:3001]  # a slice of the real catalogue
    (tmp_path / "articles.csv").write_text("".join(lines))
    generate("tiny", 1, tmp_path / "raw", articles=tmp_path / "articles.csv")
    a, _, t = read_raw(tmp_path / "raw")
    assert (tmp_path / "raw" / "articles.csv").read_text() == "".join(lines)
    assert len(a) == 3000 and t.article_id.isin(set(a.article_id)).all() and len(t) > 1000
