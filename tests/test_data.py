"The raw-data loader: the real sample's figures, each validation error, id normalisation, file variants."

import gzip, io
from pathlib import Path
import numpy as np, pandas as pd, pytest
from hm_recsys.data import DataError, example_frames, fingerprint, load_raw, write_kaggle

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "hm-real-sample"


@pytest.fixture(scope="module")
def real():
    if not REAL.exists():
        pytest.skip(f"real sample absent: {REAL} (see the project README)")
    return load_raw(REAL)


def test_real_counts(real):
    r = real.report
    assert (r["articles"], r["customers"], r["transactions"]) == (105_542, 28_622, 159_680)
    assert (r["first_day"], r["last_day"]) == ("2018-09-20", "2020-09-22")
    assert r["dropped_unknown_articles"] == 0 and r["customers_without_profile"] > 0 and r["repeated_rows"] > 0


def test_real_formats(real):
    a, c, t = real.articles, real.customers, real.transactions
    assert a.article_id.str.fullmatch(r"\d{10}").all() and a.article_id.is_unique
    assert (a.article_id.str[:7].astype(int) == a.product_code).all()
    assert c.customer_id.str.fullmatch(r"[0-9a-f]{64}").all()
    assert t.article_id.cat.categories.str.fullmatch(r"\d{10}").all()
    assert {str(d) for d in a.dtypes[a.columns.str.endswith("_name")]} == {"category"}
    assert dict(t.dtypes.astype(str)) == dict(
        t_dat="datetime64[ns]", customer_id="category", article_id="category", price="float32", sales_channel_id="int8"
    )
    assert dict(c[["FN", "Active", "age"]].dtypes.astype(str)) == dict(FN="int8", Active="int8", age="float32")
    assert set(c.FN.unique()) <= {0, 1} and c.age.isna().any()


@pytest.fixture(scope="module")
def frames():
    return example_frames()


@pytest.fixture(scope="module")
def good(frames, tmp_path_factory):
    return load_raw(write_kaggle(tmp_path_factory.mktemp("good"), frames))


def test_example(good, frames):
    assert good.report["transactions"] == len(frames["transactions"]) and good.report["customers_without_profile"] == 1


@pytest.mark.parametrize("suffix", [".csv.gz", ".parquet"])
def test_variants(good, frames, suffix, tmp_path):
    other = load_raw(write_kaggle(tmp_path, frames, suffix))
    for k in ("articles", "customers", "transactions"):
        pd.testing.assert_frame_equal(getattr(other, k), getattr(good, k))


def test_integer_article_ids(good, frames, tmp_path):
    ints = {
        k: df.assign(**{c: df[c].str.lstrip("0") for c in ("article_id", "product_code") if c in df})
        for k, df in frames.items()
    }
    other = load_raw(write_kaggle(tmp_path, ints))
    assert other.articles.article_id.tolist() == good.articles.article_id.tolist()
    pd.testing.assert_frame_equal(other.transactions, good.transactions)
    typed = dict(
        frames, transactions=good.transactions.assign(article_id=good.transactions.article_id.astype(np.int64))
    )
    pd.testing.assert_frame_equal(
        load_raw(write_kaggle(tmp_path / "pq", typed, ".parquet")).transactions, good.transactions
    )


def broken(frames, folder, table, col, row, value):
    fr = {k: df.copy() for k, df in frames.items()}
    fr[table].iloc[row, fr[table].columns.get_loc(col)] = value
    return write_kaggle(folder, fr)


