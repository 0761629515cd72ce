"""When each planted test ran, and in which process (data for tests/test_parallel.py).

With PLANTED_LOG set, each test appends a line when it has made its files; the
holder, with PLANTED_OVERLAP set, holds its file until a test of another
process has, so that the run proves the overlap it is meant to test.
"""

import os
import time


def note(test_id):
    path = os.environ.get("PLANTED_LOG")
    if path:
        with open(path, "a") as handle:
            handle.write("%s %d %f\n" % (test_id, os.getpid(), time.time()))


def hold():
    """Until another process's test has made its files (at most 30 s), or 0.2 s."""
    path = os.environ.get("PLANTED_LOG")
    if not (path and os.environ.get("PLANTED_OVERLAP")):
        time.sleep(0.2)
        return
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(path) as handle:
            if any(int(line.split()[1]) != os.getpid() for line in handle):
                return
        time.sleep(0.05)
