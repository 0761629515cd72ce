"""Example suite (data for tests/test_runner.py): a plain TestCase whose leak policy is
not one there is. Under the runner it used to be taken as warn, silently."""

import os
import tempfile
import unittest


class Loud(unittest.TestCase):
    tempguard_leaks = "loud"

    def test_leaks(self):
        os.close(tempfile.mkstemp(prefix="leaked-under-a-bad-policy-")[0])
