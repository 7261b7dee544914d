# healthscore: `make demo` (the main job on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_ACCOUNTS ?= 2000

.PHONY: demo test venv dev bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.dev-installed

demo: venv
	$(BIN)/healthscore demo --accounts $(DEMO_ACCOUNTS) --dir demo-workspace

test: dev
	$(BIN)/python -m pytest -n 2

bench: dev
	$(BIN)/python benchmarks/score_portfolio.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
