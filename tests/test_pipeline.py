"""The tiny run end to end in a copy of the project: its metrics equal the recorded ones, and a change reruns only what
it touches (`make -n` plans it, and a model that did not change is loaded, not refit)."""

import json, os, re, shutil, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected" / "tiny-metrics.json"
HEURISTICS = ("popularity", "decayed_popularity", "repurchase_decayed", "age_popularity", "oracle", "oracle_sold")
FIGURES = ("map@12", "recall@12", "ndcg@12", "hitrate@12", "recall@100", "coverage@12", "customers")


def figures(report: dict) -> dict:
    "Every figure of a metrics.json that a code change must not move (timings left out)."
    return {
        n: {
            **{k: r[k] for k in FIGURES},
            "ci95": r["ci95"]["map@12"],
            **{f"{s} map@12": r["segments"][s]["map@12"] for s in ("warm", "cold")},
        }
        for n, r in report["recommenders"].items()
    }


def cpu() -> str:
    "The CPU model: learned models are compared only on the CPU their figures were recorded on."
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "unknown")


def differences(got: dict, want: dict, names) -> list[str]:
    return [
        f"{n} {k}: {got.get(n, {}).get(k)} != {v}"
        for n in names
        for k, v in want[n].items()
        if got.get(n, {}).get(k) != v
    ]


def test_differences_are_found():
    want = {"a": {"map@12": 0.1, "customers": 3}}
    assert differences({"a": {"map@12": 0.1, "customers": 3}}, want, ["a"]) == []
    assert differences({"a": {"map@12": 0.10001, "customers": 3}}, want, ["a"]) == ["a map@12: 0.10001 != 0.1"]


def shared_venv(copy: Path):
    "Link the project's .venv into `copy`, which must not reinstall it (its set-up files are the project's own)."
    installed = (ROOT / ".venv" / "installed.from").read_text() if (ROOT / ".venv" / "installed.from").exists() else ""
    if installed != (ROOT / "pyproject.toml").read_text() + (ROOT / "constraints.txt").read_text():
        pytest.fail(
            ".venv was installed from other set-up files: run `make setup` first (a copy would reinstall it into itself)"
        )
    (copy / ".venv").symlink_to(ROOT / ".venv")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    "A copy of the project's files (as a clean clone has them) with `make pipeline PARAMS=tiny` run in it."
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    copy = tmp_path_factory.mktemp("tiny") / "project"
    for f in files:
        if f and (ROOT / f).is_file():
            (copy / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, copy / f)
    shared_venv(copy)
    ran(copy)
    return copy


def ran(copy: Path, *args) -> list[str]:
    "The notebooks that `make pipeline PARAMS=tiny` ran (or, with -n, would run) in `copy`."
    env = {k: v for k, v in os.environ.items() if k not in ("HM_DATA_DIR", "MAKEFLAGS")}
    r = subprocess.run(  # -j2: notebooks side by side where the chain allows it
        ["make", "--no-print-directory", "-j2", *args, "pipeline", "PARAMS=tiny"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return re.findall(r"nbs/(\w+)\.ipynb data/tiny/reports/", r.stdout)


def test_tiny_metrics_are_unchanged(project):
    "Every figure of the tiny run as recorded: the heuristics anywhere, the learned models on the CPU they were recorded on."
    got, want = (
        figures(json.loads((project / "data" / "tiny" / "reports" / "metrics.json").read_text())),
        json.loads(EXPECTED.read_text()),
    )
    assert set(got) == set(want["recommenders"])
    learned = sorted(set(got) - set(HEURISTICS))
    assert not differences(got, want["recommenders"], HEURISTICS)
    if want["cpu"] != cpu():
        pytest.skip(f"learned models recorded on {want['cpu']!r}, this is {cpu()!r}; the heuristics match")
    assert not differences(got, want["recommenders"], learned)


def edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_change_reruns_only_what_it_touches(project):
    pkg, fits = project / "hm_recsys", project / "artifacts" / "tiny" / "fits"
    assert ran(project, "-n") == []  # nothing changed: no notebook
    edit(
        pkg / "realism.py",
        '"final week: online rows": (0.69, 0.60, 0.78)',
        '"final week: online rows": (0.69, 0.59, 0.78)',
    )  # a tolerance
    assert ran(project, "-n") == ["03b_realism"]
    edit(pkg / "app.py", ".hm-card .hm-name {font-weight:600}", ".hm-card .hm-name {font-weight:700}")  # the demo's CSS
    assert sorted(ran(project, "-n")) == ["03b_realism", "07a_app", "07b_api", "07c_space"]  # the app, what serves it
    assert sorted(ran(project)) == ["03b_realism", "07a_app", "07b_api", "07c_space"]  # as planned
    before = sorted(p.name for p in fits.iterdir())
    with open(pkg / "baselines.py", "a") as f:  # a new baseline
        f.write('\n\nclass Newest(Popularity):\n    "Popularity over the last day."\n\n    name = "newest"\n')
    assert ran(project, "-n") == ["06_leaderboard"]
    assert ran(project) == ["06_leaderboard"]
    assert sorted(p.name for p in fits.iterdir()) == before  # the two-tower model and the ranker were loaded, not refit
    assert ran(project) == []
