"""Example base (data for tests/test_mixin.py): a plain TestCase whose test leaks, at a
line past the end of example_inherited.py, the module that inherits it."""

import os
import tempfile
import unittest


class LeakyBase(unittest.TestCase):
    """Leaks one file; no guard of its own."""

    def setUp(self):
        self.made = []

    def test_leaks(self):
        # Far enough down that the inheriting module has no line this deep.
        fd, path = tempfile.mkstemp(suffix=".inherited")
        os.close(fd)
        self.made.append(path)
