# One-command entry points. `make demo` first, `make test` before every commit (CI runs it),
# `make test-fast` in the inner loop.
#
# Python 3.10-3.13 with TensorFlow 2.16-2.21 (README, "Versions"). `make` uses the newest of
# python3.13 ... python3.10 that runs, also where it is a pyenv shim that needs PYENV_VERSION
# (the version pyenv has installed is then named); set PYTHON=... to choose.
SUPPORTED := import sys; assert (3, 10) <= sys.version_info[:2] <= (3, 13)
find_python = $(shell for v in $(1); do \
	for p in "python$$v" "PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep "^$$v\." | tail -1) python$$v"; do \
	env $$p -c '$(SUPPORTED)' 2>/dev/null && echo "env $$p" && exit; done; done)
PYTHON ?= $(or $(call find_python,3.13 3.12 3.11 3.10),python3)
# tensorflow-io 0.37.1 needs TensorFlow 2.16, which needs Python <= 3.12.
PYTHON_TFIO ?= $(or $(call find_python,3.11 3.12 3.10),python3)
# The oldest Python supported, for `make test-oldest`.
PYTHON_OLDEST ?= $(call find_python,3.10)
# TensorFlow for a venv that has none: the CPU build, or the CUDA one where a GPU answers.
TF_PACKAGE ?= $(if $(shell nvidia-smi -L 2>/dev/null),tensorflow[and-cuda],tensorflow-cpu)>=2.16,<2.22
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENV_TFIO := .venv-tfio
STAMP_TFIO := $(VENV_TFIO)/.installed
VENV_OLDEST := .venv-oldest
STAMP_OLDEST := $(VENV_OLDEST)/.installed

.PHONY: demo demo-tfio test test-fast test-tfio test-oldest venv venv-tfio clean

# A venv in $(2) from the Python $(1), with the newest TensorFlow in the supported range it takes and the
# development requirements.
define make_venv
	@$(1) -c '$(SUPPORTED), "need Python 3.10 to 3.13, found " + sys.version.split()[0]'
	$(1) -m venv $(2)
	$(2)/bin/python -m pip install --quiet --upgrade pip
	$(2)/bin/python -c 'import tensorflow' 2>/dev/null || $(2)/bin/python -m pip install --quiet '$(TF_PACKAGE)'
	$(2)/bin/python -m pip install --quiet -r requirements-dev.txt
	touch $(2)/.installed
endef

venv: $(STAMP)
$(STAMP): requirements.txt requirements-dev.txt
	$(call make_venv,$(PYTHON),$(VENV))

# Python 3.10, the oldest supported, with what pip installs for it (older NumPy, pandas and Keras than .venv's).
$(STAMP_OLDEST): requirements.txt requirements-dev.txt
	@test -n '$(PYTHON_OLDEST)' || { echo "make test-oldest: no Python 3.10 here (python3.10, or one pyenv has installed)"; exit 2; }
	$(call make_venv,$(PYTHON_OLDEST),$(VENV_OLDEST))

# The optional tensorflow-io decoder, in an environment of its own (TensorFlow 2.16, NumPy 1.26).
venv-tfio: $(STAMP_TFIO)
$(STAMP_TFIO): requirements.txt requirements-tfio.txt requirements-dev.txt
	$(PYTHON_TFIO) -m venv $(VENV_TFIO)
	$(VENV_TFIO)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_TFIO)/bin/python -m pip install --quiet -r requirements-tfio.txt -r requirements-dev.txt
	touch $(STAMP_TFIO)

# Synthesise a Kaggle-layout dataset, train, count calls in the synthetic forest recordings,
# and compare the counts with the known truth. Everything lands in demo/.
# $(1): the environment's python, $(2): the folder, $(3): more train.py options.
define run_demo
	rm -rf $(2)
	$(1) -m data_pipeline.synthetic --out $(2)/data --seed 0
	$(1) train.py --data-dir $(2)/data --run-dir $(2)/run $(3)
	$(1) count_calls.py --input "$(2)/data/Forest Recordings" --model $(2)/run \
		--output $(2)/submission.csv --labels $(2)/data/forest_labels.csv
endef

demo: $(STAMP)
	$(call run_demo,$(PY),demo,)

# The same in the tensorflow-io environment (TensorFlow 2.16), training through its decoder; into demo-tfio/.
demo-tfio: $(STAMP_TFIO)
	$(call run_demo,$(VENV_TFIO)/bin/python,demo-tfio,--decoder tfio)

# Everything: the tensorflow-io leg on TensorFlow 2.16, then the full suite on the newest TensorFlow,
# one test file per worker on three workers (on two cores the tests wait on the processes they start: a third
# worker fills that, 0.91-0.92x the time of two), longest first (tests/conftest.py); the ten slowest tests are
# listed at the end, so every run (CI's too) says where the time went (the target: README, "Tests").
ALL_TESTS := -m pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=10
test: $(STAMP) test-tfio
	$(PY) $(ALL_TESTS)

# The inner loop: every test but those marked slow (training on real data, sweeps, cross-validation)
# or browser (review.py in Chromium), on two workers (56 s against 92 s in one process, README "Tests").
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" -q -n 2

# Decoder agreement and the installed-TensorFlow check, where tensorflow-io loads: only the files that hold
# those tests, not all of them collected to keep ten (7 s against 9; tests/test_layout.py checks the list).
TFIO_TESTS = tests/test_audio_io.py tests/test_environment.py
test-tfio: $(STAMP_TFIO)
	$(VENV_TFIO)/bin/python -m pytest $(TFIO_TESTS) -m "tfio or environment" -q

# Every test again on the oldest Python supported and the older libraries pip gives it, so that code needing newer
# ones, or training that behaves otherwise with them, shows here first (CI runs it after `make test`; it found
# Keras 3.12's early stopping keeping the last fit's best, which only the end-to-end test's mining showed).
test-oldest: $(STAMP_OLDEST)
	$(VENV_OLDEST)/bin/python $(ALL_TESTS)

clean:
	rm -rf demo demo-tfio .pytest_cache
