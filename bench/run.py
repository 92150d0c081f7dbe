"""The benchmark suite: quality, retrieval, serving and scale in reports/bench.json and reports/BENCHMARKS.md.

    .venv/bin/python -m bench.run                          # quality + retrieval + serving; scale from reports/scale.json
    .venv/bin/python -m bench.run --only quality,serving   # rerun some sections, keep the others from bench.json
    .venv/bin/python -m bench.scale --preset full --out reports/scale.json && .venv/bin/python -m bench.run --only scale

pipeline  where `make all`'s time goes: bench/fresh.py's fresh clone (reports/fresh.json) and each notebook's wall time
          and peak memory (timings.json, written by `make all` through bench/timed.py)
quality   every recommender on the synthetic default and the real sample, from the metrics.json that `make all` and
          `make real-sample` wrote (nothing is refit here)
retrieval bench/retrieval.py: FAISS flat / IVF / HNSW vs NumPy and PyTorch brute force, one run, ratios to NumPy
serving   bench/load_api.py: HTTP latency under 32 concurrent clients, and in-process `recommend` latency
durability bench/durability.py's results (reports/durability.json): restart and kill -9 under writers, hot swap under
          load, a soak of mixed load
scale     bench/scale.py's results (the full preset end to end), with the targets
device    bench/device.py's results (reports/device/*.json): two-tower training on a GPU and on CPUs, as run there
seeds     bench/seeds.py's results (reports/seeds/*.json): the ranker refit with other seeds, against the heuristics
ablations bench/ablation.py's and bench/ranker_ablation.py's results (reports/**/ablation.json, ranker-ablation.json,
          ranker-two-tower.json)"""

import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path
from hm_recsys.config import load_config
from hm_recsys.evaluation import leaderboard_md
from .ablation import CODE as ABLATION_CODE
from .common import ROOT, machine
from .device import CODE as DEVICE_CODE, RUNS_DIR as DEVICE_RUNS
from .ranker_ablation import CODE as RANKER_ABLATION_CODE
from .scale import CODE as SCALE_CODE
from .seeds import CODE as SEED_CODE, RUNS_DIR as SEED_RUNS, VERSUS

REPORTS = ROOT / "reports"
RUNS = {"synthetic default": REPORTS / "metrics.json", "real sample": REPORTS / "real-sample" / "metrics.json"}
SECTIONS = ("pipeline", "quality", "retrieval", "serving", "durability", "scale", "device", "seeds", "ablations")
PIPELINES = ("default", "real-sample")  # the params whose runs' timings.json the pipeline section reads
ABLATIONS = {
    "two-tower": ("ablation.json", ABLATION_CODE),
    "ranker": ("ranker-ablation.json", RANKER_ABLATION_CODE),
    "ranker two-tower": ("ranker-two-tower.json", RANKER_ABLATION_CODE),
}  # file name in reports/, module


def pipeline() -> dict:
    "bench/fresh.py's fresh run (reports/fresh.json), and each run's notebook timings of its last `make all` (timings.json)."
    read = lambda f: json.loads(f.read_text()) if f.exists() else None
    return {
        "fresh": read(REPORTS / "fresh.json"),
        "timings": {p: read(load_config(p).reports_path / "timings.json") for p in PIPELINES},
    }


