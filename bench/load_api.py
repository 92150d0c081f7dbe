"""Load benchmark of the HTTP API: `--clients` concurrent clients on loopback for `--seconds` against POST /recommend.

Starts `python -m hm_recsys.api` on a free port in a separate process (as `make serve` does), waits for
/health, then runs closed-loop clients (each sends its next request when the last one is answered) over
keep-alive connections, with a mix of warm, cold and unknown customers. Reports errors, latency percentiles and
requests/s, then tries each kind of bad input (status and message) and checks /health, then measures the in-process
latency of `recommend` on the same registry. Not a test: run it by hand,
    .venv/bin/python -m bench.load_api --params default
and compare with the targets (2 cores): p99 <= 50 ms over HTTP, in-process p99 <= 5 ms."""

import argparse, asyncio, hashlib, json, os, subprocess, sys, tempfile, time
from pathlib import Path
import httpx, numpy as np, torch

from hm_recsys.config import load_config
from hm_recsys.events import EventStore
from hm_recsys.registry import registry_dir
from hm_recsys.api import free_port
from hm_recsys.serving import HMRecommender
from .common import ROOT


def cpu_seconds(pid: int) -> float:
    "User + system CPU seconds of process `pid` (Linux /proc)."
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def customer_mix(svc: HMRecommender, n: int = 2000, seed: int = 0) -> list[str]:
    "80% customers with purchases, 15% known without, 5% unknown (random ids), shuffled."
    rng = np.random.default_rng(seed)
    c = svc.data.customers
    warm, cold = c.customer_id[c.purchases > 0].to_numpy(), c.customer_id[c.purchases == 0].to_numpy()
    ids = list(rng.choice(warm, int(n * 0.8))) + (list(rng.choice(cold, int(n * 0.15))) if len(cold) else [])
    ids += [f"{rng.integers(1 << 62):016x}" * 4 for _ in range(n - len(ids))]
    rng.shuffle(ids)
    return ids


class Connection:
    "A minimal keep-alive HTTP/1.1 client for POST /recommend: httpx costs the client more CPU than the server spends."

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes, headers: dict | None = None) -> tuple[int, bytes]:
        more = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n{more}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(next(l.split(b":")[1] for l in head.lower().split(b"\r\n") if l.startswith(b"content-length")))
        return status, await self.reader.readexactly(length)


async def client(
    host: str,
    port: int,
    ids: list[str],
    start: int,
    deadline: float,
    lat: list,
    errors: list,
    versions: set | None = None,
):
    "One closed-loop client until `deadline`: latencies to `lat`, failures to `errors`, the model versions served to `versions`."
    conn = Connection(host, port)
    await conn.open()
    i = start
    while time.perf_counter() < deadline:
        body = json.dumps({"customer_id": ids[i % len(ids)], "top_k": 12}).encode()
        t = time.perf_counter()
        try:
            status, data = await conn.post("/recommend", body)
            answer = json.loads(data) if status == 200 else {}
            if len(answer.get("articles", ())) != 12:
                errors.append(f"{status} {data[:200]!r}")
            elif versions is not None:
                versions.add(answer["model_version"])
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            errors.append(repr(e))
            await conn.open()
        lat.append(time.perf_counter() - t)
        i += 1
    conn.writer.close()


async def load(url: str, ids: list[str], clients: int, seconds: float, during=None) -> dict:
    "`clients` closed-loop clients, each on its own keep-alive connection, for `seconds`; `during()` runs in a thread meanwhile."
    host, port = url.split("//")[1].split(":")
    port = int(port)
    lat, errors, versions = [], [], set()
    await client(host, port, ids, 0, time.perf_counter() + 1, [], [])  # warm-up
    t0 = time.perf_counter()
    deadline = t0 + seconds
    side = asyncio.get_running_loop().run_in_executor(None, during) if during else None
    await asyncio.gather(*(client(host, port, ids, k * 97, deadline, lat, errors, versions) for k in range(clients)))
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1000
    return dict(
        clients=clients,
        seconds=round(wall, 1),
        requests=len(lat),
        errors=len(errors),
        first_errors=errors[:3],
        rps=round(len(lat) / wall, 1),
        p50_ms=round(float(np.percentile(ms, 50)), 2),
        p90_ms=round(float(np.percentile(ms, 90)), 2),
        p99_ms=round(float(np.percentile(ms, 99)), 2),
        max_ms=round(float(ms.max()), 2),
        versions_served=sorted(versions),
        **({"during": await side} if side else {}),
    )


