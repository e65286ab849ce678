# Two commands do everything on a fresh clone with Python >= 3.10:
#   make run   - create .venv if needed, install rnnviz (with the fast extra), open the app
#   make test  - create .venv if needed, install rnnviz with the test and fast extras, run the whole
#                suite headless, then the engine tests again on the NumPy path (RNNVIZ_NO_NUMBA=1)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# PyTorch is only used by the parity tests. The CPU build (local version "+cpu") is not on PyPI: it
# installs where a wheel of it is on the machine (pip's find-links), and is never the multi-GB CUDA
# build downloaded instead. Without it the parity tests are skipped.
TORCH  ?= torch==2.13.0+cpu

.PHONY: run test lint bench screenshot readme-screenshots clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "rnnviz needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py
	$(BIN)/pip install --quiet -e '.[fast]' || $(BIN)/pip install --quiet -e .  # fast: optional
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	-$(BIN)/pip install --quiet --only-binary=:all: '$(TORCH)' 2>/dev/null || echo "no local PyTorch CPU wheel: the parity tests will be skipped"
	@touch $@

run: $(VENV)/.installed
	$(BIN)/rnnviz

lint: $(VENV)/.installed-test
	$(BIN)/lint-imports

test: $(VENV)/.installed-test lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --durations=15
	RNNVIZ_NO_NUMBA=1 QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/engine

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/engine.py

# every page and view at every screen size (and 2x, and presentation mode) into build/screenshots/
screenshot: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m rnnviz.ui.gallery --out build/screenshots

readme-screenshots: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python resources/screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
