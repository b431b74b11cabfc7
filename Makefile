# Two entry points, both self-contained on a fresh machine with Python >= 3.10:
#   make demo   - create .venv, install the kit, run the whole course pipeline on the offline data
#   make test   - create .venv, install the kit with its test extras, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys; print(hashlib.md5(open('pyproject.toml','rb').read()).hexdigest()[:12])")

.PHONY: demo test test-fast install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cs231kit demo

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup --durations=25

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
