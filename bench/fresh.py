"""A fresh run: clone the repository, then time `make setup` and `make all` for each params file, as a newcomer would.

The clone goes beside the repository (the real sample's params name `../shared/...` relative to it) and starts with no
`.venv`, no data, no fits and no `.make` stamps, so every step runs. Writes reports/fresh.json: the commit, the wall
time of `make setup`, of each `make all` and of a second one with nothing changed, and each run's `timings.json`
(every notebook's wall time and peak memory, as bench/timed.py recorded them). With `--keep-reports` the clone's reports replace the committed
ones: the regeneration and the measurement are then one run. Let nothing else run on the machine meanwhile.
    .venv/bin/python -m bench.fresh --params default,real-sample --keep-reports   # about 20 minutes on 2 cores"""

import argparse, json, shutil, subprocess, time
from pathlib import Path
from .common import ROOT, machine
from hm_recsys.config import load_config, write_json

OUT = ROOT / "reports" / "fresh.json"


def timed(cmd: list[str], cwd: Path) -> float:
    "Run `cmd` in `cwd`; its wall seconds. Fails when it fails."
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True)
    return round(time.perf_counter() - t0, 1)


def main(params: list[str], keep_reports: bool, out: Path = OUT) -> dict:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    clone = ROOT.parent / f"{ROOT.name}-fresh"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    result = {"commit": commit.strip()[:12], "setup_seconds": timed(["make", "setup"], clone), "runs": {}}
    for p in params:
        seconds = timed(["make", "all", f"PARAMS={p}"], clone)
        reports = load_config(p).reports_dir  # relative to the project root: the clone's, then ours
        timings = json.loads((clone / reports / "timings.json").read_text())
        result["runs"][p] = {"seconds": seconds, "notebooks": timings}
        print(p, seconds, flush=True)
        if keep_reports:
            shutil.copytree(clone / reports, ROOT / reports, dirs_exist_ok=True)
    for p in params:  # a second make all, nothing changed: what every make after a finished one costs
        result["runs"][p]["noop_seconds"] = timed(["make", "all", f"PARAMS={p}"], clone)
    result |= {"machine": machine(), "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    write_json(result, out)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.fresh", description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="default,real-sample", help="comma-separated params files, run in this order")
    ap.add_argument("--keep-reports", action="store_true", help="copy the clone's reports over the repository's")
    a = ap.parse_args()
    main(a.params.split(","), a.keep_reports)
