# One-command entry points. `make demo` first, `make test` before every commit (CI runs it).
# The first of python3.12, python3.11, python3 that runs and is 3.11 or 3.12 (a pyenv shim may exist and fail).
PYTHON ?= $(or $(shell for p in python3.12 python3.11 python3; do $$p -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 12)' 2>/dev/null && echo $$p && break; done),python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 12), "need Python 3.11 or 3.12 (TensorFlow 2.16), found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Synthesise a Kaggle-layout dataset, train, count calls in the synthetic forest recordings,
# and compare the counts with the known truth. Everything lands in demo/.
demo: $(STAMP)
	rm -rf demo
	$(PY) -m data_pipeline.synthetic --out demo/data --seed 0
	$(PY) train.py --data-dir demo/data --run-dir demo/run
	$(PY) count_calls.py --input "demo/data/Forest Recordings" --model demo/run \
		--output demo/submission.csv --labels demo/data/forest_labels.csv

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf demo .pytest_cache
