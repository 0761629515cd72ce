"""Example suite (data for tests/test_mixin.py): a mixin test that runs another inside it,
then a plain test that checks that tempfile and TMPDIR are as the run found them."""

import os
import tempfile
import unittest

import tempguard


class Inner(tempguard.TempGuardMixin, unittest.TestCase):

    def test_inner(self):
        tempguard.create_temp_file("inner")


class Outer(tempguard.TempGuardMixin, unittest.TestCase):

    def test_outer_runs_inner(self):
        result = unittest.TestResult()
        Inner("test_inner").run(result)
        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)


class ZAfterwards(unittest.TestCase):

    def test_tempfile_and_tmpdir_are_as_they_were(self):
        self.assertIsNone(tempfile.tempdir)
        self.assertEqual(os.environ["TMPDIR"], os.environ["ORIGINAL_TMPDIR"])
