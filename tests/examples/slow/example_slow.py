"""Example suite (data for tests/test_runner.py): a test that waits to be interrupted."""

import time
import unittest

import tempguard


class Slow(unittest.TestCase):

    def test_sleeps_until_interrupted(self):
        tempguard.create_temp_file("while sleeping")
        print("SLEEPING", flush=True)
        for _ in range(60):
            time.sleep(0.05)
