"""Example suite (data for tests/test_visible.py): what a test can see of its process.

Each test writes what it sees into OBSERVE as one JSON line; run under plain
unittest and under the runner, the lines must be the same.
"""

import json
import os
import signal
import sys
import threading
import trace
import unittest

# The temp-dir variables tempguard documents that it sets; every other one must be unittest's.
_TEMP_VARIABLES = ("TMPDIR", "TEMP", "TMP")


def _observe(name, value):
    with open(os.environ["OBSERVE"], "a") as handle:
        handle.write(json.dumps([name, value]) + "\n")


def _traced():
    return sum(number * number for number in range(3))


class WhatATestSees(unittest.TestCase):

    def test_argv0_and_main(self):
        main = sys.modules["__main__"]
        _observe("argv0", sys.argv[0])
        _observe("main", [getattr(main.__spec__, "name", None), getattr(main, "__file__", None),
                          sorted(name for name in vars(main) if not name.startswith("__"))])

    def test_trace_as_test_trace_runs_it(self):
        """CPython's test_trace.TestCoverage.test_coverage_ignore: nothing of the stdlib is
        traced, and no module is counted under __main__'s name."""
        tracer = trace.Trace(ignoredirs=[sys.base_prefix, sys.base_exec_prefix] + sys.path,
                             trace=0, count=1)
        tracer.runfunc(_traced)
        _observe("trace", sorted(set(os.path.basename(filename)
                                     for filename, _ in tracer.results().counts)))

    def test_lowest_free_fd(self):
        fd = os.open(os.devnull, os.O_RDONLY)
        os.close(fd)
        _observe("lowest_fd", fd)

    def test_signal_dispositions(self):
        _observe("signals", {name: str(signal.getsignal(getattr(signal, name)))
                             for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1",
                                          "SIGCHLD", "SIGPIPE")})

    def test_environment(self):
        _observe("environ", sorted(name for name in os.environ if name not in _TEMP_VARIABLES))

    def test_threads(self):
        _observe("threads", threading.active_count())
