# whynet — `make demo` runs the demo, `make test` runs the tests. Both set up .venv first.
#
# The virtual environment is (re)built only when pyproject.toml, constraints.txt or this file is
# newer than the stamp file inside it. It gets every extra (`whynet[all]`) and the `test`
# dependency group; constraints.txt pins torch to 2.13.0 (a CPU build) for the tests only — users
# keep their own torch (the extra says torch>=2.0) — any other version would download gigabytes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.whynet-installed
EXTRAS := all

.PHONY: venv demo test bench i18n i18n-init clean distclean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -c constraints.txt -e ".[$(EXTRAS)]" --group test
	touch $(STAMP)

# The quick experiment suite (results cached in the store: a rerun trains nothing), then the report.
demo: venv
	$(VENV)/bin/whynet run all --quick
	$(VENV)/bin/whynet report --quick -o report.html

# Browser tests need Debian's chromium; without it they skip and everything else still runs.
# One BLAS thread per worker: two workers on two cores with threaded BLAS oversubscribe the CPU,
# and small matrix products then run ~25× slower (measured: a digits MLP fit, 2.4 s vs 0.1 s).
test: venv
	command -v chromium >/dev/null 2>&1 \
	  || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
	  || echo "make test: could not install chromium; browser tests will be skipped"
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

bench: venv
	$(PY) bench/run.py

# Translations (see src/whynet/i18n.py): extract the marked messages of each domain into its .pot,
# merge them into every language's .po (translate what is new or fuzzy), compile the .mo files.
# Both .po and .mo are committed; tests/test_i18n.py fails when they lag behind the code.
# Then click's own strings (a hand-kept catalogue, see whynet/cli_lang.py) and their pseudo-locale.
LOCALE_DIR := src/whynet/locale
DOMAINS    := whynet experiments lab
PYBABEL    := $(VENV)/bin/pybabel
i18n: venv
	for d in $(DOMAINS); do \
	  $(PYBABEL) -q extract -F $(LOCALE_DIR)/$$d.cfg -k N_ -k pgettext:1c,2 --sort-by-file \
	    --project whynet -o $(LOCALE_DIR)/$$d.pot.new src/whynet && \
	  if diff -q -I '^"POT-Creation-Date' $(LOCALE_DIR)/$$d.pot $(LOCALE_DIR)/$$d.pot.new \
	    >/dev/null 2>&1; then rm $(LOCALE_DIR)/$$d.pot.new; \
	  else mv $(LOCALE_DIR)/$$d.pot.new $(LOCALE_DIR)/$$d.pot; fi && \
	  $(PYBABEL) -q update -D $$d -i $(LOCALE_DIR)/$$d.pot -d $(LOCALE_DIR) --ignore-obsolete \
	  && $(PYBABEL) compile -D $$d -d $(LOCALE_DIR) --statistics || exit 1; \
	done
	$(PYBABEL) compile -D click -d $(LOCALE_DIR) --statistics
	PYTHONPATH=src $(VENV)/bin/python -c "from whynet.i18n import write_pseudo_catalogue; \
	  write_pseudo_catalogue()"

# A new language: make i18n-init LANG_NEW=xx (then translate, `make i18n`, add it to LANGUAGES).
i18n-init: venv
	for d in $(DOMAINS); do \
	  $(PYBABEL) init -D $$d -i $(LOCALE_DIR)/$$d.pot -d $(LOCALE_DIR) -l $(LANG_NEW) || exit 1; \
	done

# Build outputs and caches. Keeps .venv (slow to rebuild) and results; `distclean` drops .venv too.
clean:
	rm -rf build dist .pytest_cache .hypothesis src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
