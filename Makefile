# parkmap — `make demo` builds the Qingdao demo maps, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint format bench bench-scale bench-peers screenshot clean

# A venv that failed half-way (Debian's python3 without python3-venv) is removed, not reused.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/parkmap build --out maps

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check parkmap tests benchmarks
	$(BIN)/ruff format --check parkmap tests benchmarks
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format parkmap tests benchmarks
	$(BIN)/ruff check --fix parkmap tests benchmarks

# The benchmarks' own extra (lonboard), never installed by `make test` or `make demo`.
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

# parkmap against geopandas.explore() and plain folium, 10k and 100k projects (needs Debian's
# chromium); `make bench BENCH_ARGS=--quick` for 10k only. Writes benchmarks/results.md; then
# bench-scale: a million projects in one page (size, paint, summary/find/zoom checks) against
# explore() at 10k, written to benchmarks/results_scale.md (`SCALE_ARGS="--n 200000"` to shrink);
# then bench-peers: the table of issue 16, parkmap against lonboard (10k, 100k, 1M) and explore()
# (10k), written to benchmarks/results_peers.md (needs npm for the offline assets;
# `PEERS_ARGS="--sizes 10000,100000 --repeat 1"` to shrink). See benchmarks/README.md.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.bench_map $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_scale $(SCALE_ARGS)
	$(BIN)/python -m benchmarks.bench_peers $(PEERS_ARGS)

bench-peers: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.bench_peers $(PEERS_ARGS)

bench-scale: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.bench_scale $(SCALE_ARGS)

# The README's screenshot of the demo map (needs Debian's chromium).
screenshot: demo $(VENV)/.installed-dev
	$(BIN)/python docs/screenshot.py maps/map.html docs/demo-map.png

clean:
	rm -rf maps/*.html maps/*.csv maps/*.geojson .pytest_cache build *.egg-info