def pipeline_md(p: dict) -> list[str]:
    "The fresh run's totals, and a table of every notebook's wall time and peak memory per run."
    fresh, out = p.get("fresh"), ["## Where `make all`'s time goes"]
    if fresh:
        out.append(
            f"`bench/fresh.py` on {fresh['at']}, commit {fresh['commit']}: a fresh clone beside the repository, then "
            f"`make setup` ({fresh['setup_seconds']:.0f} s) and `make all` for each params file in turn, with nothing else "
            "running; then a second `make all` with nothing changed. Targets: setup and the default run within 15 min, "
            "the real sample within 8, nothing changed within 15 s."
        )
        out.append(
            table(
                ["run", "make all s", "with make setup, min", "largest notebook peak RSS GB", "second make all s"],
                [
                    [
                        name,
                        r["seconds"],
                        round((r["seconds"] + fresh["setup_seconds"]) / 60, 2),
                        max(t["peak_rss_gb"] for t in r["notebooks"].values()),
                        r.get("noop_seconds"),
                    ]
                    for name, r in fresh["runs"].items()
                ],
            )
        )
    runs = {n: t for n, t in p["timings"].items() if t} | {
        n: r["notebooks"] for n, r in (fresh or {}).get("runs", {}).items()
    }
    order = list(PIPELINES)  # the default's columns first, whichever file holds them
    runs = dict(sorted(runs.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    if runs:
        names = sorted({nb for t in runs.values() for nb in t}, key=lambda n: (n != "synthetic data", n))
        out.append(
            "Each notebook's last run (`bench/timed.py`, called by `make all`; the fresh run's where there is one): wall "
            "seconds and the kernel's peak resident memory (GB)."
        )
        out.append(
            table(
                ["notebook", *(f"{r} {c}" for r in runs for c in ("s", "GB"))],
                [
                    [
                        nb,
                        *(
                            v
                            for t in runs.values()
                            for v in (t.get(nb, {}).get("seconds"), t.get(nb, {}).get("peak_rss_gb"))
                        ),
                    ]
                    for nb in names
                ],
            )
        )
    return out


def quality() -> dict:
    "Each committed metrics.json, as `06_leaderboard` wrote it."
    return {
        run: json.loads(path.read_text()) if path.exists() else {"missing": str(path.relative_to(ROOT))}
        for run, path in RUNS.items()
    }


def retrieval(n: int, queries: int) -> dict:
    from . import retrieval as r

    return r.run(n=n, n_queries=queries)


def serving(params: str, seconds: float, clients: int) -> dict:
    "Run bench/load_api.py (it starts the API in a separate process) and read its JSON."
    from hm_recsys.registry import REGISTRY_FILES, registry_dir

    reg = registry_dir(load_config(params))
    if not all((reg / f).exists() for f in REGISTRY_FILES):
        return {"missing": f"the registry {reg.relative_to(ROOT)} (run `make all PARAMS={params}` first)"}
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "serving.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load_api",
                "--params",
                params,
                "--clients",
                str(clients),
                "--seconds",
                str(seconds),
                "--out",
                str(out),
            ],
            cwd=ROOT,
            check=True,
        )
        return {"params": params, **json.loads(out.read_text())}


def durability() -> dict | None:
    "bench/durability.py's run (reports/durability.json): it takes over ten minutes, so it is run on its own."
    f = REPORTS / "durability.json"
    return json.loads(f.read_text()) if f.exists() else None


