"""Example suite (data for tests/test_integrations.py): the mixin under pytest."""

import os
import tempfile
import unittest

import tempguard


class Clean(tempguard.TempGuardMixin, unittest.TestCase):

    def test_helpers(self):
        path = self.temp_file("x", name="data.txt")
        self.assertEqual(path.read_text(), "x")
        print("MADE", path)

    def test_tree(self):
        self.assertTrue((self.temp_tree({"a/b": "c"}) / "a" / "b").exists())


class Warns(tempguard.TempGuardMixin, unittest.TestCase):
    tempguard_leaks = "warn"

    def test_leaks_a_file(self):
        handle, _path = tempfile.mkstemp(suffix=".pytest-warn")
        os.close(handle)


class Fails(tempguard.TempGuardMixin, unittest.TestCase):
    tempguard_leaks = "fail"
    tempguard_keep = "none"

    def test_leaks_a_dir(self):
        tempfile.mkdtemp(suffix=".pytest-fail")
