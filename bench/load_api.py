"""Load benchmark of the HTTP API: `--clients` concurrent clients on loopback for `--seconds` against POST /recommend.

Starts `python -m hm_recsys.serving` on a free port in a separate process (as `make serve` does), waits for
/health, then runs closed-loop clients (each sends its next request when the last one is answered) over
keep-alive connections, with a mix of warm, cold and unknown customers. Reports errors, latency percentiles and
requests/s, then the in-process latency of `recommend` on the same registry. Not a test: run it by hand,
    .venv/bin/python bench/load_api.py --params default
and compare with the targets (2 cores): p99 <= 50 ms over HTTP, in-process p99 <= 5 ms."""
import argparse, asyncio, json, os, socket, subprocess, sys, time
from pathlib import Path
import httpx, numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from hm_recsys.config import load_config
from hm_recsys.serving import HMRecommender, registry_dir

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def customer_mix(svc: HMRecommender, n: int = 2000, seed: int = 0) -> list[str]:
    "80% customers with purchases, 15% known without, 5% unknown (random ids), shuffled."
    rng = np.random.default_rng(seed); c = svc.data.customers
    warm, cold = c.customer_id[c.purchases > 0].to_numpy(), c.customer_id[c.purchases == 0].to_numpy()
    ids = list(rng.choice(warm, int(n * .8))) + (list(rng.choice(cold, int(n * .15))) if len(cold) else [])
    ids += [f'{rng.integers(1 << 62):016x}' * 4 for _ in range(n - len(ids))]
    rng.shuffle(ids); return ids

async def client(http: httpx.AsyncClient, ids: list[str], start: int, deadline: float, lat: list, errors: list):
    i = start
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        try:
            r = await http.post('/recommend', json={'customer_id': ids[i % len(ids)], 'top_k': 12})
            if r.status_code != 200 or len(r.json()['articles']) != 12: errors.append(f'{r.status_code} {r.text[:200]}')
        except httpx.HTTPError as e: errors.append(repr(e))
        lat.append(time.perf_counter() - t); i += 1

async def load(url: str, ids: list[str], clients: int, seconds: float) -> dict:
    lat, errors = [], []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        for i in range(50): await http.post('/recommend', json={'customer_id': ids[i], 'top_k': 12})  # warm-up
        t0 = time.perf_counter(); deadline = t0 + seconds
        await asyncio.gather(*(client(http, ids, k * 97, deadline, lat, errors) for k in range(clients)))
        wall = time.perf_counter() - t0
    ms = np.array(lat) * 1000
    return dict(clients=clients, seconds=round(wall, 1), requests=len(lat), errors=len(errors), first_errors=errors[:3],
                rps=round(len(lat) / wall, 1), p50_ms=round(float(np.percentile(ms, 50)), 2),
                p90_ms=round(float(np.percentile(ms, 90)), 2), p99_ms=round(float(np.percentile(ms, 99)), 2),
                max_ms=round(float(ms.max()), 2))

def in_process(svc: HMRecommender, ids: list[str], n: int = 5000) -> dict:
    for c in ids[:100]: svc.recommend(c, 12)
    ts = []
    for i in range(n):
        t = time.perf_counter(); svc.recommend(ids[i % len(ids)], 12); ts.append(time.perf_counter() - t)
    ms = np.array(ts) * 1000
    return dict(calls=n, p50_ms=round(float(np.percentile(ms, 50)), 3), p99_ms=round(float(np.percentile(ms, 99)), 3))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--params', default='default', help='params/NAME.yaml: its registry and processed tables')
    ap.add_argument('--registry', default='', help="another registry folder of the params' data set")
    ap.add_argument('--clients', type=int, default=32); ap.add_argument('--seconds', type=float, default=30)
    ap.add_argument('--out', default='', help='write the figures as JSON here')
    a = ap.parse_args()
    cfg = load_config(a.params); reg = Path(a.registry) if a.registry else registry_dir(cfg)
    svc = HMRecommender.load(reg, cfg.processed_dir); ids = customer_mix(svc)
    port = free_port(); url = f'http://127.0.0.1:{port}'
    server = subprocess.Popen([sys.executable, '-m', 'hm_recsys.serving', '--params', a.params, '--registry', str(reg),
                               '--port', str(port)], cwd=ROOT)
    try:
        for _ in range(600):
            try:
                if httpx.get(f'{url}/health', timeout=1).json().get('ready'): break
            except httpx.HTTPError: time.sleep(0.2)
        else: raise SystemExit('the server did not become ready in 2 minutes')
        health = httpx.get(f'{url}/health').json()
        res = dict(registry=str(reg), health=health, cpus=os.cpu_count(), http=asyncio.run(load(url, ids, a.clients, a.seconds)))
        res['still_healthy'] = httpx.get(f'{url}/health').json().get('ready')
    finally:
        server.terminate(); server.wait(30)
    res['in_process'] = in_process(svc, ids)
    print(json.dumps(res, indent=2))
    if a.out: Path(a.out).write_text(json.dumps(res, indent=2) + '\n')

if __name__ == '__main__': main()
