"""A child that outlives the test process, as pool workers do, and writes its file only
once the test process has exited."""

import os
import subprocess
import sys
import unittest

# Waits for its parent to exit (it is then re-parented), then writes in its temp dir. The
# parent is named by its starter: under load, the parent may be gone before the child
# first asks.
_AFTER_PARENT = """
import os, sys, tempfile, time
parent = int(sys.argv[1])
deadline = time.monotonic() + 30
while os.getppid() == parent and time.monotonic() < deadline:
    time.sleep(0.02)
with open(os.path.join(tempfile.gettempdir(), "after-its-parent"), "w") as handle:
    handle.write("written once the test process had exited")
"""


class OutlivesItsParent(unittest.TestCase):

    def test_starts(self):
        OutlivesItsParent.child = subprocess.Popen([sys.executable, "-c", _AFTER_PARENT,
                                                    str(os.getpid())])
