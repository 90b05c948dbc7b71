# smapdown: `make demo` and `make test` are all a newcomer needs; both install what is missing first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup test demo lint bench clean package fuzz

setup:
	@bash scripts/setup.sh

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -ra

demo: setup
	@bash scripts/demo.sh

lint: setup
	$(VENV)/bin/ruff check .

# more generated cases for the readers, model loader and grid maths (tests/test_fuzz.py, hypothesis profile "fuzz")
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -s tests/test_fuzz.py

bench: setup
	$(PY) bench/run.py

# build/smapdown-<version>.zip for QGIS's "Install from ZIP" (only what runs in QGIS; stdlib only)
package:
	python3 scripts/package.py

clean:
	rm -rf build demo-output .pytest_cache
