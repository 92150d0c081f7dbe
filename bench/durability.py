"""Faults and soak of the served API, each against `python -m hm_recsys.api` in its own process, as `make serve` runs it.

kill     `--clients` clients write purchases; the server gets SIGKILL mid-stream; after a restart every purchase that was
         answered 200 is in the event store, none twice, and retrying every unanswered one records each at most once.
         Before that, the plain case: N purchases, SIGTERM, restart, N reloaded.
swap     `--clients` clients ask for recommendations while a later registry replaces the served folder (as `make all`
         writes it) and `POST /admin/reload` takes it up: the failed requests (target 0), the versions before and after,
         and the purchases recorded before the swap, still served after it.
soak     `--minutes` of mixed load, 90% recommendations for many distinct customers and 10% purchases: per minute the
         requests, errors, p50/p99 latency and the server's resident memory, which must level off.

    .venv/bin/python -m bench.durability --params default                    # all three: reports/durability.json
    .venv/bin/python -m bench.durability --params default --only kill,swap   # keep the others from the file

Then `python -m bench.run --only durability` tables them in reports/BENCHMARKS.md. tests/test_durability.py runs short
versions on a tiny registry."""

import argparse, asyncio, json, os, shutil, signal, subprocess, sys, tempfile, threading, time, uuid
from contextlib import contextmanager
from pathlib import Path
import httpx, numpy as np

from hm_recsys.config import atomic_path, load_config, write_json
from hm_recsys.events import EventStore
from hm_recsys.registry import registry_dir
from hm_recsys.api import free_port
from hm_recsys.serving import HMRecommender
from .common import ROOT, machine
from .load_api import Connection, customer_mix, load

TOKEN = "bench-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def rss_mb(pid: int) -> float:
    "Resident memory of process `pid` and its children (uvicorn workers), MB."
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    kb = sum(
        int(next(l.split()[1] for l in Path(f"/proc/{p}/status").read_text().splitlines() if l.startswith("VmRSS")))
        for p in pids
        if Path(f"/proc/{p}/status").exists()
    )
    return round(kb / 1024, 1)


class Server:
    "`python -m hm_recsys.api` on a free port, on `registry` and the event database `db`, with the bench's token."

    def __init__(self, params: str, registry: Path, db: Path, workers: int = 1, port: int | None = None):
        self.args, self.port = (params, registry, db, workers), port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> "Server":
        params, registry, db, workers = self.args
        cmd = [sys.executable, "-m", "hm_recsys.api", "--params", params, "--registry", str(registry)]
        env = dict(os.environ, HM_EVENTS_DB=str(db), HM_API_TOKEN=TOKEN)
        self.log = Path(tempfile.mkdtemp()) / "server.log"  # a file, which never fills up as an unread pipe would
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [*cmd, "--port", str(self.port), "--workers", str(workers)], cwd=ROOT, env=env, stderr=log
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).json().get("ready"):
                    return self
            except (httpx.HTTPError, ValueError):
                time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s")

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=10).json()

    def stop(self, sig: int = signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)

    @contextmanager
    def running(self):
        self.start()
        try:
            yield self
        finally:
            self.stop()


