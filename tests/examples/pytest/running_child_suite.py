"""A child still running when the run ends, held by a cycle, under filterwarnings =
error (issue 38, item 5): whatever plain pytest prints about it at exit, the guarded run
prints the same, and nothing more."""

import subprocess
import sys
import tempfile


KEPT = []


def test_a_child_dropped_while_it_runs():
    # Freed at once (its last reference goes): its ResourceWarning is this test's. One
    # held by a cycle is freed when the collector runs, which any allocation moves.
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])


def test_a_child_kept_by_the_module():
    KEPT.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"]))


def test_a_leak_beside_them():
    tempfile.mkstemp(suffix=".beside-a-child")
