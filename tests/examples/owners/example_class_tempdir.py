"""A class fixture points tempfile and TMPDIR at a dir of its own for its tests."""

import os
import subprocess
import sys
import tempfile
import unittest

from owner_support import remove


class OwnTempDir(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.own = tempfile.mkdtemp(suffix=".class-tempdir")
        cls.saved = (tempfile.tempdir, os.environ.get("TMPDIR"))
        tempfile.tempdir = os.environ["TMPDIR"] = cls.own

    @classmethod
    def tearDownClass(cls):
        tempfile.tempdir = cls.saved[0]
        if cls.saved[1] is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = cls.saved[1]
        remove(cls.own)

    def test_1_sees_its_dir(self):
        self.assertEqual(tempfile.gettempdir(), self.own)
        with tempfile.NamedTemporaryFile() as handle:
            self.assertEqual(os.path.dirname(handle.name), self.own)

    def test_2_still_sees_it(self):
        self.assertEqual(tempfile.gettempdir(), self.own)

    def test_3_children_see_it(self):
        out = subprocess.check_output([sys.executable, "-c",
                                       "import tempfile; print(tempfile.gettempdir())"])
        self.assertEqual(out.decode().strip(), self.own)