def purchase_stream(
    url: str, purchases: list[tuple[str, str]], clients: int, prefix: str, stop: threading.Event
) -> dict:
    "`clients` threads send `purchases` (each with a request id `prefix`-k) until done or `stop`: what got 200, and what was sent without."
    acked, unanswered, lock, jobs = [], [], threading.Lock(), iter(enumerate(purchases))

    def client():
        with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
            for k, (cid, aid) in jobs:  # the iterator is shared: each purchase goes to one client
                if stop.is_set():
                    break
                body = {"customer_id": cid, "article_id": aid, "request_id": f"{prefix}-{k}"}
                try:
                    ok = http.post("/purchases", json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    (acked if ok else unanswered).append(body)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return dict(acked=acked, unanswered=unanswered)


def some_purchases(svc: HMRecommender, n: int, seed: int = 0) -> list[tuple[str, str]]:
    "`n` purchases of random known customers and articles."
    rng = np.random.default_rng(seed)
    c, a = svc.data.customers.customer_id.to_numpy(), svc.data.articles.article_id.to_numpy()
    return list(zip(rng.choice(c, n).tolist(), rng.choice(a, n).tolist()))


def kill(
    params: str, registry: Path, clients: int = 32, n: int = 400, kill_after: float = 3.0, work: Path | None = None
) -> dict:
    "The restart case (SIGTERM), then SIGKILL under `clients` writers, a restart, and a retry of what was not answered."
    work = Path(work or tempfile.mkdtemp())
    db, svc = work / "kill.sqlite", HMRecommender.load(registry)
    server = Server(params, registry, db)
    with server.running():
        plain = purchase_stream(server.url, some_purchases(svc, n, 1), clients, "plain", threading.Event())
    with server.running():
        after_restart = server.health()["recorded_purchases"]
    server.start()
    stop = threading.Event()
    timer = threading.Timer(kill_after, lambda: (server.proc.kill(), stop.set()))
    timer.start()
    t0 = time.perf_counter()
    stream = purchase_stream(server.url, some_purchases(svc, 200_000, 2), clients, "kill", stop)
    seconds = time.perf_counter() - t0
    server.proc.wait(30)
    stored = EventStore(db).frame()
    ids = set(stored.request_id)
    with server.running():  # restarted on the same database; the clients retry what got no answer
        reloaded = server.health()["recorded_purchases"]
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
            answers = [http.post("/purchases", json=b).json() for b in stream["unanswered"]]
        retried = dict(
            sent=len(answers), new=sum(a["new"] for a in answers), already=sum(not a["new"] for a in answers)
        )
        final = server.health()["recorded_purchases"]
    kill_acked = [b["request_id"] for b in stream["acked"]]
    return dict(
        clients=clients,
        restart=dict(acknowledged=len(plain["acked"]), failed=len(plain["unanswered"]), after_restart=after_restart),
        kill=dict(
            after_seconds=round(seconds, 1),
            acknowledged=len(kill_acked),
            acknowledged_present=sum(r in ids for r in kill_acked),
            committed_unanswered=len(ids) - len(plain["acked"]) - len(kill_acked),
            rows=len(stored),
            distinct_request_ids=len(ids),
            reloaded_after_restart=reloaded,
        ),
        retry=dict(retried, recorded_after=final, rows_after=EventStore(db).count()),
    )


def new_version(registry: Path, into: Path):
    "Write a copy of `registry` into `into` as a later `make all` would (atomic folder swap), with a later `created`."
    meta = json.loads((registry / "metadata.json").read_text())
    meta.pop("model_version", None)
    meta["created"] = (np.datetime64("now") + np.timedelta64(1, "s")).astype(str) + "+00:00"
    with atomic_path(into) as tmp:
        shutil.copytree(registry, tmp)
        write_json(meta, tmp / "metadata.json")


def swap(params: str, registry: Path, clients: int = 32, seconds: float = 30, work: Path | None = None) -> dict:
    "A later registry taken up by `POST /admin/reload` under `clients` clients; purchases recorded before it kept."
    work = Path(work or tempfile.mkdtemp())
    served, svc = work / "registry", HMRecommender.load(registry)
    shutil.copytree(registry, served)
    warm = svc.data.customers.customer_id[svc.data.customers.purchases > 0].tolist()
    with Server(params, served, work / "swap.sqlite").running() as server:
        before = server.health()
        stream = purchase_stream(server.url, some_purchases(svc, 50, 3), 4, "swap", threading.Event())

        def reload():
            time.sleep(seconds / 3)
            new_version(registry, served)
            t = time.perf_counter()
            answer = httpx.post(f"{server.url}/admin/reload", headers=AUTH, timeout=300).json()
            return dict(answer, reload_seconds=round(time.perf_counter() - t, 1))

        under = asyncio.run(load(server.url, warm[:5000], clients, seconds, reload))
        after = server.health()
    return dict(
        clients=clients,
        seconds=seconds,
        **{k: under[k] for k in ("requests", "errors", "first_errors", "p99_ms", "versions_served")},
        version_before=before["model_version"],
        version_after=after["model_version"],
        reload=under["during"],
        purchases_before_swap=len(stream["acked"]),
        purchases_after_swap=after["recorded_purchases"],
    )


def soak(params: str, registry: Path, clients: int = 32, minutes: float = 10, work: Path | None = None) -> dict:
    "`minutes` of 90% recommendations (many distinct customers) and 10% purchases: per minute, errors, latency, memory."
    work = Path(work or tempfile.mkdtemp())
    svc = HMRecommender.load(registry)
    ids, buys = customer_mix(svc, 50_000, seed=4), some_purchases(svc, 200_000, 5)
    rows = []

    async def one(server: Server, k: int, deadline: float, minute: list):
        conn, i = Connection("127.0.0.1", server.port), k * 7919
        await conn.open()
        while time.perf_counter() < deadline:
            buy = i % 10 == 9
            if buy:
                cid, aid = buys[i % len(buys)]
                path, body = "/purchases", {"customer_id": cid, "article_id": aid, "request_id": f"soak-{k}-{i}"}
            else:
                path, body = "/recommend", {"customer_id": ids[i % len(ids)], "top_k": 12}
            t = time.perf_counter()
            try:
                status, _ = await conn.post(path, json.dumps(body).encode(), AUTH if buy else None)
                kind = ("buy" if buy else "rec") if status == 200 else "err"
            except (OSError, asyncio.IncompleteReadError, ValueError):
                kind = "err"
                await conn.open()
            minute[-1][kind].append(time.perf_counter() - t)  # one event loop: no lock needed
            i += 1
        conn.writer.close()

    def summary(m: dict, pid: int) -> dict:
        q = lambda xs, p: round(float(np.percentile(np.array(xs) * 1000, p)), 2) if xs else None
        return dict(
            minute=len(rows) + 1,
            requests=sum(map(len, m.values())),
            errors=len(m["err"]),
            purchases=len(m["buy"]),
            recommend_p50_ms=q(m["rec"], 50),
            recommend_p99_ms=q(m["rec"], 99),
            purchase_p50_ms=q(m["buy"], 50),
            purchase_p99_ms=q(m["buy"], 99),
            rss_mb=rss_mb(pid),
        )

    async def run(server: Server):
        minute = [dict(rec=[], buy=[], err=[])]
        deadline = time.perf_counter() + minutes * 60
        tasks = [asyncio.create_task(one(server, k, deadline, minute)) for k in range(clients)]
        while time.perf_counter() < deadline:
            await asyncio.sleep(min(60, deadline - time.perf_counter()))
            minute.append(dict(rec=[], buy=[], err=[]))
            if time.perf_counter() < deadline:
                rows.append(summary(minute[-2], server.proc.pid))
        await asyncio.gather(*tasks)  # the last minute, with the requests under way at the deadline
        rows.append(summary({k: minute[-2][k] + minute[-1][k] for k in minute[-1]}, server.proc.pid))

    with Server(params, registry, work / "soak.sqlite").running() as server:
        start_rss = rss_mb(server.proc.pid)
        asyncio.run(run(server))
        health = server.health()
    return dict(
        clients=clients,
        minutes=minutes,
        start_rss_mb=start_rss,
        per_minute=rows,
        errors=sum(r["errors"] for r in rows),
        recorded_purchases=health["recorded_purchases"],
        purchases_acknowledged=sum(r["purchases"] for r in rows),
    )


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="default")
    ap.add_argument("--only", default="kill,swap,soak")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30, help="of the swap run")
    ap.add_argument("--minutes", type=float, default=10, help="of the soak run")
    ap.add_argument("--out", default=str(ROOT / "reports" / "durability.json"))
    a = ap.parse_args()
    reg, out = registry_dir(load_config(a.params)), Path(a.out)
    res = json.loads(out.read_text()) if out.exists() else {}
    with tempfile.TemporaryDirectory() as work:
        for name in a.only.split(","):
            t = time.perf_counter()
            if name == "kill":
                res["kill"] = kill(a.params, reg, a.clients, work=Path(work))
            elif name == "swap":
                res["swap"] = swap(a.params, reg, a.clients, a.seconds, work=Path(work))
            elif name == "soak":
                res["soak"] = soak(a.params, reg, a.clients, a.minutes, work=Path(work))
            else:
                sys.exit(f"--only: {name!r} is none of kill, swap, soak")
            res[name]["run_seconds"] = round(time.perf_counter() - t, 1)
            print(name, json.dumps(res[name], indent=1)[:3000], flush=True)
    res.update(params=a.params, machine=machine(), at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    write_json(res, out)


if __name__ == "__main__":
    main()
