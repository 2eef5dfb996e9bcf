# Entry point for every command. `make help` lists them.
# PYTHON is the interpreter that has Odoo 18.0 installed; found automatically
# among python3, python3.12, python3.13 and python, or set it: make test PYTHON=/path/to/python
PYTHON ?= $(shell for p in python3 python3.12 python3.13 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import odoo.release' >/dev/null 2>&1 && { command -v $$p; break; }; done)
ifeq ($(strip $(PYTHON)),)
PYTHON := python3
endif

.PHONY: help run test lint bench
help:
	@echo "make run    install requirements, create/reuse a database with the four addons and demo data, serve on http://127.0.0.1:8069"
	@echo "make test   install test requirements, run every addon test and end-to-end test on a throwaway database"
	@echo "make lint   run the pre-commit hooks on all files"
	@echo "make bench  run the benchmarks in tests/benchmarks/ and print their ratios"

run:
	@$(PYTHON) -m tests.harness.cli run

test:
	@$(PYTHON) -m tests.harness.cli test

lint:
	@$(PYTHON) -m pre_commit run --all-files

bench:
	@$(PYTHON) -m tests.harness.cli bench

.PHONY: print-python
print-python:
	@echo $(PYTHON)
