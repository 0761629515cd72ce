"""Example suite (data for tests/test_mixin.py): the mixin under plain `python -m unittest`."""

import os
import tempfile
import unittest

import tempguard


class WithClassFixture(tempguard.TempGuardMixin, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.shared = tempguard.create_temp_file("shared by the class")
        handle, cls.untracked = tempfile.mkstemp(suffix=".class-untracked")
        os.close(handle)
        print("SHARED", cls.shared, flush=True)
        print("UNTRACKED", cls.untracked, flush=True)

    def test_sees_the_fixture(self):
        self.assertTrue(self.shared.exists())
        print("TEST", self.temp_file("mine"), flush=True)


class FailsOnLeaks(tempguard.TempGuardMixin, unittest.TestCase):
    tempguard_leaks = "fail"
    tempguard_keep = "none"

    def test_leaks(self):
        handle, _path = tempfile.mkstemp(suffix=".fail-mode")
        os.close(handle)


class WarnsOnLeaks(tempguard.TempGuardMixin, unittest.TestCase):
    tempguard_leaks = "warn"

    def test_leaks(self):
        handle, _path = tempfile.mkstemp(suffix=".warn-mode")
        os.close(handle)


class KeepsFailures(tempguard.TempGuardMixin, unittest.TestCase):

    def test_fails(self):
        self.temp_file("evidence", name="evidence.txt")
        self.fail("on purpose")
