# Cats vs. dogs: a Keras 3 notebook series. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
JAX_STAMP := $(VENV)/.jax-installed

# make install ACCEL=cuda (Linux x86-64): TensorFlow's CUDA build (tensorflow[and-cuda], with
# NVIDIA's libraries) in place of tensorflow-cpu, at the locked version. .venv remembers it: every
# later sync puts the CUDA build back, until make install ACCEL=cpu.
ACCEL_RECORD := $(VENV)/.accel
RECORDED_ACCEL := $(or $(shell cat $(ACCEL_RECORD) 2>/dev/null),cpu)
ACCEL ?= $(RECORDED_ACCEL)
$(if $(filter-out cpu cuda,$(ACCEL)),$(error ACCEL=$(ACCEL): choose cpu (the default) or cuda))

# make data: where the dataset comes from (petimages, kaggle, or a path or URL of a zip or folder).
SOURCE ?= petimages

# run-all settings: any of these given as VAR=value overrides the profile and CONFIG file.
PROFILE ?=
CONFIG ?=
RUN_SETTINGS := DATA_DIR TEST_DIR TEST_LABELS RUN_DIR EPOCHS IMAGE_SIZE START_IMAGE_SIZE BATCH_SIZE \
	MODEL LEARNING_RATE WEIGHT_DECAY LR_SCHEDULE WARMUP_EPOCHS PRECISION TRAIN_MINUTES \
	MAX_TRAIN_IMAGES VAL_FRACTION AUGMENT SEED TEST_TIME_FLIP TEST_TIME_ZOOM WEIGHTS FINE_TUNE_EPOCHS \
	FINE_TUNE_LEARNING_RATE DISTRIBUTE DEVICES FORCE

# make lab: extra arguments for `jupyter lab` (LAB_ARGS="--port 8890 --no-browser"). Jupyter refuses
# to run as root without --allow-root, so it is added for root only. PROFILE and the run-all
# settings reach the notebooks' kernels as CATSDOGS_* environment variables.
LAB_ARGS ?=
LAB_ROOT_ARG := $(if $(filter 0,$(shell id -u)),--allow-root)

# make bench: the labelled photos (train/, test1/) it measures on, and extra arguments for it.
BENCH_DATA ?= $(if $(wildcard ../shared/datasets/kaggle-cats-dogs-128/train),../shared/datasets/kaggle-cats-dogs-128,data)
BENCH_ARGS ?=
SCALE_SIZES ?=

# make predict / make export: the saved model (default runs/latest/model.keras), the images, a CSV.
MODEL_FILE ?=
IMAGES ?=
OUTPUT ?=
LABELS ?=

.PHONY: help install lock data run-all report evidence test test-unit test-fast test-kills test-numerics lint format clean lab notebooks bench bench-scale predict \
	export tensorboard

help: ## List the targets
	@# Colour the names only on a terminal: piped or redirected, the escape codes would show raw.
	@if [ -t 1 ]; then on='\033[36m'; off='\033[0m'; else on=; off=; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / \
		{printf "  %s%-12s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

# The environment is exactly uv.lock: pip brings the lock's own uv into a new venv, then `uv sync`
# installs the locked versions (and removes anything else, pip included: use .venv/bin/uv pip).
# --compile-bytecode, as pip does: where PYTHONDONTWRITEBYTECODE is set (these machines set it),
# every process would otherwise compile TensorFlow's modules again (17 s an import, not 7).
UV_VERSION = $(shell $(PYTHON) -c "import tomllib; print(next(p['version'] for p in \
	tomllib.load(open('uv.lock', 'rb'))['package'] if p['name'] == 'uv'))")
UV_SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(BIN)/uv sync --locked --compile-bytecode --quiet
# setuptools warns on every editable install that a folder named like the package may shadow it;
# here that folder is the package itself. The warning is raised in the build backend's process.
EDITABLE_QUIET := PYTHONWARNINGS="ignore:Editable installation"
LOCKED_TENSORFLOW = $(shell $(PYTHON) -c "import tomllib; print(next(p['version'] for p in \
	tomllib.load(open('uv.lock', 'rb'))['package'] if p['name'] == 'tensorflow-cpu'))")
CUDA_TENSORFLOW := $(BIN)/uv pip uninstall --python $(BIN)/python --quiet tensorflow-cpu && \
	$(BIN)/uv pip install --python $(BIN)/python --quiet "tensorflow[and-cuda]==$(LOCKED_TENSORFLOW)"
# Around a sync, which installs the lock's tensorflow-cpu and removes what the lock lacks: the CUDA
# build goes first (removed after tensorflow-cpu, it would take files they share), then comes back
# where asked for.
ACCEL_BEFORE_SYNC = $(if $(filter cuda,$(RECORDED_ACCEL)),$(BIN)/uv pip uninstall --python \
	$(BIN)/python --quiet tensorflow)
ACCEL_AFTER_SYNC = $(if $(filter cuda,$(ACCEL)),$(CUDA_TENSORFLOW))
# A sync with the accelerator's build kept (its arguments: the extras). An extra (bench, jax) joins
# what is installed: --inexact keeps the other extra, where a plain sync would take it out. Only
# the install's own sync is exact.
define accel_sync
	$(ACCEL_BEFORE_SYNC)
	$(EDITABLE_QUIET) $(UV_SYNC) $(1)
	$(ACCEL_AFTER_SYNC)
endef
SYNC_EXTRA = --inexact --extra dev --extra
# KERAS_BACKEND=jax (Keras's own variable) trains on JAX: the first command that asks for it
# installs the lock's JAX; make test always does (it trains on JAX too).
NEEDS_JAX := $(if $(filter jax,$(KERAS_BACKEND)),$(JAX_STAMP))

# A change of ACCEL installs again.
$(STAMP): pyproject.toml uv.lock $(if $(filter-out $(RECORDED_ACCEL),$(ACCEL)),accel-changed)
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info < (3, 14) else "Python 3.11 to 3.13 is needed (TensorFlow has no wheels for others): make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(call accel_sync,--extra dev)
	echo $(ACCEL) > $(ACCEL_RECORD)
	touch $(STAMP)

.PHONY: accel-changed
accel-changed:

lock: ## Refresh uv.lock on purpose: the newest versions pyproject.toml allows (then make install)
	$(if $(wildcard $(BIN)/uv),$(BIN)/uv,$(error make lock needs uv: run make install first)) lock --upgrade

install: $(STAMP) $(NEEDS_JAX) ## Create .venv and install the package and its dependencies (idempotent; ACCEL=cuda: TensorFlow for NVIDIA GPUs)

# The long command lines are variables: continued over lines for reading, they run and are shown
# on one line each (make would echo a recipe's backslashes and tabs as written).
show = @printf '%s\n' '$(subst ','"'"',$(strip $(1)))'

DATA_COMMAND = $(BIN)/python -m helpers.cli.data --source "$(SOURCE)" \
	--data-dir "$(or $(DATA_DIR),data)" $(if $(FORCE),--force) $(if $(SHA256),--sha256 $(SHA256))
RUN_ALL_COMMAND = $(BIN)/python -m helpers.cli.run_all $(if $(PROFILE),--profile $(PROFILE)) \
	$(if $(CONFIG),--config $(CONFIG)) $(if $(DATA_DIR)$(CONFIG),,--fetch-data "$(SOURCE)") \
	$(foreach v,$(RUN_SETTINGS),$(if $($(v)),--set $(v)=$($(v))))
# The tests run on a worker per core and one more (TEST_WORKERS=0: in this process, one at a
# time): much of the suite waits (a program starting, a browser, a kill's moment). On 2 cores from
# a fresh clone, 3 workers ran it in 8 min 57 s, 2 workers in 10 min 51 s.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
PYTEST = $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=10
TEST_COMMAND = $(if $(REAL_DATA_DIR),REAL_DATA_DIR=$(REAL_DATA_DIR)) $(PYTEST) \
	--nbval --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks
PREDICT_COMMAND = $(BIN)/python -m helpers.cli.predict $(IMAGES) \
	$(if $(MODEL_FILE),--model "$(MODEL_FILE)") $(if $(OUTPUT),--output "$(OUTPUT)") \
	$(if $(FORCE),--force) $(if $(LABELS),--labels "$(LABELS)") \
	$(if $(filter false 0 no off,$(TEST_TIME_FLIP)),--no-flip) \
	$(if $(TEST_TIME_ZOOM),--zoom $(TEST_TIME_ZOOM))
EXPORT_COMMAND = $(BIN)/python -m helpers.cli.export $(if $(MODEL_FILE),--model "$(MODEL_FILE)") \
	$(if $(IMAGES),--images $(IMAGES)) $(if $(LABELS),--labels "$(LABELS)")
LAB_COMMAND = $(foreach v,PROFILE $(RUN_SETTINGS),$(if $($(v)),CATSDOGS_$(v)="$($(v))")) \
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir lab $(LAB_ROOT_ARG) $(LAB_ARGS)

data: $(STAMP) ## Fetch, verify, lay out and clean the dataset in data/ (SOURCE=petimages|kaggle|path|URL, FORCE=1, SHA256=...)
	$(call show,$(DATA_COMMAND))
	@$(DATA_COMMAND)

run-all: $(STAMP) $(NEEDS_JAX) ## Run notebooks 01-06 headless into runs/<date-time>-<profile>/ (PROFILE=smoke|transfer, EPOCHS=5, DATA_DIR=..., WEIGHTS=..., CONFIG=settings.yaml)
	@# With the default data folder and no photos there yet, the settings are checked, then the
	@# data is fetched as `make data` does (SOURCE=...), then the notebooks run.
	$(call show,$(RUN_ALL_COMMAND))
	@$(RUN_ALL_COMMAND)

report: $(STAMP) ## Write report.html, a run's notebooks on one page, again (RUN_DIR=runs/<folder>; default runs/latest)
	$(BIN)/python -m helpers.cli.report $(if $(RUN_DIR),--run-dir "$(RUN_DIR)")

evidence: $(STAMP) ## Keep a run's or a measurement's figures in docs/evidence/, redo the docs' tables (RUN_DIR=, BENCH_DIR=, SCALE_DIR= or KILLS_DIR=..., NAME=...)
	$(BIN)/python -m benchmarks.evidence $(or $(if $(RUN_DIR),keep-run "$(RUN_DIR)" "$(NAME)"),$(if \
		$(BENCH_DIR),keep-bench "$(BENCH_DIR)" "$(NAME)"),$(if $(SCALE_DIR),keep-scale \
		"$(SCALE_DIR)" "$(NAME)"),$(if $(KILLS_DIR),keep-kills "$(KILLS_DIR)" "$(NAME)"),tables)

test: lint $(BENCH_STAMP) $(JAX_STAMP) ## Lint, unit tests, strict nbval of the notebooks, end-to-end training tests (REAL_DATA_DIR=... adds real photos)
	$(call show,$(TEST_COMMAND))
	@$(TEST_COMMAND)

test-unit: $(STAMP) $(JAX_STAMP) ## The unit tests alone: no notebooks, nothing slow (about 1.5 minutes)
	$(PYTEST) -m "not slow" tests

test-fast: lint $(JAX_STAMP) ## Lint, the tests not marked slow, and strict nbval of the notebooks (03 trains the smoke model)
	$(PYTEST) -m "not slow" --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks

# Each numeric path a machine can take: TensorFlow's oneDNN kernels on and off; PRECISION=auto
# answered as on a CPU with and without bfloat16 in hardware; the real-photo recipe test trained
# in float32 and in mixed_bfloat16 (with REAL_DATA_DIR=...). bfloat16 trains with oneDNN's kernels
# only: without them the recipe test's first epoch took 242 s on an AMX CPU, against 19 s.
NUMERICS_COMMAND = for onednn in 1 0; do \
	for bf16 in no yes; do echo "== TF_ENABLE_ONEDNN_OPTS=$$onednn, bfloat16 CPU: $$bf16"; \
		TF_ENABLE_ONEDNN_OPTS=$$onednn $(PYTEST) -q -m "not slow" \
			--cpu-bfloat16 $$bf16 tests || exit 1; done; \
	echo "== TF_ENABLE_ONEDNN_OPTS=$$onednn: strict nbval"; \
	TF_ENABLE_ONEDNN_OPTS=$$onednn $(BIN)/python -m pytest -q --nbval \
		--nbval-sanitize-with tests/nbval_sanitize.cfg notebooks || exit 1; \
	$(if $(REAL_DATA_DIR),for precision in float32 $$([ $$onednn = 1 ] && echo mixed_bfloat16); do \
		echo "== TF_ENABLE_ONEDNN_OPTS=$$onednn: the recipe test in $$precision"; \
		TF_ENABLE_ONEDNN_OPTS=$$onednn CATSDOGS_PRECISION=$$precision \
		REAL_DATA_DIR=$(REAL_DATA_DIR) $(BIN)/python -m pytest -q -s \
			tests/test_recipe.py || exit 1; done;) \
	done

test-kills: $(STAMP) ## The fault-injection tests alone (SIGKILL at seeded moments); their table in bench/kills-<date-time>/
	@out=bench/kills-$$(date +%Y%m%d-%H%M%S); mkdir -p $$out; \
	KILL_REPORT=$$out/kills.jsonl $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup \
		tests/test_kills.py tests/make_data/test_data_kills.py tests/test_end_to_end.py \
		-k "killed_anywhere" && echo "wrote $$out/kills.jsonl (make evidence KILLS_DIR=$$out NAME=...)"

test-numerics: $(STAMP) ## The tests and notebooks along each numeric path: oneDNN on/off, bfloat16 CPU or not (REAL_DATA_DIR=... adds the recipe test in each precision)
	@$(NUMERICS_COMMAND)

lint: $(STAMP) ## ruff: lint and format check of the package, benchmarks, tests and notebooks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## ruff: sort imports and format the code in place
	$(BIN)/ruff check --select I --fix .
	$(BIN)/ruff format .

clean: ## Remove build and test caches (never data/, runs/ or bench/ results)
	find . -path ./.venv -prune -o -type d \( -name __pycache__ -o -name .ipynb_checkpoints \) -print \
		| xargs rm -rf
	rm -rf .pytest_cache .ruff_cache *.egg-info

$(BENCH_STAMP): $(STAMP)
	$(call accel_sync,$(SYNC_EXTRA) bench)
	@# tf-keras (the seed's ImageDataGenerator) is outside the lock: it requires the `tensorflow`
	@# package, which would clash with tensorflow-cpu, so its release for the locked TensorFlow is
	@# installed without dependencies.
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps \
		"$$($(BIN)/python -m benchmarks.requirements)"
	touch $(BENCH_STAMP)

# JAX for CPUs from the lock; with ACCEL=cuda, the same version's CUDA build (jax[cuda12]).
$(JAX_STAMP): $(STAMP)
	$(call accel_sync,$(SYNC_EXTRA) jax)
	$(if $(filter cuda,$(ACCEL)),$(BIN)/uv pip install --python $(BIN)/python --quiet \
		"jax[cuda12]==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("jax"))')")
	touch $(JAX_STAMP)

bench: $(BENCH_STAMP) $(JAX_STAMP) ## Input pipeline, training, prediction and memory against the seed (BENCH_DATA=..., BENCH_ARGS="--repeats 5")
	$(BIN)/python -m benchmarks --data-dir "$(BENCH_DATA)" $(BENCH_ARGS)

bench-scale: $(STAMP) ## Index, duplicate check, split, make data and pipeline memory at 25k/50k/100k photos (BENCH_DATA=..., SCALE_SIZES="25000 50000 100000")
	$(BIN)/python -m benchmarks.scale --data-dir "$(BENCH_DATA)" $(if $(SCALE_SIZES),--sizes $(SCALE_SIZES))

predict: $(STAMP) ## Predict cat or dog for images, folders, globs (IMAGES="a.jpg dir/", MODEL_FILE=..., OUTPUT=p.csv, FORCE=1, LABELS=...)
	$(call show,$(PREDICT_COMMAND))
	@$(PREDICT_COMMAND)

export: $(STAMP) ## Write SavedModel and LiteRT (float32, int8-weight) models beside the model, check them (MODEL_FILE=..., IMAGES=..., LABELS=...)
	$(call show,$(EXPORT_COMMAND))
	@$(EXPORT_COMMAND)

tensorboard: $(STAMP) ## TensorBoard on 127.0.0.1:6006 over every run's training logs in runs/
	$(BIN)/python -m helpers.cli.tensorboard --logdir runs --host 127.0.0.1 --port 6006

lab: $(STAMP) $(NEEDS_JAX) ## JupyterLab on localhost, on working copies of the notebooks in lab/ (PROFILE=smoke, DATA_DIR=..., LAB_ARGS=...)
	$(if $(CONFIG),$(error make lab: CONFIG= cannot reach the notebooks; give the settings as \
		VAR=value (PROFILE=, DATA_DIR=, EPOCHS=, ...) or set config_file in a notebook's first cell))
	@# Lab runs and saves copies in lab/ (git ignores it): notebooks/ keeps the outputs nbval compares.
	$(BIN)/python -m helpers.cli.lab
	$(call show,$(LAB_COMMAND))
	@$(LAB_COMMAND)

notebooks: $(STAMP) ## Re-execute the notebooks in place under the smoke profile: the outputs strict nbval compares
	@run=$$(mktemp -d)/nbval-run; for notebook in notebooks/[0-9][0-9]_*.ipynb; do \
		echo "executing $$notebook"; \
		CATSDOGS_PROFILE=smoke CATSDOGS_RUN_DIR=$$run $(BIN)/jupyter nbconvert --log-level WARN \
			--to notebook --execute --inplace $$notebook || exit 1; \
	done