def durability_md(d: dict) -> list[str]:
    "The restart and kill -9 figures, the hot swap under load, and the soak minute by minute."
    out = [
        "## Durability\n\n"
        f"`bench/durability.py --params {d['params']}` on {d['at']}: the API in its own process (`python -m hm_recsys.api`, "
        "as `make serve`), with a write token and its event store. Targets: every acknowledged purchase present after a "
        "restart and after `kill -9`, none twice; 0 failed requests across a hot swap; a soak with 0 errors and memory "
        "that levels off."
    ]
    if k := d.get("kill"):
        r, x, t = k["restart"], k["kill"], k["retry"]
        out.append(
            table(
                [
                    "case",
                    "clients",
                    "acknowledged (200)",
                    "present after restart",
                    "committed, unanswered",
                    "rows",
                    "distinct request ids",
                ],
                [
                    [
                        "SIGTERM, restart",
                        k["clients"],
                        r["acknowledged"],
                        r["after_restart"],
                        None,
                        None,
                        None,
                    ],
                    [
                        f"kill -9 after {x['after_seconds']} s, restart",
                        k["clients"],
                        x["acknowledged"],
                        x["acknowledged_present"],
                        x["committed_unanswered"],
                        x["rows"],
                        x["distinct_request_ids"],
                    ],
                ],
            )
        )
        out.append(
            f"After the `kill -9`, the restarted server reloaded {x['reloaded_after_restart']:,} purchases. The clients then "
            f"retried the {t['sent']} purchases that got no answer, with their request ids: {t['already']} "
            f"{'was' if t['already'] == 1 else 'were'} already recorded (committed just before the kill) and recorded "
            f"nothing, {t['new']} {'was' if t['new'] == 1 else 'were'} new; the store ends with "
            f"{t['rows_after']:,} rows, one per request id."
        )
    if w := d.get("swap"):
        out.append(
            table(
                [
                    "clients",
                    "seconds",
                    "requests",
                    "failed",
                    "p99 ms",
                    "version before",
                    "version after",
                    "reload s",
                    "purchases before / after",
                ],
                [
                    [
                        w["clients"],
                        w["seconds"],
                        w["requests"],
                        w["errors"],
                        w["p99_ms"],
                        w["version_before"],
                        w["version_after"],
                        w["reload"]["reload_seconds"],
                        f"{w['purchases_before_swap']} / {w['purchases_after_swap']}",
                    ]
                ],
            )
        )
    if so := d.get("soak"):
        out.append(
            f"Soak: {so['clients']} clients for {so['minutes']} min, 90% `POST /recommend` over 50,000 customers (80% with "
            f"purchases, 15% without, 5% unknown) and 10% `POST /purchases`. Errors: {so['errors']}; purchases acknowledged "
            f"{so['purchases_acknowledged']:,}, recorded {so['recorded_purchases']:,}. Resident memory at start: "
            f"{so['start_rss_mb']} MB."
        )
        out.append(
            table(
                [
                    "minute",
                    "requests",
                    "errors",
                    "purchases",
                    "recommend p50 / p99 ms",
                    "purchase p50 / p99 ms",
                    "RSS MB",
                ],
                [
                    [
                        r["minute"],
                        r["requests"],
                        r["errors"],
                        r["purchases"],
                        f"{r['recommend_p50_ms']} / {r['recommend_p99_ms']}",
                        f"{r['purchase_p50_ms']} / {r['purchase_p99_ms']}",
                        r["rss_mb"],
                    ]
                    for r in so["per_minute"]
                ],
            )
        )
    return out


def scale() -> dict:
    "bench/scale.py's full run (reports/scale.json), else its tiny check (reports/scale-tiny.json) marked as such; `current` when every stage ran the code of now."
    from hm_recsys.config import code_digest

    for f in ("scale.json", "scale-tiny.json"):
        if (REPORTS / f).exists():
            r, now = json.loads((REPORTS / f).read_text()), code_digest(SCALE_CODE)
            return {**r, "file": f"reports/{f}", "current": all(s.get("code") == now for s in r["stages"])}
    return {"missing": "reports/scale.json (run python -m bench.scale --preset full --out reports/scale.json)"}


def runs(folder: Path, missing: str, module: str, pattern: str = "*.json", key=lambda f, x: f.stem) -> dict:
    """The JSON runs matching `pattern` in `folder`, by `key(file, run)` (the file name), each `current` when its `code` is
    what `module` runs now; `missing` when there are none."""
    from hm_recsys.config import code_digest

    now = code_digest(module)
    return {
        key(f, x): x | {"current": x.get("code") == now}
        for f in sorted(folder.glob(pattern))
        for x in [json.loads(f.read_text())]
    } or {"missing": missing}


def device() -> dict:
    "bench/device.py's runs (reports/device/*.json); they are run where the GPU is, not here."
    return runs(
        DEVICE_RUNS,
        "reports/device/*.json (run python -m bench.device on a machine with a GPU, and on this one)",
        DEVICE_CODE,
    )


