"""Which invocation a process belongs to, so that the processes of one parallel run share
one JSON report and count as one run for --keep-runs.

A parallel engine starts worker processes that each run a session of their
own; they share an invocation id, and each adds its part to the report under
a lock (see jsonreport.write_json). Nothing is created to hold the id: workers
derive it from what their engine gives them, or from TEMPGUARD_INVOCATION.
"""

import itertools
import sys

from .real import os
from .inuse import process_start

__all__ = ["INVOCATION_ENV", "current_id", "part_id"]

INVOCATION_ENV = "TEMPGUARD_INVOCATION"

_part_numbers = itertools.count(1)


def current_id(environ=None):
    """The id this process shares with the other processes of its invocation, or None.

    TEMPGUARD_INVOCATION wins (set it to make any processes one invocation);
    pytest-xdist workers share their test run's id; multiprocessing workers
    (unittest-parallel, Django's --parallel) share their parent process.
    """
    environ = os.environ if environ is None else environ
    explicit = environ.get(INVOCATION_ENV)
    if explicit:
        return explicit
    if environ.get("PYTEST_XDIST_WORKER") and environ.get("PYTEST_XDIST_TESTRUNUID"):
        return "xdist-" + environ["PYTEST_XDIST_TESTRUNUID"]
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None:
        parent = getattr(multiprocessing.current_process(), "_parent_pid", None)
        if parent:
            start = process_start(parent)  # None without /proc: the pid alone, then
            return "mp-%d" % parent if start is None else "mp-%d-%d" % (parent, start)
    return None


def part_id():
    """A new id for one session's part of the invocation's report: pid and a number."""
    return "%d-%d" % (os.getpid(), next(_part_numbers))

