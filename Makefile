# healthscore: `make demo` (the main job on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_ACCOUNTS ?= 2000
PORT ?= 8000

.PHONY: demo test test-fast lint venv dev bench clean chromium serve

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The browser tests drive Debian's Chromium through Playwright (no browser download); without it they skip.
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) || \
	  echo "could not install chromium: the browser tests will be skipped"

venv: $(VENV)/.installed
dev: $(VENV)/.dev-installed chromium

demo: venv
	$(BIN)/healthscore demo --accounts $(DEMO_ACCOUNTS) --dir demo-workspace
	@echo "Open http://127.0.0.1:$(PORT)/ and log in with one of the users above (Ctrl-C stops the server)."
	$(BIN)/healthscore serve -w demo-workspace --host 127.0.0.1 --port $(PORT)

serve: venv
	$(BIN)/healthscore serve -w demo-workspace --host 127.0.0.1 --port $(PORT)

test: dev
	$(BIN)/python -m pytest -n 2

# the quick lane while working: no PostgreSQL, Spark, browser or slow cases
test-fast: dev
	$(BIN)/python -m pytest -n 2 -m "not slow and not postgres and not spark and not browser"

# ruff and mypy on src/ with the committed config (pyproject.toml); import-layer contracts (.importlinter)
lint: dev
	$(BIN)/ruff check src
	$(BIN)/mypy
	$(BIN)/lint-imports

# issue 18's figures, each printed with its target: one date at 100k accounts, 10k x 365 daily backfill,
# read commands on the 2,000-account demo, web latency at 100k accounts x 52 weeks (single, 10 clients, writing)
bench: dev
	$(BIN)/python benchmarks/score_portfolio.py
	$(BIN)/python benchmarks/backfill.py --only b
	$(BIN)/python benchmarks/read_commands.py
	$(BIN)/python benchmarks/web_latency.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