def seed_runs() -> dict:
    "bench/seeds.py's runs (reports/seeds/*.json)."
    return runs(
        SEED_RUNS, "reports/seeds/*.json (run python -m bench.seeds after make all and make real-sample)", SEED_CODE
    )


def ablations() -> dict:
    "Per kind of `ABLATIONS`: its runs (reports/**/<file name>) by params."
    return {
        kind: runs(REPORTS, f"reports/**/{name}", module, f"**/{name}", lambda f, x: x["params"])
        for kind, (name, module) in ABLATIONS.items()
    }


# ---------------------------------------------------------------- BENCHMARKS.md
def table(header: list[str], rows: list[list]) -> str:
    fmt = lambda v: "" if v is None else f"{v:,.4f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        + ["| " + " | ".join(map(fmt, r)) + " |" for r in rows]
    )


def on_current_code(run: dict) -> str:
    "Whether a device, seeds, scale or ablation run (from `runs` or `scale`) was made on the code of now."
    return "yes" if run.get("current") else "no: rerun it"


def runs_section(title: str, r: dict | None, intro: str, header: list[str], rows, level: str = "##") -> list[str]:
    """The parts of a section over `runs`' result `r`: its note while none ran, else `intro` and a table of the rows that
    `rows(name, run)` gives, each with a last column that says whether its run was made on the code of now (else its
    figures may be stale)."""
    if not r:
        return []
    if "missing" in r:
        return [f"{level} {title}\n\n*{r['missing']}: not run yet.*"]
    return [
        f"{level} {title}\n\n{intro}",
        table(
            [*header, "on the current code"], [[*row, on_current_code(x)] for n, x in r.items() for row in rows(n, x)]
        ),
    ]


