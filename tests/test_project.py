"The project's set-up files agree with each other."
import re, tomllib
from pathlib import Path
import yaml
from hm_recsys.config import load_config

ROOT = Path(__file__).resolve().parents[1]

def test_environment_yml_mirrors_pyproject():
    deps = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['dependencies']
    env = yaml.safe_load((ROOT/'environment.yml').read_text())
    assert 'python=3.11' in env['dependencies']
    pip = next(d['pip'] for d in env['dependencies'] if isinstance(d, dict))
    assert pip[:-1] == deps, "environment.yml's pip list must equal pyproject.toml's dependencies, in order"
    assert pip[-1] == '-e .[dev]'

def test_every_params_file_loads():
    for p in sorted((ROOT/'params').glob('*.yaml')):
        if p.stem == 'kaggle': continue  # needs DATA=...
        cfg = load_config(p.stem)
        assert cfg.dataset and cfg.reports_dir

def test_makefile_is_safe_and_pins_cpu_torch():
    mk = (ROOT/'Makefile').read_text()
    assert '.DELETE_ON_ERROR:' in mk
    assert re.search(r'pip install .*torch==2\.13\.0', mk)
    assert '-k hm-recsys' in mk

def test_readme_gives_the_two_commands():
    readme = (ROOT/'README.md').read_text()
    assert 'make all' in readme and 'make test' in readme

def test_kaggle_params_need_a_data_folder(monkeypatch):
    import pytest
    monkeypatch.delenv('HM_DATA_DIR', raising=False)
    with pytest.raises(ValueError, match='make all DATA='): load_config('kaggle')
    assert load_config('kaggle', data_dir='/somewhere').raw_dir == Path('/somewhere')

def test_pipeline_never_writes_into_a_data_folder(tmp_path):
    "`make all DATA=...` only reads the user's files: every output of the pipeline lands in the reports folder."
    import subprocess
    for name in ('articles.csv', 'customers.csv', 'transactions_train.csv'): (tmp_path/name).write_text('x\n')
    plan = subprocess.run(['make', '-n', '-B', 'pipeline', f'DATA={tmp_path}'], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    moves = [l.split()[-1] for l in plan.splitlines() if l.startswith('mv ')]
    assert moves and all(m.startswith('reports/kaggle/') for m in moves), moves
    assert str(tmp_path) not in ' '.join(l for l in plan.splitlines() if l.startswith('mv '))