def bad_inputs(url: str, svc: HMRecommender) -> list[dict]:
    "Each kind of bad input over HTTP: the status and the message it gets."
    known, article = svc.data.customers.customer_id.iloc[0], svc.data.articles.article_id.iloc[0]
    unknown = hashlib.sha256(b"nobody").hexdigest()
    cases = [
        ("/recommend", {"customer_id": "abc", "top_k": 12}),
        ("/recommend", {"customer_id": "z" * 64, "top_k": 12}),
        ("/recommend", {"customer_id": 12345}),
        ("/recommend", {"top_k": 12}),
        ("/recommend", {"customer_id": known, "top_k": 0}),
        ("/recommend", {"customer_id": known, "top_k": 101}),
        ("/recommend", {"customer_id": known, "top_k": 2.5}),
        ("/recommend", {"customer_id": known, "top_k": "12"}),
        ("/recommend", '{"customer_id": '),
        ("/purchases", {"customer_id": known, "article_id": "9999999999"}),
        ("/purchases", {"customer_id": known, "article_id": "shoe"}),
        ("/purchases", {"customer_id": unknown, "article_id": article}),
    ]
    out = []
    for path, body in cases:
        r = (
            httpx.post(url + path, content=body, headers={"content-type": "application/json"})
            if isinstance(body, str)
            else httpx.post(url + path, json=body)
        )
        out.append(
            dict(
                request=f"POST {path} {body if isinstance(body, str) else json.dumps(body)}",
                status=r.status_code,
                detail=r.json().get("detail"),
            )
        )
    return out


def _ms(ts: list, cpu: list) -> dict:
    "Wall-clock p50/p99 and, apart from time lost to other processes, CPU-time p50/p99 (ms)."
    q = lambda x, p: round(float(np.percentile(np.array(x) * 1000, p)), 3)
    return dict(calls=len(ts), p50_ms=q(ts, 50), p99_ms=q(ts, 99), cpu_p50_ms=q(cpu, 50), cpu_p99_ms=q(cpu, 99))


def in_process(svc: HMRecommender, ids: list[str], n: int = 5000) -> dict:
    "recommend's latency: first calls (each customer's vector computed) and repeated ones (vector cached), as the server runs it."
    torch.set_num_threads(1)
    store = EventStore(Path(tempfile.mkdtemp()) / "purchases.sqlite")  # as served: each request looks for new purchases
    svc = HMRecommender(svc.data, events=store)  # one intra-op thread as in `serve`; an empty cache

    def timed(xs):
        ts, cpu = [], []
        for c in xs:
            t, u = time.perf_counter(), time.thread_time()
            svc.recommend(c, 12)
            ts.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - u)
        return _ms(ts, cpu)

    return dict(first_call=timed(list(dict.fromkeys(ids))), repeated=timed([ids[i % len(ids)] for i in range(n)]))


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.load_api", description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="default", help="params/NAME.yaml: its registry and processed tables")
    ap.add_argument("--registry", default="", help="another registry folder of the params' data set")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--out", default="", help="write the figures as JSON here")
    a = ap.parse_args()
    cfg = load_config(a.params)
    reg = Path(a.registry) if a.registry else registry_dir(cfg)
    svc = HMRecommender.load(reg)
    ids = customer_mix(svc)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "hm_recsys.api", "--params", a.params, "--registry", str(reg), "--port", str(port)],
        cwd=ROOT,
        env=dict(os.environ, HM_EVENTS_DB=str(Path(tempfile.mkdtemp()) / "purchases.sqlite")),  # not the data set's own
    )
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).json().get("ready"):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not become ready in 2 minutes")
        health = httpx.get(f"{url}/health").json()
        cpu0, load0 = cpu_seconds(server.pid), os.getloadavg()
        res = dict(
            registry=str(reg),
            health=health,
            cpus=os.cpu_count(),
            http=asyncio.run(load(url, ids, a.clients, a.seconds)),
        )
        res["http"]["server_cpu_ms_per_request"] = round(
            1000 * (cpu_seconds(server.pid) - cpu0) / res["http"]["requests"], 3
        )
        res["load_average_before_after"] = [
            round(load0[0], 2),
            round(os.getloadavg()[0], 2),
        ]  # other processes on the machine
        res["bad_inputs"] = bad_inputs(url, svc)
        res["still_healthy"] = httpx.get(f"{url}/health").json().get("ready")
    finally:
        server.terminate()
        server.wait(30)
    res["in_process"] = in_process(svc, ids)
    print(json.dumps(res, indent=2))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
