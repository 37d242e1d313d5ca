# The two commands a fresh machine needs: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_WORKERS ?= 2

.PHONY: demo test bench-smoke install system-deps down

demo: install ## Run the main job end to end on embedded defaults (local broker, SQLite)
	$(BIN)/headwater demo

test: install ## Run every test (unit and integration, real broker and PostgreSQL)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15

bench-smoke: install ## Run every benchmark at tiny sizes (CI does, so none can rot; the figures mean nothing)
	@for script in benchmarks/*.py; do \
		[ "$$script" = benchmarks/smoke.py ] && continue; \
		echo "== $$script --smoke"; $(BIN)/python $$script --smoke || exit 1; \
	done

down: ## Stop the local broker started by `make demo`
	$(BIN)/headwater local down

# System dependencies first: the install compiles the producer SDK's C extension.
install: system-deps $(BIN)/.installed

$(BIN)/.installed: pyproject.toml setup.py producers/_avro_writer.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Java 17+ and Maven run the Kafka broker (jars come from Maven Central on first use); the JDK's
# compiler runs tests/java/PartitionProbe.java (the real Java producer, in the partitioning test);
# PostgreSQL's server binaries back the tests' private clusters; a C compiler and the Python headers
# build the producer SDK's Avro writer. Installed from Debian if missing.
PYTHON_HEADERS := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h
system-deps:
	@if command -v javac >/dev/null && command -v mvn >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		&& command -v cc >/dev/null && [ -f "$(PYTHON_HEADERS)" ]; then \
		echo "system dependencies present: java (JDK), mvn, postgresql, cc, Python headers"; \
	else \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven postgresql \
			gcc python3-dev; \
	fi
