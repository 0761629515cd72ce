# tempguard: see README.rst. Everything here needs only Python, except `coverage`.
PYTHON ?= python3
VERSIONS = 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13
TEST_ARGS = discover -s tests -t .
TEST_REPORT ?=
RUN_TESTS = -m tempguard.runner $(TEST_ARGS) --leaks fail $(if $(TEST_REPORT),--report $(TEST_REPORT))

BENCH_SIZE ?= full
BENCH_JSON ?=

.PHONY: test test-all test-macos-like test-windows-like test-installed pythons python-of \
	coverage demo bench

test:
	$(PYTHON) $(RUN_TESTS)

# Every CPython 3.6-3.13 found (pyenv first, then python3.X on PATH), one per line.
pythons:
	@for version in $(VERSIONS); do \
	  python=$$(ls -d "$$(pyenv root 2>/dev/null)"/versions/$$version.*/bin/python 2>/dev/null | sort -V | tail -n 1); \
	  [ -n "$$python" ] || python=$$(command -v python$$version || true); \
	  [ -z "$$python" ] || echo "$$python"; \
	done

# The Python among `make pythons` whose version is VERSION (3.X); nothing if none is.
python-of:
	@for python in $$($(MAKE) -s --no-print-directory pythons); do \
	  [ "$$("$$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(VERSION)" ] \
	    || echo "$$python"; \
	done | tail -n 1

# The suite on each of them, TEST_JOBS at a time, each in a TMPDIR of its own (a suite
# watches its temp dir: another's files there would be its leaks); fails if any fails,
# if one leaves anything in its TMPDIR, or if no Python is found. COVERAGE=3.X runs
# that version's leg as `make coverage` (first, it is the longest), writing
# TEST_REPORT, so CI measures coverage without a ninth run of the suite.
TEST_JOBS ?= 4
COVERAGE ?=
test-all:
	@pythons=$$($(MAKE) -s --no-print-directory pythons); \
	[ -n "$$pythons" ] || { echo "no CPython 3.6-3.13 found"; exit 1; }; \
	covered=; \
	if [ -n "$(COVERAGE)" ]; then \
	  covered=$$($(MAKE) -s --no-print-directory python-of VERSION=$(COVERAGE)); \
	  [ -n "$$covered" ] || { echo "COVERAGE=$(COVERAGE): no such Python found"; exit 1; }; \
	elif [ -n "$(TEST_REPORT)" ]; then \
	  echo "TEST_REPORT with test-all needs COVERAGE=3.X: it names the leg that writes it"; exit 1; \
	fi; \
	logs=$$(mktemp -d); \
	{ [ -z "$$covered" ] || echo "$$covered"; printf '%s\n' $$pythons | grep -vxF "$${covered:-/}"; } \
	| xargs -P $(TEST_JOBS) -I{} sh -c '\
	  log="$$1/$$(echo "$$2" | tr / _).log"; tmp=$$(mktemp -d); chmod 755 "$$tmp"; \
	  if [ "$$2" = "$$3" ]; then leg="coverage TEST_REPORT=$(TEST_REPORT)"; else leg="test TEST_REPORT="; fi; \
	  TMPDIR="$$tmp" $(MAKE) --no-print-directory $$leg PYTHON="$$2" >"$$log" 2>&1 \
	    || echo "$$2" >>"$$1/failed"; \
	  rmdir "$$tmp" 2>/dev/null || { echo "$$2 left files in $$tmp" >>"$$log"; \
	    echo "$$2" >>"$$1/failed"; }' sh "$$logs" {} "$$covered"; \
	for python in $$pythons; do \
	  echo "== $$python"; cat "$$logs/$$(echo "$$python" | tr / _).log"; \
	done; \
	failed=$$(cat "$$logs/failed" 2>/dev/null | sort -u | tr '\n' ' '); rm -r "$$logs"; \
	if [ -n "$$failed" ]; then echo "FAILED on: $$failed"; exit 1; fi; \
	echo "passed on $$(echo $$pythons | wc -w) Python versions"

# The suite as on macOS and the BSDs (docs/platforms.rst): /proc masked in a private mount
# and pid namespace (root and unshare: CI has both; its sh, pid 1 there, reaps orphans as
# launchd does), memfd hidden, spawn, and a TMPDIR under a linked parent, as /var leads
# to /private/var. Tests that need /proc skip, naming it. Fails if TMPDIR keeps anything.
test-macos-like:
	@base=$$(mktemp -d); mkdir "$$base/real"; ln -s real "$$base/link"; \
	mkdir -m 1777 "$$base/real/tmp"; \
	TMPDIR="$$base/link/tmp" PYTHONPATH="$(CURDIR)/tests/platforms/macos:$(CURDIR)" \
	  unshare --mount --pid --fork --propagation private \
	  sh -c 'mount -t tmpfs none /proc && "$$@"' sh $(PYTHON) $(RUN_TESTS); status=$$?; \
	rmdir "$$base/real/tmp" || { echo "the suite left files in its TMPDIR"; status=1; }; \
	rm -r "$$base"; exit $$status

# The suite as on Windows (docs/platforms.rst): tests/platforms/windows/sitecustomize.py
# hides what Windows lacks (fcntl, fork, uids, dir_fd, O_NOFOLLOW...), /proc is masked as
# above. Tests that need what is hidden skip, naming it. Fails if TMPDIR keeps anything.
test-windows-like:
	@tmp=$$(mktemp -d); chmod 755 "$$tmp"; \
	TMPDIR="$$tmp" PYTHONPATH="$(CURDIR)/tests/platforms/windows:$(CURDIR)" \
	  unshare --mount --pid --fork --propagation private \
	  sh -c 'mount -t tmpfs none /proc && "$$@"' sh $(PYTHON) $(RUN_TESTS); status=$$?; \
	rmdir "$$tmp" || { echo "the suite left files in its TMPDIR"; status=1; }; exit $$status

# The release as users get it: sdist and wheel built by `build` from a copy of the tree
# (which stays clean), with no warning, and checked by `twine check`; on the oldest and
# the newest Python (INSTALLED_VERSIONS), the wheel installed into a fresh venv with
# pytest, pytest's entry point checked to load the plugin, and the suite run from the
# unpacked sdist without its tempguard/, so that it tests the installed package; the
# versions at the same time. The sdist holds what `make test` needs (SourceReleaseTest),
# and the wheel is built from it, so the suite passing here proves the sdist's too.
INSTALLED_VERSIONS ?= 3.6 3.13
test-installed:
	@work=$$(mktemp -d); mkdir "$$work/src" "$$work/dist"; \
	tar cf - --exclude=.git --exclude='*.egg-info' --exclude=__pycache__ --exclude=build \
	  --exclude=dist . | tar xf - -C "$$work/src"; \
	(cd "$$work/src" && env -u PYTHONDONTWRITEBYTECODE $(PYTHON) -m build --outdir "$$work/dist" . \
	  >"$$work/build.log" 2>&1) || { cat "$$work/build.log"; rm -rf "$$work"; exit 1; }; \
	if grep -i "warning" "$$work/build.log"; then echo "the build warned"; rm -rf "$$work"; exit 1; fi; \
	$(PYTHON) -m twine check --strict "$$work"/dist/* || { rm -rf "$$work"; exit 1; }; \
	tar xzf "$$work"/dist/tempguard-*.tar.gz -C "$$work"; \
	tests=$$(echo "$$work"/tempguard-*/); rm -r "$$tests/tempguard"; \
	for version in $(INSTALLED_VERSIONS); do \
	  python=$$($(MAKE) -s --no-print-directory python-of VERSION=$$version); \
	  [ -n "$$python" ] || { echo "test-installed: no Python $$version found" >"$$work/$$version.log"; \
	    touch "$$work/$$version.failed"; continue; }; \
	  ( venv="$$work/venv-$$version"; "$$python" -m venv "$$venv" && \
	    pip="$$venv/bin/python -m pip --disable-pip-version-check --quiet"; \
	    if [ "$$version" = 3.6 ]; then $$pip install "pip==21.3.1"; fi && \
	    $$pip install "$$work"/dist/tempguard-*.whl pytest && \
	    cd "$$tests" && "$$venv/bin/python" -c 'import sys, tempguard; \
	      sys.exit(0 if tempguard.__file__.startswith(sys.prefix) else "tempguard imported from " + tempguard.__file__)' && \
	    "$$venv/bin/python" -m pytest --help | grep -q -- "--tempguard " && \
	    tmp=$$(mktemp -d) && chmod 755 "$$tmp" && \
	    TMPDIR="$$tmp" "$$venv/bin/python" $(RUN_TESTS) && rmdir "$$tmp" \
	  ) >"$$work/$$version.log" 2>&1 || touch "$$work/$$version.failed" & \
	done; \
	wait; status=0; \
	for version in $(INSTALLED_VERSIONS); do \
	  echo "== installed wheel, Python $$version"; cat "$$work/$$version.log"; \
	  [ ! -e "$$work/$$version.failed" ] || status=1; \
	done; \
	rm -rf "$$work"; exit $$status

coverage:
	$(PYTHON) -m coverage erase
	$(PYTHON) -m coverage run $(RUN_TESTS)
	$(PYTHON) -m coverage report

# The example suite leaks on purpose and has one failing test; its exit code 1 is expected.
demo:
	@cd tests/examples/demo && PYTHONPATH="$(CURDIR)" $(PYTHON) -m tempguard.runner -v example_demo --keep-runs 1 \
	  || echo "(exit code $$? is expected: the demo suite has a failing test)"

# Every scenario against its baselines in one run; BENCH_SIZE=quick is what CI runs.
# BENCH_MODE=instructions counts the per-test rows with callgrind instead (needs valgrind).
BENCH_MODE ?=
bench:
	$(if $(filter-out instructions,$(BENCH_MODE)),$(error BENCH_MODE is instructions or empty, not $(BENCH_MODE)))
	$(PYTHON) benchmarks/bench.py --size $(BENCH_SIZE) $(if $(BENCH_JSON),--json $(BENCH_JSON)) \
	  $(if $(filter instructions,$(BENCH_MODE)),--instructions)
