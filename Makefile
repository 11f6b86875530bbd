# Two commands on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test lint bench bench-same-work bench-spark bench-ingest clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/reporter run sample_logs --out reports/sample
	@echo "Report: reports/sample/report.html (extracts in reports/sample/extracts/, SQL: .venv/bin/duckdb reports/sample/warehouse.duckdb)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check reporter tests
	$(BIN)/ruff format --check reporter tests
	$(BIN)/mypy

# Benchmarks, never tests: figures are ratios against the bare engine in the same run.
bench: $(STAMP)
	$(BIN)/python bench/bench_run.py
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_spark.py

# Issue 16's figures alone: run / same_work in 3 paired rounds (10M, 20M Parquet; CSV and NDJSON beside),
# peak RSS, and the 100M run under 3 GB once, against the 10M run (about 50 minutes on 2 quiet cores).
bench-same-work: $(STAMP)
	$(BIN)/python bench/bench_run.py --rounds 3 --sides same_work,run --ingest '' \
		--only parquet-10000000,parquet-20000000,csv-10000000,ndjson-10000000,parquet-100000000@3GB

# The Spark row alone: reporter run on DuckDB and on Spark local[2], 10M events (bench/RESULTS-spark.md);
# a small check: make bench-spark SPARK_BENCH_ARGS="--events 200000"
SPARK_BENCH_ARGS ?=
bench-spark: $(STAMP)
	$(BIN)/python bench/bench_spark.py $(SPARK_BENCH_ARGS)

bench-ingest: $(STAMP)
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
