"The benchmark scripts on small inputs: retrieval figures, the quality table, BENCHMARKS.md."
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'bench'))
import common, retrieval, run

def test_retrieval_small():
    r = retrieval.run(n=3000, n_queries=100, n_single=10, k=20, clusters=30)
    res = r['results']
    assert set(res) == {'numpy brute force', 'faiss flat (exact)', 'faiss ivf', 'faiss hnsw', 'pytorch brute force'}
    for exact in ('numpy brute force', 'faiss flat (exact)', 'pytorch brute force'): assert res[exact]['recall vs exact'] > .999
    for x in res.values(): assert 0 < x['recall vs exact'] <= 1 and x['single query ms'] > 0 and x['batched queries/s'] > 0
    assert res['numpy brute force']['batched speed-up vs numpy'] == 1

def test_benchmarks_markdown():
    b = {'machine': common.machine(), 'updated': 'now', 'quality': run.quality(),
         'retrieval': retrieval.run(n=2000, n_queries=50, n_single=5, k=10, clusters=20),
         'serving': {'missing': 'the registry'}, 'scale': {'missing': 'reports/scale.json'}}
    md = run.markdown(b)
    for h in ('## Machine', '## Quality', '## Retrieval', '## Serving', '## Scale', 'pytorch brute force'): assert h in md
    assert b['machine']['cores'] >= 1 and b['machine']['ram_gb'] > 0
