# hm-recsys: `make all` reproduces every report, `make test` checks everything. `make help` lists the rest.
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The exact versions the committed reports were made with (`make lock` writes them). `make setup LOCK=` installs
# instead the newest versions that pyproject.toml's ranges allow.
LOCK ?= constraints.txt
PIN = $(if $(LOCK),-c $(LOCK),--upgrade --upgrade-strategy eager)

# Which run: a params file name (params/NAME.yaml). `make all DATA=/path` runs on the real Kaggle files.
DATA ?=
PARAMS ?= $(if $(DATA),kaggle,default)
P := params/$(PARAMS).yaml
$(if $(wildcard $(P)),,$(error PARAMS=$(PARAMS): there is no $(P). Name a file of params/: $(basename $(notdir $(wildcard params/*.yaml)))))
yaml = $(strip $(shell sed -n 's/^$(1): *"\{0,1\}\([^"\#]*\)"\{0,1\}.*/\1/p' $(P)))
DATASET := $(call yaml,dataset)
SOURCE := $(call yaml,source)
R := $(call yaml,reports_dir)
# DATA reaches every notebook and the service as HM_DATA_DIR, which load_config reads where the params file has no data_dir.
ifneq ($(DATA),)
$(if $(call yaml,data_dir),$(error $(P) sets its own data_dir: use DATA= with a params file without one, e.g. PARAMS=kaggle))
export HM_DATA_DIR := $(abspath $(DATA))
endif
RAW := $(if $(filter synthetic,$(SOURCE)),data/$(DATASET)/raw,$(or $(call yaml,data_dir),$(HM_DATA_DIR)))
LIB := $(wildcard hm_recsys/*.py)
# A report depends on the code its notebook runs: the digest of the modules it imports or exports, and of those they
# import (hm_recsys.config.code_digest). Content, not file times: nbdev-export rewrites every module, changed or not.
CODE := .make/code

# papermill writes a failed run's notebook too: write to a temporary name, rename on success; on failure, say where it is.
# The output is always $(R)/<notebook>, named from the notebook ($<), never from the target. bench/timed.py records each
# run's wall time and peak memory (the kernel's) in $(R)/timings.json, which reports/BENCHMARKS.md tables (make bench).
# Progress bars redraw at most once a minute there, so that the executed notebooks stay readable; they are text bars
# (the kernel has no ipywidgets), so tqdm's hint to install ipywidgets is left out of the reports (a user's own
# PYTHONWARNINGS is kept).
define run_nb
@mkdir -p $(R)
TQDM_MININTERVAL=60 PYTHONWARNINGS="$${PYTHONWARNINGS:+$$PYTHONWARNINGS,}ignore:IProgress not found" \
  $(BIN)/python -m bench.timed $(R)/timings.json $(basename $(notdir $<)) -- \
  $(BIN)/papermill -k hm-recsys --cwd nbs --log-output --log-level WARNING \
  -p params $(abspath $(P)) $< $(R)/$(notdir $<).tmp.ipynb \
  || { echo "$(notdir $<) failed: the executed notebook, with the error, is $(R)/$(notdir $<).tmp.ipynb"; exit 1; }
@mv $(R)/$(notdir $<).tmp.ipynb $(R)/$(notdir $<)
endef

NBS := 00_config 00_data 01_eda 02_etl 03_features 03a_evaluation 04_model 05_index 05a_registry 05b_candidates 05c_ranker \
  06_leaderboard 07_events 07_serving 07a_app 07b_api 07c_space 08_submission
ifeq ($(SOURCE),synthetic)  # the generator, its oracle and its realism table
NBS := 00a_synthetic 00b_oracle $(NBS) 03b_realism
endif
REPORTS := $(foreach n,$(NBS),$(R)/$(n).ipynb)

.PHONY: help setup lock all pipeline test lint test-notebooks test-py export clean-nbs lab real-sample demo screenshot serve space events-export docs readme bench bench-scale clean
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "  Runs: make all (synthetic default) | make all PARAMS=real-sample | make all DATA=/path/to/kaggle"

# $(call content_stamp,python code): write what the code prints to $@, and keep $@ and its time when that is unchanged,
# so that what depends on $@ counts by content. `+`: it runs under `make -n` too, so that a dry run plans what a real
# run would. A failure stops with its message, the last line of the traceback.
define content_stamp
+@test -x $(BIN)/python || exit 0; mkdir -p $(@D); \
  $(BIN)/python -c "$(1)" > $@.new 2> $@.err || { tail -n 1 $@.err; rm -f $@.new $@.err; exit 1; }; \
  rm -f $@.err; cmp -s $@.new $@ && rm $@.new || mv $@.new $@
endef

.PRECIOUS: $(CODE)/%.sha
$(CODE)/%.sha: nbs/%.ipynb $(LIB) | $(STAMP)
	$(call content_stamp,$(code_digest))
code_digest = from hm_recsys.config import code_digest as d, imported_modules as m; print(d(*m(open('$<').read())))
# One module's code and what it imports: the generator's, for the data it writes.
.PRECIOUS: $(CODE)/module/%.sha
$(CODE)/module/%.sha: $(LIB) | $(STAMP)
	$(call content_stamp,from hm_recsys.config import code_digest; print(code_digest('$*')))

# Reinstall when what .venv was installed from changed: by content, not file times (nbdev-export rewrites pyproject.toml
# with the same text), and checked on every run, so that `make setup LOCK=` upgrades an up-to-date .venv.
SETUP_FROM := pyproject.toml $(LOCK)
.PHONY: FORCE
$(STAMP): $(SETUP_FROM) FORCE
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@cat $(SETUP_FROM) | cmp -s - $(VENV)/installed.from || { set -x; \
	  $(BIN)/python -m pip install -q --upgrade pip; \
	  $(BIN)/python -m pip install -q $(PIN) torch==2.13.0; \
	  $(BIN)/python -m pip install -q $(PIN) -e '.[dev]'; \
	  $(BIN)/python -m ipykernel install --sys-prefix --name hm-recsys --display-name "Python 3 (hm-recsys)" >/dev/null; \
	  if [ -d .git ]; then $(BIN)/nbdev-install-hooks --diff False >/dev/null && $(BIN)/pre-commit install >/dev/null && \
	    sed -i 's|= nbdev-merge|= $(abspath $(BIN))/nbdev-merge|' .gitconfig; fi; \
	  cat $(SETUP_FROM) > $(VENV)/installed.from; }
	@touch $@

setup: $(STAMP) ## Create .venv, install the project and its Jupyter kernel

# Not on $(STAMP), which would reinstall the old lock before pinning.
lock: ## Pin the versions installed in .venv into constraints.txt (to upgrade: make setup LOCK=; make lock; make all)
	@test -x $(BIN)/python || { echo "No $(VENV): run make setup first."; exit 1; }
	@{ echo "# The exact versions behind the committed reports: make setup installs these (pip -c). Written by make lock."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/+[^+]*$$//'; } > constraints.txt.tmp
	@mv constraints.txt.tmp constraints.txt

export: $(STAMP) ## Export the notebooks to the hm_recsys package
	$(BIN)/nbdev-export

all: $(STAMP) ## Run the whole pipeline (PARAMS=default) into reports/, then refresh README.md
	$(MAKE) --no-print-directory pipeline
	$(BIN)/python docs/build.py readme

pipeline: $(REPORTS)

real-sample: ## Run the pipeline on ../shared/data/hm-real-sample into reports/real-sample/
	$(MAKE) --no-print-directory all PARAMS=real-sample

# The data by content: data.fingerprint (names, sizes and samples of the files, as 02_etl's cache uses), so that a
# copy or a touch of the files reruns nothing. Taken on every run (another DATA= folder may hold older files), before any
# notebook: a missing file stops here, with the loader's message.
DATA_FP := .make/data/$(DATASET).fp
.PRECIOUS: $(DATA_FP)
$(DATA_FP): FORCE | $(STAMP)
	$(call content_stamp,from hm_recsys.data import fingerprint; from hm_recsys.config import load_config; print(fingerprint(load_config('$(P)'))))
ifeq ($(SOURCE),synthetic)  # the generator writes data/<dataset>/raw; a user's data folder is only ever read
# The data depends on the params and the generator's code only (not on 00a's narration, nor on the oracle or the realism
# table). ensure_synthetic keeps it when they did not change what it holds; the touch dates it after them all the same,
# so that it is not remade on every run.
$(RAW)/transactions_train.csv: $(P) $(CODE)/module/synthetic.sha | $(STAMP)
	$(BIN)/python -m bench.timed $(R)/timings.json "synthetic data" -- \
	  $(BIN)/python -c "from hm_recsys.config import load_config; from hm_recsys.synthetic import ensure_synthetic; ensure_synthetic(load_config('$(P)'))"
	@touch $@
$(R)/00a_synthetic.ipynb $(DATA_FP): $(RAW)/transactions_train.csv
endif
# Every executed notebook: its source, the params and its code; then what each one reads.
$(REPORTS): $(R)/%.ipynb: nbs/%.ipynb $(P) $(CODE)/%.sha | $(STAMP) $(DATA_FP)
	$(run_nb)
$(R)/00_data.ipynb $(R)/01_eda.ipynb $(R)/02_etl.ipynb $(R)/03b_realism.ipynb: $(DATA_FP)
$(R)/03_features.ipynb $(R)/03a_evaluation.ipynb: $(R)/02_etl.ipynb
$(R)/04_model.ipynb: $(R)/03_features.ipynb
$(R)/05_index.ipynb: $(R)/04_model.ipynb
$(R)/05a_registry.ipynb: $(R)/05_index.ipynb
$(R)/05b_candidates.ipynb: $(R)/05a_registry.ipynb
$(R)/05c_ranker.ipynb: $(R)/05b_candidates.ipynb
$(R)/06_leaderboard.ipynb $(R)/07_events.ipynb $(R)/07_serving.ipynb $(R)/07a_app.ipynb $(R)/07b_api.ipynb $(R)/07c_space.ipynb \
  $(R)/08_submission.ipynb: $(R)/05c_ranker.ipynb

# pytest runs every notebook on tiny data through papermill (tests/test_pipeline.py, make pipeline in a copy) and the
# real-file notebooks once more on Kaggle-format files (tests/test_project.py): nbdev-test would be a third run of each.
test: $(STAMP) ## Check the export and the lint, then pytest (which runs every notebook on tiny data)
	$(BIN)/nbdev-export
	@git diff --quiet -- hm_recsys 2>/dev/null || { echo "hm_recsys/ differs from the notebooks: run make export and commit"; git --no-pager diff --stat -- hm_recsys; exit 1; }
	$(MAKE) --no-print-directory lint test-py

lint: $(STAMP) ## ruff check and ruff format --check (pyproject.toml), as the pre-commit hook runs them
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-notebooks: $(STAMP) ## Run every notebook on tiny data in place (nbdev-test): a quick check while editing them
	$(BIN)/nbdev-test --n-workers 0 --do-print --timing

test-py: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP) ## Start the Gradio demo on 127.0.0.1:7860 (the registry of PARAMS, built by make all)
	$(BIN)/python -m hm_recsys.api --params $(PARAMS) --demo

screenshot: $(STAMP) ## Retake the screenshots (Chromium): the demo on PARAMS' registry (and after a bad id, and on a phone), the docs site once make docs built it
	$(BIN)/python docs/screenshot.py demo $(PARAMS) $(R)/figures/demo.png
	@if [ -f _docs/index.html ]; then $(BIN)/python docs/screenshot.py site _docs/index.html reports/figures/docs.png; \
	else echo "No _docs/index.html: after make docs, make screenshot retakes reports/figures/docs.png too."; fi

serve: $(STAMP) ## Start the HTTP API (/health, /recommend, /purchases, /docs) with the demo at /
	$(BIN)/python -m hm_recsys.api --params $(PARAMS)

space: $(STAMP) ## A folder that deploys as a Hugging Face Space (app.py, requirements.txt, the package, PARAMS' registry): space/<dataset>/
	$(BIN)/python -m hm_recsys.space --params $(PARAMS)

events-export: $(STAMP) ## Write the purchases the service recorded as Kaggle rows (events/<dataset>/), which the next make all reads
	$(BIN)/python -m hm_recsys.events --params $(PARAMS)

docs: $(STAMP) ## Build the docs site into _docs/ (nbdev-docs with Quarto, else a static fallback)
	$(BIN)/python docs/build.py readme
	$(BIN)/python docs/build.py

readme: $(STAMP) ## Regenerate README.md from nbs/index.ipynb, the latest metrics and seed runs
	$(BIN)/python docs/build.py readme

bench: $(STAMP) ## Benchmarks into reports/bench.json and reports/BENCHMARKS.md (after make all)
	$(BIN)/python -m bench.run

bench-scale: $(STAMP) ## The full preset end to end (about an hour on 2 cores; target 45 min): reports/scale.json, then BENCHMARKS.md
	$(BIN)/python -m bench.scale --preset full --out reports/scale.json
	$(BIN)/python -m bench.run --only scale

clean-nbs: $(STAMP) ## Strip notebook outputs and metadata before committing
	$(BIN)/nbdev-clean

lab: $(STAMP) ## Open JupyterLab on the notebooks
	$(BIN)/jupyter lab --notebook-dir=nbs --ip=127.0.0.1

clean: ## Remove generated data, artifacts and .make (keeps .venv, reports/ and the recorded purchases in events/): the next make all reruns every notebook
	rm -rf data artifacts _docs _proc .make
