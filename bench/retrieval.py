"""Retrieval benchmark: FAISS exact (flat) and approximate (IVF, HNSW) against NumPy and PyTorch brute force, one run.

Catalogue-size unit vectors (default 105,542 x 64, the Kaggle article count) drawn around `--clusters` centres, as
two-tower embeddings are; queries from the same mixture. Indexes come from `hm_recsys.index.build_index` and the
measurements from `hm_recsys.index.benchmark` (recall@k against exact search, single-query latency, batched
queries/s); PyTorch brute force is one more entry with the same `search` method. Ratios are against NumPy.
Single queries run on one thread (as the API serves them: one request per thread; several OpenMP/BLAS threads
on one query are many times slower on a busy machine), batches on `--threads`.
    .venv/bin/python -m bench.retrieval --out reports/bench_retrieval.json"""

import argparse, json, os, time
from contextlib import contextmanager
from pathlib import Path
import faiss, numpy as np, torch
from threadpoolctl import threadpool_limits

from hm_recsys.index import benchmark, build_index


class TorchIndex:
    "Exact inner-product top-k with `torch.topk`, the `search` interface of a FAISS index."

    def __init__(self, emb: np.ndarray):
        self.emb = torch.from_numpy(np.ascontiguousarray(emb, dtype="float32"))

    def search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            s, i = torch.topk(torch.from_numpy(q) @ self.emb.T, k, dim=1)
        return s.numpy(), i.numpy()


@contextmanager
def threads(n: int):
    "FAISS (OpenMP), PyTorch and NumPy's BLAS on `n` threads."
    old = torch.get_num_threads()
    faiss.omp_set_num_threads(n)
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        faiss.omp_set_num_threads(old)
        torch.set_num_threads(old)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype("float32")


def clustered_vectors(n: int, d: int, clusters: int, rng: np.random.Generator, spread: float = 0.6) -> np.ndarray:
    "`n` unit vectors in `d` dimensions around `clusters` random centres."
    centres = unit(rng.standard_normal((clusters, d)))
    return unit(
        centres[rng.integers(clusters, size=n)] + spread / np.sqrt(d) * rng.standard_normal((n, d)).astype("float32")
    )


def run(
    n: int = 105_542,
    d: int = 64,
    n_queries: int = 2000,
    n_single: int = 200,
    k: int = 100,
    clusters: int = 500,
    n_threads: int = 2,
    seed: int = 42,
) -> dict:
    "Build every index on the same vectors, time the builds, then measure all of them with `benchmark`."
    rng = np.random.default_rng(seed)
    emb = clustered_vectors(n, d, clusters, rng)
    queries = clustered_vectors(n_queries, d, clusters, rng)
    builders = {
        "faiss flat (exact)": lambda: build_index(emb, "flat"),
        "faiss ivf": lambda: build_index(emb, "ivf", seed=seed),
        "faiss hnsw": lambda: build_index(emb, "hnsw"),
        "pytorch brute force": lambda: TorchIndex(emb),
    }
    indexes, build_s = {}, {"numpy brute force": 0.0}
    with threads(n_threads):
        for name, build in builders.items():
            t = time.perf_counter()
            indexes[name] = build()
            build_s[name] = time.perf_counter() - t
        df = benchmark(emb, queries, k=k, n_single=1, indexes=indexes)
    with threads(1):
        df["single query ms"] = benchmark(emb, queries[:n_single], k=k, n_single=n_single, indexes=indexes)[
            "single query ms"
        ]
    base = df.loc["numpy brute force"]
    df["build s"] = [build_s[i] for i in df.index]
    df["single speed-up vs numpy"] = base["single query ms"] / df["single query ms"]
    df["batched speed-up vs numpy"] = df["batched queries/s"] / base["batched queries/s"]
    ivf, hnsw = indexes["faiss ivf"], indexes["faiss hnsw"]
    return dict(
        vectors=n,
        dim=d,
        queries=n_queries,
        single_queries=n_single,
        single_query_threads=1,
        k=k,
        clusters=clusters,
        threads=n_threads,
        settings={
            "faiss ivf": f"IndexIVFFlat nlist={ivf.nlist} nprobe={ivf.nprobe}",
            "faiss hnsw": f"IndexHNSWFlat M=32 efSearch={hnsw.hnsw.efSearch}",
        },
        results={name: {c: round(float(v), 4) for c, v in row.items()} for name, row in df.iterrows()},
    )


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=105_542)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    res = run(a.n, a.dim, a.queries, k=a.k, n_threads=a.threads)
    print(json.dumps(res, indent=2))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
