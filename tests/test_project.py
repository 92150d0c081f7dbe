"The project's set-up files agree with each other."

import re, tomllib
from importlib import metadata
from pathlib import Path
import pytest, yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from hm_recsys.config import SECTIONS, load_config
from tests.test_pipeline import shared_venv

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_mirrors_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip[0] == "-c constraints.txt" and pip[-1] == "-e .[dev]"
    assert pip[1:-1] == deps, "environment.yml's pip list must equal pyproject.toml's dependencies, in order"


def pins() -> dict[str, str]:
    "constraints.txt (`make lock`) as {canonical name: version}."
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {canonicalize_name(n): v for n, v in (l.split("==") for l in lines if l and not l.startswith("#"))}


def test_constraints_pin_every_dependency_within_its_range():
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = pins()
    for req in map(Requirement, proj["dependencies"] + proj["optional-dependencies"]["dev"]):
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in constraints.txt: run `make lock`"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={locked[name]}, outside {req}"
        )


def test_the_environment_has_the_locked_versions():
    installed_from = (
        ROOT / ".venv" / "installed.from"
    )  # what `make setup` installed from: pyproject.toml, then the lock
    if not installed_from.exists() or not installed_from.read_text().endswith((ROOT / "constraints.txt").read_text()):
        pytest.skip(
            "this environment was not installed from constraints.txt (`make setup LOCK=`, or not by make setup)"
        )
    versions = {canonicalize_name(d.metadata["Name"]): d.version.split("+")[0] for d in metadata.distributions()}
    wrong = {n: (versions[n], v) for n, v in pins().items() if n in versions and versions[n] != v}
    assert not wrong, f"installed (not the locked) versions: {wrong}; run `make setup`, or `make lock` after an upgrade"


def test_every_params_file_loads():
    for p in sorted((ROOT / "params").glob("*.yaml")):
        if p.stem == "kaggle":
            continue  # needs DATA=...
        cfg = load_config(p.stem)
        assert cfg.dataset and cfg.reports_dir


def test_params_sections_are_known(tmp_path):
    "A misspelt block (`modle:`) fails, naming the file, the block, the likely one and every known one; the known all load."
    every = tmp_path / "every.yaml"
    every.write_text("dataset: every\n" + "".join(f"{s}:\n  x: 1\n" for s in SECTIONS))
    assert load_config(every).sections == {s: {"x": 1} for s in SECTIONS} and "blend" in SECTIONS
    typo = tmp_path / "typo.yaml"
    typo.write_text("dataset: typo\nmodle:\n  dim: 8\nrankr: {trees: 5}\nextras: {a: 1}\n")
    with pytest.raises(ValueError) as e:
        load_config(typo)
    msg = str(e.value)
    assert msg.startswith(
        f"{typo}: unknown section(s) 'modle' (did you mean 'model'?), 'rankr' (did you mean 'ranker'?), 'extras';"
    )
    assert msg.endswith(f"the known sections are {', '.join(SECTIONS)}.")


def test_makefile_is_safe_and_pins_cpu_torch():
    mk = (ROOT / "Makefile").read_text()
    assert ".DELETE_ON_ERROR:" in mk
    assert re.search(r"pip install .*torch==2\.13\.0", mk)
    assert "LOCK ?= constraints.txt" in mk and "PIN = $(if $(LOCK),-c $(LOCK)," in mk
    assert mk.count("pip install -q $(PIN) ") == 2  # torch and the project, both pinned
    assert "-k hm-recsys" in mk


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make all" in readme and "make test" in readme


def test_kaggle_params_need_a_data_folder(monkeypatch):
    import pytest

    monkeypatch.delenv("HM_DATA_DIR", raising=False)
    with pytest.raises(ValueError, match="make all DATA="):
        load_config("kaggle")
    assert load_config("kaggle", data_dir="/somewhere").raw_dir == Path("/somewhere")


