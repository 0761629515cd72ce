"""When each planted test ran, and in which process (data for tests/test_parallel.py).

With PLANTED_LOG set, each test appends a line when it has made its files.
With PLANTED_OVERLAP set too, the holder holds its file until a test of another
process has made its files after the holder began, and those tests take a
little time each, so that the run proves the overlap it is meant to test.
"""

import os
import time


def note(test_id, pause=True):
    path = os.environ.get("PLANTED_LOG")
    if path:
        with open(path, "a") as handle:
            handle.write("%s %d %f\n" % (test_id, os.getpid(), time.time()))
        if pause and os.environ.get("PLANTED_OVERLAP"):
            time.sleep(0.3)


def hold():
    """Until another process's test has noted itself at a time since now (at most 30 s),
    or 0.2 s. By the time noted, not by the line's appearing: a line may be written
    after the time it notes, which can be before now."""
    path = os.environ.get("PLANTED_LOG")
    if not (path and os.environ.get("PLANTED_OVERLAP")):
        time.sleep(0.2)
        return
    since = time.time()
    deadline = since + 30
    while time.time() < deadline and not _noted_since(path, since):
        time.sleep(0.02)


def _noted_since(path, since):
    with open(path) as handle:
        return any(int(pid) != os.getpid() and float(noted) >= since
                   for _test, pid, noted in (line.split() for line in handle))
