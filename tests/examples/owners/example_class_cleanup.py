"""A test hands its temp dir to addClassCleanup (Python 3.8+)."""

import tempfile
import unittest

from owner_support import remove


class HandsToClassCleanup(unittest.TestCase):

    def test_makes(self):
        type(self).addClassCleanup(remove, tempfile.mkdtemp(suffix=".class-cleanup"))
