"""A plain TestCase whose tempguard_leaks attribute wins over --leaks and TEMPGUARD_LEAKS."""

import os
import tempfile
import unittest


class Tolerated(unittest.TestCase):
    tempguard_leaks = "warn"

    def test_mkstemp(self):
        handle, _path = tempfile.mkstemp(suffix=".tolerated")
        os.close(handle)


class Strict(unittest.TestCase):

    def test_mkstemp(self):
        handle, _path = tempfile.mkstemp(suffix=".strict")
        os.close(handle)
