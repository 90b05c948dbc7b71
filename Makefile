# smapdown: `make demo` and `make test` are all a newcomer needs; both install what is missing first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup test demo lint bench clean package fuzz validate bench-scale

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

# every science validation (Wald's protocol on the real half-orbit, the real-vs-simulated statistics, the open-water
# floor on the real half-orbit) -> build/validation/*.json and docs/validation_tables.md; trains the two small
# 144 -> 36 km models in simulation first (10-20 min on 2 cores). The 36 -> 9 km gates: scripts/train_bundled.py tb-truth.
validate: setup
	$(PY) scripts/validate.py all --bf16 --bundled

bench: setup
	$(PY) bench/run.py

# area scaling, the global day vs its ideal, tiling tries, archive on 1 vs 2 Dask workers, DDP on 1 vs 2 processes
bench-scale: setup
	$(PY) bench/scale.py

# build/smapdown-<version>.zip for QGIS's "Install from ZIP" (only what runs in QGIS; stdlib only)
package:
	python3 scripts/package.py

clean:
	rm -rf build demo-output .pytest_cache