def markdown(b: dict) -> str:
    m = b["machine"]
    parts = [
        "# Benchmarks",
        f"> Written by `make bench` (bench/run.py) on {b['updated']}. Raw figures: `reports/bench.json`.",
        "## Machine",
        table(
            ["CPU", "torch CPU kernels", "cores", "RAM (GB)", "GPU", "OS", "Python", "libraries"],
            [
                [
                    m["cpu"],
                    m["torch_cpu"],
                    m["cores"],
                    m["ram_gb"],
                    m["gpu"] or "none",
                    m["os"],
                    m["python"],
                    ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
                ]
            ],
        ),
        "Two runs on one machine give the same figures, and the same fits bit for bit, whatever else the machine runs: seeds "
        "everywhere, explicit tie-breaks, deterministic LightGBM, MKL's thread count fixed rather than sized by the load "
        "(`04_model`), and the library versions of `constraints.txt`. On another CPU the learned models (the two-tower model, "
        "the blend, the ranker, the implicit peers) can come out slightly different, because the libraries' kernels add "
        "floating-point numbers in another order; the heuristics give the same figures anywhere. Regenerating the reports on "
        "another machine therefore moves the learned rows a little, and can change the ranker's settings where validation "
        "finds them within the noise of each other.",
    ]
    if b.get("pipeline"):
        parts += pipeline_md(b["pipeline"])
    q = b.get("quality")
    if q:
        parts.append(
            "## Quality\n\nEvery recommender of the last `make all` (synthetic default) and `make real-sample` runs, "
            "from their `metrics.json`; MAP@12 is Kaggle's, over the whole catalogue, with a bootstrap 95% interval."
        )
        for run, r in q.items():
            if "missing" in r:
                parts.append(f"### {run}\n\n*{r['missing']}: not there yet.*")
                continue
            parts.append(f"### {run}\n\n{leaderboard_md(r)}")
    r = b.get("retrieval")
    if r:
        parts.append(
            f"## Retrieval\n\nTop-{r['k']} by inner product over {r['vectors']:,} unit vectors of dimension {r['dim']} "
            f"(drawn around {r['clusters']} centres, as embeddings cluster), {r['queries']:,} queries batched and "
            f"{r['single_queries']} one at a time (on one thread, as the API serves them), batches on {r['threads']} threads, all in one run (`bench/retrieval.py`). "
            f"Recall is against exact search; ratios are against NumPy brute force. "
            f"{'; '.join(f'{k}: {v}' for k, v in r['settings'].items())}."
        )
        parts.append(
            table(
                [
                    "method",
                    "recall vs exact",
                    "single query ms",
                    "batched queries/s",
                    "build s",
                    "single x numpy",
                    "batched x numpy",
                ],
                [
                    [
                        n,
                        round(x["recall vs exact"], 4),
                        round(x["single query ms"], 3),
                        round(x["batched queries/s"], 1),
                        round(x["build s"], 2),
                        round(x["single speed-up vs numpy"], 2),
                        round(x["batched speed-up vs numpy"], 2),
                    ]
                    for n, x in r["results"].items()
                ],
            )
        )
    s = b.get("serving")
    if s and "missing" in s:
        parts.append(f"## Serving\n\n*{s['missing']}: not measured yet.*")
    elif s:
        h, ip = s["http"], s["in_process"]
        ips = [("", ip)] if "calls" in ip else list(ip.items())  # load_api: {'first_call': ..., 'repeated': ...}
        load = s.get("load_average_before_after")
        parts.append(
            f"## Serving\n\n`bench/load_api.py` on the registry of params `{s['params']}` ({s['health'].get('articles', '?')} articles): "
            f"the API (`python -m hm_recsys.api`, as `make serve`) in its own process, {h['clients']} closed-loop clients over "
            f"keep-alive connections for {h['seconds']} s, 80% known customers with purchases, 15% without, 5% unknown; "
            "then `recommend` in-process. Targets: HTTP p99 <= 50 ms, in-process p99 <= 5 ms."
            + (
                f" Server CPU per request: {h['server_cpu_ms_per_request']} ms."
                if "server_cpu_ms_per_request" in h
                else ""
            )
            + (f" Load average before/after: {load[0]} / {load[1]} on {s.get('cpus', '?')} cores." if load else "")
        )
        parts.append(
            table(
                ["path", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"],
                [
                    [
                        f"HTTP, {h['clients']} clients",
                        h["requests"],
                        h["errors"],
                        h["rps"],
                        h["p50_ms"],
                        h["p90_ms"],
                        h["p99_ms"],
                        h["max_ms"],
                    ]
                ]
                + [
                    [
                        f"in-process recommend{f' ({k.replace(chr(95), chr(32))})' if k else ''}",
                        x["calls"],
                        0,
                        None,
                        x["p50_ms"],
                        None,
                        x["p99_ms"],
                        None,
                    ]
                    for k, x in ips
                ],
            )
        )
    if b.get("durability"):
        parts += durability_md(b["durability"])
    sc = b.get("scale")
    if sc:
        if "missing" in sc:
            parts.append(f"## Scale\n\n*{sc['missing']}: not run yet.*")
        else:
            check = (
                ""
                if sc["preset"] == "full"
                else (
                    f"**Only the `{sc['preset']}` check so far: the `full` preset (Kaggle size) is run "
                    "with `python -m bench.scale --preset full --out reports/scale.json`.** "
                )
            )
            slow = max(sc["stages"], key=lambda x: x["wall_s"])
            parts.append(
                f"## Scale\n\n{check}The `{sc['preset']}` synthetic preset end to end (`bench/scale.py`), each stage in its own "
                f"process (peak RSS is that process's). Two-tower training on the last {sc['params']['model']['train_days']} days; "
                "the ranker (`rank`) with its default settings (`RANKER_DEFAULTS`): one fit, then the stored lists of every "
                "customer (05c also fits the settings it compares on the validation cutoff). "
                f"Targets: whole run <= {sc['targets']['total_minutes']} min, peak RSS <= {sc['targets']['peak_rss_gb']} GB."
                + (
                    f" Rerun alone (`--stages`) on the data the other stages wrote: {', '.join(sc['rerun'])}; the total sums the "
                    "stages' wall times."
                    if sc.get("rerun")
                    else ""
                )
            )
            parts.append(
                table(
                    ["stage", "wall s", "CPU s", "peak RSS GB", "ok", "facts"],
                    [
                        [
                            x["stage"],
                            x["wall_s"],
                            x["cpu_s"],
                            x["peak_rss_gb"],
                            x["ok"],
                            ", ".join(
                                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in x.items()
                                if k not in ("stage", "wall_s", "cpu_s", "peak_rss_gb", "ok", "code")
                            ),
                        ]
                        for x in sc["stages"]
                    ],
                )
            )
            parts.append(
                f"**Total {sc['total_minutes']} min, peak RSS {sc['peak_rss_gb']} GB: "
                f"{'meets' if sc['meets_targets'] else 'misses'} the targets.** "
                f"The bottleneck stage: `{slow['stage']}`, {slow['wall_s'] / sum(x['wall_s'] for x in sc['stages']):.0%} "
                "of the wall time. "
                f"On the current code: {on_current_code(sc)}."
            )
    parts += runs_section(
        "Two-tower training by device",
        b.get("device"),
        "`bench/device.py`: `fit_two_tower` on the processed tables of a params file "
        "(epoch tuning on the validation window, then the refit on every row before the cutoff), on the device torch "
        "finds (`CUDA_VISIBLE_DEVICES=` hides the GPU for the CPU run of the same machine). Thread counts change the order "
        "of floating-point sums, and on CUDA the sampled negatives come from the GPU's generator, so the curves and "
        "the tuned epochs can differ from machine to machine. The model is small (64-dim towers, batches of 1,024): "
        "per-batch Python work and the per-epoch validation search, on the CPU, take much of the time.",
        ["run", "params", "machine", "device", "threads", "fit s", "tuned epochs", "test Recall@100"],
        lambda n, x: [
            [
                n,
                x["params"],
                x["machine"]["gpu"] or f"{x['machine']['cpu']}, {x['machine']['cores']} cores",
                x["device"],
                x["cpu_threads"],
                x["fit_seconds"],
                x["best_epoch"],
                x["test_recall100"],
            ]
        ],
    )
    parts += runs_section(
        "The ranker over seeds",
        b.get("seeds"),
        "`bench/seeds.py`: the ranker of each run, with the settings 05c chose, refit at the test cutoff with other "
        "seeds (the seed draws the sampled negatives, LightGBM's feature subsets and, where chosen, the two-tower "
        "source's fit) and scored on the test window; the heuristics and the committed ranker are those of the run's "
        "`metrics.json`. Ratios: the seeds' mean, lowest and highest MAP@12 over the heuristic's.",
        [
            "run",
            "seeds",
            "ranker MAP@12 mean",
            "sd",
            "lowest",
            "highest",
            "committed (seed)",
            *(f"x {n}: mean (lowest-highest)" for n in VERSUS),
        ],
        lambda n, x: [
            [
                n,
                len(x["seeds"]),
                x["mean"],
                x["sd"],
                min(x["map@12"]),
                max(x["map@12"]),
                f"{x['committed']['map@12']} ({x['committed']['seed']})",
                *(
                    f"{v['ratio mean']:.3f} ({v['ratio min']:.3f}-{v['ratio max']:.3f})"
                    for v in map(x["versus"].get, VERSUS)
                ),
            ]
        ],
    )
    a = b.get("ablations")
    if a:
        parts.append(
            "## Ablations\n\nOne change at a time to what the run uses, fit at the validation and at the test cutoff and scored "
            "by MAP@12 on each window, for all buyers and for those with a purchase before the cutoff (warm); the run's own "
            "fits and reports stay as they are. On one window of a few thousand buyers, differences of a few percent are "
            "within the noise (see the quality section's intervals)."
        )
        parts += runs_section(
            "The two-tower model's training settings",
            a["two-tower"],
            "`bench/ablation.py`: the `two_tower` recommender's own top 12; the epochs are those of the best "
            "validation MAP@12 (of at most the run's `epochs`), refit on every row before the test window.",
            ["params", "variant", "best epoch", "validation MAP@12", "test MAP@12", "test warm", "test cold", "s"],
            lambda p, x: [
                [
                    p,
                    n,
                    v["best_epoch"],
                    max(v["validation_map@12"]),
                    *(v["test_map@12"][k] for k in ("all", "warm", "cold")),
                    v["seconds"],
                ]
                for n, v in x["variants"].items()
            ],
            level="###",
        )
        header = ["params", "variant", "kind", "validation MAP@12", "validation warm", "test MAP@12", "test warm", "s"]
        rows = lambda p, x: [
            [p, n, v["kind"], v["validation"], v["validation warm"], v["test"], v["test warm"], v["seconds"]]
            for n, v in x["variants"].items()
        ]
        parts += runs_section(
            "The ranker's settings, candidate sources and features",
            a["ranker"],
            "`bench/ranker_ablation.py`: the ranker with the settings 05c chose (`ranker.json`), changed in one "
            "LightGBM or sampling setting, one candidate source, or by one group of extra features, and scored as "
            "served (the cold policy 05c chose).",
            header,
            rows,
            level="###",
        )
        parts += runs_section(
            "The two-tower source in the ranker",
            a.get("ranker two-tower"),
            "What `05c` no longer searches: the ranker as chosen, and with the two-tower model as a source and a feature "
            "(refit at every training window and cutoff), from `python -m bench.ranker_ablation --variants "
            "'as chosen,two-tower source' --out reports/<run>/ranker-two-tower.json`; `s` is each variant's time for "
            "both windows.",
            header,
            rows,
            level="###",
        )
    parts.append(
        "## Notes\n\nThe machine may be shared with other jobs: single-query latencies are the most sensitive to that. "
        "Rerun one section with `python -m bench.run --only SECTION`. *On the current code*: whether a device, seeds, scale or ablation run was made on "
        'the package code of now (the module it runs and every module that one imports); "no" marks figures that may be stale.'
    )
    return "\n\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(SECTIONS), help="sections to (re)run; others are kept from bench.json")
    ap.add_argument("--serving-params", default="default", help="params whose registry the API serves")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--vectors", type=int, default=105_542)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--out", default=str(REPORTS))
    a = ap.parse_args()
    only = a.only.split(",")
    if bad := set(only) - set(SECTIONS):
        sys.exit(f"unknown section(s) {sorted(bad)}; sections: {','.join(SECTIONS)}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    b = json.loads((out / "bench.json").read_text()) if (out / "bench.json").exists() else {}
    run = {
        "pipeline": pipeline,
        "quality": quality,
        "retrieval": lambda: retrieval(a.vectors, a.queries),
        "serving": lambda: serving(a.serving_params, a.seconds, a.clients),
        "durability": durability,
        "scale": scale,
        "device": device,
        "seeds": seed_runs,
        "ablations": ablations,
    }
    for s in SECTIONS:
        if s in only:
            t = time.perf_counter()
            b[s] = run[s]()
            print(f"{s}: {time.perf_counter() - t:.0f} s", flush=True)
    b.update(machine=machine(), updated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    (out / "bench.json").write_text(
        json.dumps({k: b[k] for k in ["machine", "updated", *SECTIONS] if k in b}, indent=2, default=str) + "\n"
    )
    (out / "BENCHMARKS.md").write_text(markdown(b))
    print(f"wrote {out / 'bench.json'} and {out / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()
