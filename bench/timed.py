"""Run a command and record its wall time and peak memory under a name in a JSON file; exits with the command's status.

`make all` runs every notebook through it, into `<reports_dir>/timings.json`: the peak resident memory is that of the
largest process the command waited for, so for papermill that of the Jupyter kernel that ran the notebook.
    .venv/bin/python -m bench.timed reports/timings.json 05c_ranker -- .venv/bin/papermill ..."""

import fcntl, json, os, resource, subprocess, sys, time
from datetime import datetime, timezone
from pathlib import Path


def record(path: Path, name: str, entry: dict) -> dict:
    """Set `name` to `entry` in the JSON object at `path`, written atomically (a temporary file, then a rename), under a
    lock: `make -j` runs notebooks side by side."""
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[name] = entry
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")
        tmp.replace(path)
    return data


def run(path: Path, name: str, cmd: list[str]) -> int:
    "Run `cmd`; on success, record its wall seconds, CPU seconds and peak RSS (GB) as `name` in `path`."
    t0 = time.perf_counter()
    rc = subprocess.call(cmd)
    wall, use = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc == 0:
        at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cpu = use.ru_utime + use.ru_stime
        record(path, name, {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "peak_rss_gb": round(use.ru_maxrss / 2**20, 3), "at": at})  # fmt: skip
    return rc


if __name__ == "__main__":
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(f"usage: python -m bench.timed FILE.json NAME -- COMMAND...\n{__doc__}")
    Path(sys.argv[1]).parent.mkdir(parents=True, exist_ok=True)
    sys.exit(run(Path(sys.argv[1]), sys.argv[2], sys.argv[4:]))
