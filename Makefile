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
# TensorFlow for a venv that has none: the CPU build, or the CUDA one where a GPU answers.
TF_PACKAGE ?= $(if $(shell nvidia-smi -L 2>/dev/null),tensorflow[and-cuda],tensorflow-cpu)>=2.16,<2.22
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENV_TFIO := .venv-tfio
STAMP_TFIO := $(VENV_TFIO)/.installed

.PHONY: demo test test-fast test-tfio venv venv-tfio clean

venv: $(STAMP)
$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c '$(SUPPORTED), "need Python 3.10 to 3.13, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c 'import tensorflow' 2>/dev/null || $(PY) -m pip install --quiet '$(TF_PACKAGE)'
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The optional tensorflow-io decoder, in an environment of its own (TensorFlow 2.16, NumPy 1.26).
venv-tfio: $(STAMP_TFIO)
$(STAMP_TFIO): requirements.txt requirements-tfio.txt requirements-dev.txt
	$(PYTHON_TFIO) -m venv $(VENV_TFIO)
	$(VENV_TFIO)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_TFIO)/bin/python -m pip install --quiet -r requirements-tfio.txt -r requirements-dev.txt
	touch $(STAMP_TFIO)

# Synthesise a Kaggle-layout dataset, train, count calls in the synthetic forest recordings,
# and compare the counts with the known truth. Everything lands in demo/.
demo: $(STAMP)
	rm -rf demo
	$(PY) -m data_pipeline.synthetic --out demo/data --seed 0
	$(PY) train.py --data-dir demo/data --run-dir demo/run
	$(PY) count_calls.py --input "demo/data/Forest Recordings" --model demo/run \
		--output demo/submission.csv --labels demo/data/forest_labels.csv

# Everything: the tensorflow-io leg on TensorFlow 2.16, then the full suite on the newest TensorFlow,
# one test file per worker on two workers, longest first (tests/conftest.py).
test: $(STAMP) test-tfio
	$(PY) -m pytest -n 2 --dist loadfile

# The inner loop: every test but those marked slow (training on real data, sweeps, cross-validation).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

# Decoder agreement and the installed-TensorFlow check, where tensorflow-io loads.
test-tfio: $(STAMP_TFIO)
	$(VENV_TFIO)/bin/python -m pytest -m "tfio or environment" -q

clean:
	rm -rf demo .pytest_cache
