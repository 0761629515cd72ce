"""A later test of the class removes what an earlier one made."""

import os
import tempfile
import unittest

from owner_support import remove


class LaterTestOwns(unittest.TestCase):
    shared = None

    def test_1_makes(self):
        type(self).shared = tempfile.mkdtemp(suffix=".later-test")

    def test_2_uses_and_removes(self):
        self.assertTrue(os.path.isdir(self.shared))
        remove(self.shared)
