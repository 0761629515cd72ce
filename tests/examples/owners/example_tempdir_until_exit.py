"""A TemporaryDirectory kept alive until exit; forgetful: a mkdtemp kept the same way."""

import tempfile
import unittest

from owner_support import FORGET

KEPT = []


class KeepsItUntilExit(unittest.TestCase):

    def test_1_makes(self):
        if FORGET:
            KEPT.append(tempfile.mkdtemp(suffix=".until-exit"))
        else:
            KEPT.append(tempfile.TemporaryDirectory(suffix=".until-exit"))

    def test_2_after(self):
        self.assertEqual(len(KEPT), 1)
