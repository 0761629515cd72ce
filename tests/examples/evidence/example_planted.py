"""Example suite (data for tests/test_evidence.py): one leak of each kind of evidence,
named after EXAMPLE_TAG, for several runs that share one temp dir (EXAMPLE_REAL_TMP, the
real one) beside a foreign writer. Each run must blame its own leaks only."""

import os
import subprocess
import sys
import tempfile
import time
import unittest

TAG = os.environ["EXAMPLE_TAG"]
REAL_TMP = os.environ["EXAMPLE_REAL_TMP"]


class Earlier(unittest.TestCase):

    def setUp(self):
        time.sleep(0.2)  # long enough for the runs to overlap

    def test_1_mkstemp(self):
        os.close(tempfile.mkstemp(prefix=TAG + "-mkstemp")[0])

    def test_2_open_a_hard_coded_path(self):
        with open(os.path.join(REAL_TMP, TAG + "-open"), "w") as handle:
            handle.write("planted")

    def test_3_a_forked_copy(self):
        pid = os.fork()
        if pid == 0:
            try:
                open(os.path.join(REAL_TMP, TAG + "-fork"), "w").close()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    def test_4_a_child_writes_a_hard_coded_path(self):
        """Nothing ties it to the run but time: unattributed, with the child as a hint."""
        subprocess.check_call([sys.executable, "-c", "open(%r, 'w').close()"
                               % os.path.join(REAL_TMP, TAG + "-child")])

    def test_5_leaves_a_file(self):
        with open(os.path.join(tempfile.gettempdir(), "left-for-later"), "w") as handle:
            handle.write("left by " + TAG)


class Later(unittest.TestCase):

    def test_reads_what_an_earlier_test_left(self):
        with open(os.path.join(tempfile.gettempdir(), "left-for-later")) as handle:
            self.assertEqual(handle.read(), "left by " + TAG)


if __name__ == "__main__":
    unittest.main()
