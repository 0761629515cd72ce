# tempguard: see README.rst. Everything here needs only Python, except `coverage`.
PYTHON ?= python3
VERSIONS = 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13
TEST_ARGS = discover -s tests -t .
TEST_REPORT ?=
RUN_TESTS = -m tempguard.runner $(TEST_ARGS) --leaks fail $(if $(TEST_REPORT),--report $(TEST_REPORT))

.PHONY: test test-all coverage demo

test:
	$(PYTHON) $(RUN_TESTS)

# Every CPython 3.6-3.13 found (pyenv first, then python3.X on PATH); fails if any fails.
test-all:
	@failed=""; found=0; \
	for version in $(VERSIONS); do \
	  python=$$(ls -d "$$(pyenv root 2>/dev/null)"/versions/$$version.*/bin/python 2>/dev/null | sort -V | tail -n 1); \
	  [ -n "$$python" ] || python=$$(command -v python$$version || true); \
	  if [ -z "$$python" ]; then echo "== Python $$version: not found, skipped"; continue; fi; \
	  found=$$((found + 1)); \
	  echo "== Python $$version: $$python"; \
	  $(MAKE) --no-print-directory test PYTHON="$$python" || failed="$$failed $$version"; \
	done; \
	if [ "$$found" -eq 0 ]; then echo "no CPython 3.6-3.13 found"; exit 1; fi; \
	if [ -n "$$failed" ]; then echo "FAILED on:$$failed"; exit 1; fi; \
	echo "passed on $$found Python versions"

coverage:
	$(PYTHON) -m coverage erase
	$(PYTHON) -m coverage run $(RUN_TESTS)
	$(PYTHON) -m coverage report

# The example suite leaks on purpose and has one failing test; its exit code 1 is expected.
demo:
	@cd tests/examples/demo && PYTHONPATH="$(CURDIR)" $(PYTHON) -m tempguard.runner -v example_demo --keep-runs 1 \
	  || echo "(exit code $$? is expected: the demo suite has a failing test)"