@pytest.mark.parametrize(
    "table,col,row,value,msg",
    [
        ("transactions", "t_dat", 3, "2020-13-01", "column 't_dat': unparsable date. Example, line 5: 2020-13-01"),
        ("transactions", "t_dat", 3, "22/09/2020", "unparsable date"),
        ("transactions", "price", 2, "-0.5", "column 'price': 1 missing or negative price(s). Example, line 4"),
        ("transactions", "price", 2, "", "missing or negative price"),
        ("transactions", "customer_id", 1, "abc", "column 'customer_id': 1 malformed id(s). Example, line 3"),
        ("transactions", "customer_id", 1, "", "column 'customer_id': 1 missing value(s)"),
        ("transactions", "article_id", 0, "0108775-15", "column 'article_id': 1 malformed id(s)"),
        ("transactions", "sales_channel_id", 0, "", "column 'sales_channel_id': 1 missing value(s)"),
        ("customers", "customer_id", 0, "g" * 64, "customers.csv, column 'customer_id': 1 malformed id(s)"),
        ("articles", "article_id", 0, "01087750X5", "articles.csv, column 'article_id': 1 malformed id(s)"),
        ("articles", "article_id", 1, "0108775015", "repeated id"),
        (
            "articles",
            "colour_group_code",
            0,
            "1000",
            "column 'colour_group_code': '1000' is not a valid int8. Example, line 2",
        ),
        ("transactions", "price", 2, "abc", "column 'price': 'abc' is not a valid float. Example, line 4: "),
        (
            "transactions",
            "sales_channel_id",
            1,
            "3",
            "column 'sales_channel_id': 1 value(s) other than 1 (store) or 2 (online). Example, line 3",
        ),
        ("customers", "age", 2, "-1", "customers.csv, column 'age': 1 age(s) outside 0 to 120. Example, line 4"),
    ],
)
def test_validation(frames, tmp_path, table, col, row, value, msg):
    folder = broken(frames, tmp_path, table, col, row, value)
    with pytest.raises(DataError) as e:
        load_raw(folder)
    assert msg in str(e.value) and str(tmp_path) in str(e.value)


def test_missing_file_and_column(frames, tmp_path):
    with pytest.raises(DataError) as e:
        load_raw(tmp_path)
    assert "holds: nothing" in str(e.value) and "make all DATA=" in str(e.value) and "HM_DATA_DIR" in str(e.value)
    write_kaggle(tmp_path, dict(frames, customers=frames["customers"].drop(columns="age")))
    with pytest.raises(DataError, match=r"customers.csv: column\(s\) \['age'\] missing"):
        load_raw(tmp_path)
    (tmp_path / "articles.csv").unlink()
    with pytest.raises(DataError, match="missing articles.csv"):
        load_raw(tmp_path)


def test_unknown_articles(frames, tmp_path):
    folder = broken(frames, tmp_path, "transactions", "article_id", 5, "0999999001")
    with pytest.raises(DataError, match="absent from articles.csv"):
        load_raw(folder)
    with pytest.warns(UserWarning, match="dropping them. Example, line 7"):
        r = load_raw(folder, max_unknown=0.05)
    assert r.report["dropped_unknown_articles"] == 1 and r.report["transactions"] == len(frames["transactions"]) - 1
    assert "0999999001" not in r.transactions.article_id.cat.categories


def test_fingerprint(frames, tmp_path):
    a, b = write_kaggle(tmp_path / "a", frames), write_kaggle(tmp_path / "b", frames)
    assert fingerprint(a) == fingerprint(b) and len(fingerprint(a)) == 16
    assert fingerprint(broken(frames, tmp_path / "c", "transactions", "price", 0, "0.5")) != fingerprint(a)


