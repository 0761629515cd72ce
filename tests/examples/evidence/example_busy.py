"""Example suite (data for tests/test_evidence.py): clean tests, run while another program
writes in the same temp dir; and one test that plants a leak there with a hard-coded path
(EXAMPLE_PLANT names it), which this process is seen to make."""

import os
import tempfile
import time
import unittest


class Clean(unittest.TestCase):

    def test_each_makes_and_removes_a_file(self):
        for number in range(100):
            with self.subTest(number=number):
                with tempfile.NamedTemporaryFile() as handle:
                    handle.write(b"clean")
                time.sleep(0.01)


class Plants(unittest.TestCase):

    def test_plants_a_file_in_the_real_temp_dir(self):
        if os.environ.get("EXAMPLE_PLANT"):
            with open(os.environ["EXAMPLE_PLANT"], "w") as handle:
                handle.write("planted")
