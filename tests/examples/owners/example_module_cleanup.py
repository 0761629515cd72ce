"""A test hands its temp dir to addModuleCleanup (Python 3.8+)."""

import tempfile
import unittest

from owner_support import remove


def tearDownModule():
    """Python 3.8 runs module cleanups only after a tearDownModule."""


class A(unittest.TestCase):

    def test_makes(self):
        unittest.addModuleCleanup(remove, tempfile.mkdtemp(suffix=".module-cleanup"))


class B(unittest.TestCase):

    def test_runs_before_the_cleanup(self):
        pass
