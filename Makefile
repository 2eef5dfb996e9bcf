# Entry point for every command. `make help` lists them.
# PYTHON is the interpreter that has Odoo 18.0 installed; found automatically
# among python3, python3.12, python3.13, python and .venv/bin/python, or set it:
# make test PYTHON=/path/to/python. When none has it, python3 runs the harness, which
# installs Odoo 18.0 from ODOO_SOURCE into .venv (tests/harness/bootstrap.py).
PYTHON ?= $(shell for p in python3 python3.12 python3.13 python .venv/bin/python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import odoo.release' >/dev/null 2>&1 && { command -v $$p; break; }; done)
ifeq ($(strip $(PYTHON)),)
PYTHON := python3
endif

.PHONY: help run test test-repeat lint bench stop readme resilience
help:
	@echo "make run    install requirements, create/reuse a database with the five addons and demo data, serve on http://127.0.0.1:8069"
	@echo "make test   install test requirements, run every addon test and end-to-end test on a throwaway database"
	@echo "make lint   run the pre-commit hooks on all files"
	@echo "make bench  run the benchmarks in tests/benchmarks/, each in its own process, and print their ratios"
	@echo "make resilience  run the fault scenarios of tests/resilience/ (real prefork servers; prints their figures)"
	@echo "make test-repeat N  run the addon suite N times (default 10) on one installed database; counts per run"
	@echo "make readme regenerate each addon's README.rst (its wheel's long description) and index.html from readme/"
	@echo "make stop   stop the embedded PostgreSQL that make run started (when no other was reachable)"
	@echo ""
	@echo "Variables (make VAR=value target, or in the environment):"
	@echo "  PYTHON=/path/to/python  the interpreter that has Odoo 18.0 (default: found on PATH)"
	@echo "  HCSC_DB=name            database of make run (default hcsc_demo)"
	@echo "  HCSC_PORT=port          HTTP port of make run (default 8069)"
	@echo "  ARGS='...'              extra pytest arguments for make test and make test-repeat, e.g. ARGS='-k gateway'"
	@echo "  PGHOST PGPORT PGUSER PGPASSWORD  the PostgreSQL to use (libpq variables)"
	@echo "  ODOO_ADDONS_PATH        folder(s) of Odoo's standard addons, when not next to the odoo package"
	@echo "  ODOO_SOURCE=dir|archive|URL  Odoo 18.0 source installed into .venv when no Python imports odoo"
	@echo "                          (default https://github.com/odoo/odoo/archive/refs/heads/18.0.tar.gz)"
	@echo "  HCSC_BOOTSTRAP_PYTHON   the Python 3.10-3.12 .venv is made with (default: 3.12 on PATH, else 3.11, 3.10)"
	@echo "  HCSC_WHEELHOUSE=dir     wheels the bootstrap installs from (default .local/wheelhouse); HCSC_OFFLINE=1: no download"
	@echo "  HCSC_EMBEDDED_PG=0      fail instead of starting the embedded PostgreSQL when none is reachable"

run:
	@$(PYTHON) -m tests.harness.cli run

test:
	@$(PYTHON) -m tests.harness.cli test $(ARGS)

# make test-repeat 10 (or N=10): the number is a goal of its own that does nothing.
ifeq (test-repeat,$(firstword $(MAKECMDGOALS)))
REPEAT_TIMES := $(word 2,$(MAKECMDGOALS))
ifneq ($(REPEAT_TIMES),)
$(eval $(REPEAT_TIMES):;@:)
endif
endif
test-repeat:
	@$(PYTHON) -m tests.harness.cli test-repeat $(or $(REPEAT_TIMES),$(N),10) $(ARGS)

# pre-commit's hook environments get the lint section of requirements-lock.txt as pip constraints
lint:
	@PIP_CONSTRAINT="$$($(PYTHON) -m tests.harness.bootstrap constraints lint)" $(PYTHON) -m pre_commit run --all-files

bench:
	@$(PYTHON) -m tests.harness.cli bench

resilience:
	@$(PYTHON) -m pytest tests/resilience -p no:cacheprovider -s $(ARGS)

readme:
	@$(PYTHON) -m tests.harness.addon_readme

stop:
	@$(PYTHON) -m tests.harness.embedded_pg stop

.PHONY: print-python
print-python:
	@echo $(PYTHON)