def as_parquet(b: bytes) -> bytes:
    buf = io.BytesIO()
    pd.read_csv(io.BytesIO(b), dtype=str).to_parquet(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "file,data,msg",
    [
        (
            "customers.csv",
            lambda b: b.decode().encode("utf-16"),
            "customers.csv: not UTF-8 CSV text: UTF-16 text. Save it as UTF-8 CSV (in Excel: 'CSV UTF-8 (comma delimited)'), or give the table as customers.parquet",
        ),
        (
            "customers.csv",
            lambda b: b.decode().encode("utf-16-le"),
            "customers.csv: not UTF-8 CSV text: UTF-16 text.",
        ),  # no byte-order mark
        (
            "customers.csv.gz",
            lambda b: gzip.compress(gzip.decompress(b).decode().encode("utf-16")),
            "customers.csv.gz: not UTF-8 CSV text: UTF-16 text",
        ),
        (
            "articles.csv",
            lambda b: b.replace(b"A top.", "Un haut brod\xe9.".encode("latin-1")),
            r"articles.csv: not UTF-8 CSV text: line 2 holds bytes that are not UTF-8 (Latin-1 or Windows-1252 text?), in b'",
        ),
        (
            "articles.csv",
            as_parquet,
            "articles.csv: not UTF-8 CSV text: a Parquet file. Name it articles.parquet: the loader reads that too.",
        ),
        ("articles.csv", gzip.compress, "articles.csv: not UTF-8 CSV text: gzip-compressed. Name it articles.csv.gz"),
        (
            "transactions_train.csv",
            lambda b: bytes(range(256)) * 40,
            "transactions_train.csv: not UTF-8 CSV text: binary data. Save it as UTF-8 CSV",
        ),
        (
            "transactions_train.csv.gz",
            gzip.decompress,
            "transactions_train.csv.gz: not gzip-compressed, though its name ends .gz",
        ),
        ("articles.parquet", lambda b: b"article_id\n0108775015\n", "articles.parquet: not a Parquet file"),
    ],
)
def test_file_not_in_its_format(frames, tmp_path, file, data, msg):
    "A file whose content is not what its name says: a DataError saying so, and what to do."
    folder = write_kaggle(tmp_path, frames, file[file.index(".") :])
    (tmp_path / file).write_bytes(data((tmp_path / file).read_bytes()))
    with pytest.raises(DataError) as e:
        load_raw(folder)
    assert msg in str(e.value) and str(tmp_path) in str(e.value)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize(
    "col", [0, 3, 4]
)  # a dictionary (t_dat), a float (price) and an integer (sales_channel_id) column
def test_not_utf8_past_the_header_block(tmp_path, suffix, col):
    "A byte that is not UTF-8 deep in a file (pyarrow's error, past the header's block): the same DataError, with its line."
    p = write_kaggle(tmp_path, example_frames(days=600), suffix) / f"transactions_train{suffix}"
    lines = (gzip.decompress if suffix == ".csv.gz" else bytes)(p.read_bytes()).split(b"\n")
    row = len(lines) - 4
    cells = lines[row].split(b",")
    cells[col] = cells[col][:-1] + b"\xe9"
    lines[row] = b",".join(cells)
    p.write_bytes((gzip.compress if suffix == ".csv.gz" else bytes)(b"\n".join(lines)))
    assert len(lines) > 2000  # the first block the header is read from holds ~100 lines
    with pytest.raises(
        DataError,
        match=rf"transactions_train{suffix}: not UTF-8 CSV text: line {row + 1} holds bytes that are not UTF-8",
    ):
        load_raw(tmp_path)


@pytest.mark.parametrize("others", [[".parquet"], [".csv.gz"], [".csv.gz", ".parquet"]])
def test_several_versions_of_a_file(frames, tmp_path, others):
    "Two versions of one file: load_raw and fingerprint name them and ask to keep one; with one left, both work."
    write_kaggle(tmp_path, frames)
    for s in others:
        write_kaggle(tmp_path, {"transactions": frames["transactions"]}, s)
    names = ["transactions_train.csv", *(f"transactions_train{s}" for s in others)]
    for f in (load_raw, fingerprint):
        with pytest.raises(DataError) as e:
            f(tmp_path)
        assert (
            f"{tmp_path}: several versions of one file: {', '.join(names[:-1])} and {names[-1]}. Keep one of them"
            in str(e.value)
        )
    for name in names[:-1]:
        (tmp_path / name).unlink()
    assert load_raw(tmp_path).report["files"]["transactions"] == names[-1] and len(fingerprint(tmp_path)) == 16