def test_pipeline_never_writes_into_a_data_folder(tmp_path):
    "`make all DATA=...` only reads the user's files: every output of the pipeline lands in the reports folder."
    import subprocess

    for name in ("articles.csv", "customers.csv", "transactions_train.csv"):
        (tmp_path / name).write_text("x\n")
    plan = subprocess.run(
        ["make", "-n", "-B", "pipeline", f"DATA={tmp_path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    moves = [l.split()[-1] for l in plan.splitlines() if l.startswith("mv ")]
    assert moves and all(m.startswith("reports/kaggle/") for m in moves), moves
    assert str(tmp_path) not in " ".join(l for l in plan.splitlines() if l.startswith("mv "))


def test_make_all_on_a_folder_of_kaggle_files(tmp_path):
    "The user's path, end to end: `make pipeline DATA=<Kaggle files>` (params/kaggle.yaml) in a copy of the project, on the tiny files."
    import json, os, shutil, subprocess
    from hm_recsys.synthetic import ensure_synthetic

    files, raw = tmp_path / "kaggle", ensure_synthetic(load_config("tiny"))
    files.mkdir()
    for name in (
        "articles.csv",
        "customers.csv",
        "transactions_train.csv",
    ):  # the three files alone, as Kaggle gives them
        shutil.copy(raw / name, files / name)
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    copy = tmp_path / "project"
    for f in tracked:
        if (ROOT / f).is_file():
            (copy / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, copy / f)
    shared_venv(copy)
    env = {k: v for k, v in os.environ.items() if k != "HM_DATA_DIR"}
    make = lambda *a, data=files: subprocess.run(
        ["make", "--no-print-directory", "-j2", *a, "pipeline", f"DATA={data}"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    run = make()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = copy / "reports" / "kaggle"
    assert sorted(p.name for p in out.glob("*.ipynb")) == sorted(
        f"{n}.ipynb"
        for n in (
            "00_config",
            "00_data",
            "01_eda",
            "02_etl",
            "03_features",
            "03a_evaluation",
            "04_model",
            "05_index",
            "05a_registry",
            "05b_candidates",
            "05c_ranker",
            "06_leaderboard",
            "07_events",
            "07_serving",
            "07a_app",
            "07b_api",
            "07c_space",
            "08_submission",
        )
    )
    m = json.loads((out / "metrics.json").read_text())
    assert m["dataset"] == "kaggle" and m["recommenders"]["ranker"]["map@12"] > 0
    assert "unknown parameter" not in run.stderr
    stderr = lambda nb: [
        "".join(o["text"])
        for c in json.loads(nb.read_text())["cells"]
        for o in c.get("outputs", [])
        if o.get("name") == "stderr"
    ]
    warned = {nb.name: t[:300] for nb in out.glob("*.ipynb") for t in stderr(nb) if "Warning" in t}
    assert not warned, warned  # the executed notebooks show results and progress bars, no library warnings
    sub = (
        (copy / "artifacts" / "kaggle" / "submission.csv").read_text().splitlines()
    )  # one row per customer of customers.csv
    assert (
        sub[0] == "customer_id,prediction"
        and len(sub) - 1 == len((files / "customers.csv").read_text().splitlines()) - 1
    )
    assert sorted(p.name for p in files.iterdir()) == [
        "articles.csv",
        "customers.csv",
        "transactions_train.csv",
    ]  # only read

    # Incremental: a notebook reruns when the code it runs changed, and only then.
    def ran(r):
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        return re.findall(r"nbs/(\w+)\.ipynb reports/kaggle/", r.stdout)

    with open(copy / "hm_recsys" / "serving.py", "a") as f:
        f.write("\n# an edit\n")
    assert ran(make("-n")) == [
        "07_serving",
        "07a_app",
        "07b_api",
        "07c_space",
    ]  # a dry run plans what the run does: the core and what wraps it
    assert ran(make()) == ["07_serving", "07a_app", "07b_api", "07c_space"]
    assert ran(make()) == []
    # The data by content: files copied again (newer, the same bytes) rerun nothing; a changed file reruns from 00_data.
    for f in files.iterdir():
        os.utime(f)
    assert ran(make()) == []
    # Another folder, with older files: its fingerprint is taken all the same, and other content reruns from 00_data.
    older = tmp_path / "older"
    shutil.copytree(files, older)
    with open(older / "customers.csv", "a") as f:
        f.write(f"{'e' * 64},,,,,,\n")
    for f in older.iterdir():
        os.utime(f, (0, 0))
    assert ran(make("-n", data=older))[:3] == ["00_data", "01_eda", "02_etl"]
    # Bad input stops before any notebook, with a message that says what is wrong.
    bad = make(data=tmp_path / "none")
    assert bad.returncode and "The folder does not exist" in bad.stdout + bad.stderr and "papermill" not in bad.stdout
    nope = subprocess.run(["make", "pipeline", "PARAMS=nope"], cwd=copy, env=env, capture_output=True, text=True)
    assert (
        nope.returncode
        and "there is no params/nope.yaml" in nope.stderr
        and "real-sample" in nope.stderr
        and "sed:" not in nope.stderr
    )
    with open(files / "customers.csv", "a") as f:
        f.write(f"{'f' * 64},,,,,,\n")
    assert ran(make("-n"))[:3] == ["00_data", "01_eda", "02_etl"]
