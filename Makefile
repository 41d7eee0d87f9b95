# Fresh machine: `make run` or `make test`. Both install into .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
TORCH   := torch==2.13.0
STAMP   := $(VENV)/.installed
# translations: English is in the code; each other language has a catalog, compiled here (see README, Languages)
CATALOGS := grader/translations
PO      := $(wildcard $(CATALOGS)/*/LC_MESSAGES/messages.po)
MO      := $(PO:.po=.mo)

.PHONY: install run test bench clean translations

install: $(STAMP) $(MO)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/grader up --port $(or $(PORT),5000) --data-dir $(or $(DATA_DIR),instance)

# a test module per process (its module fixtures start once), one process more than cores: the service tests
# spend much of their time waiting on workers, outages and the wall clock, and the extra process fills that idle
# CPU (2 cores: 734-849 s with 2 processes, 633 s with 3). TEST_ARGS="-n 0" runs serially
TEST_PROCS ?= $(shell expr $$(nproc) + 1)
test: install
	$(BIN)/python -m pytest -q -n $(TEST_PROCS) --dist loadfile $(TEST_ARGS)

bench: install
	$(BIN)/python -m bench

# after changing any user-facing text: re-extract, merge into every catalog, then translate the new entries
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --sort-output --no-wrap --add-location=file -o $(CATALOGS)/messages.pot grader
	$(BIN)/pybabel -q update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-wrap --ignore-obsolete --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache
