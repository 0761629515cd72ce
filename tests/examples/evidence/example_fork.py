"""Example suite (data for tests/test_evidence.py): a forked copy of the test process
(fork without exec) makes a file in the real temp dir, at EXAMPLE_PLANT."""

import os
import unittest


class Forks(unittest.TestCase):

    def test_a_forked_copy_plants_a_file(self):
        pid = os.fork()
        if pid == 0:
            try:
                with open(os.environ["EXAMPLE_PLANT"], "w") as handle:
                    handle.write("planted by a fork")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
