"""Example suite (data for tests/test_runner.py): setUpModule resources and leaks."""

import os
import tempfile
import unittest

import tempguard

SHARED = {}


def setUpModule():
    SHARED["tracked"] = tempguard.create_temp_file("module-wide")
    handle, SHARED["forgotten"] = tempfile.mkstemp(suffix=".setupmodule")
    os.close(handle)
    print("TRACKED", SHARED["tracked"], flush=True)


def tearDownModule():
    print("AT_TEARDOWN", SHARED["tracked"].exists(), flush=True)


class First(unittest.TestCase):

    def test_sees_module_files(self):
        self.assertTrue(SHARED["tracked"].exists())


class Second(unittest.TestCase):

    def test_still_sees_them(self):
        self.assertTrue(SHARED["tracked"].exists())
        self.assertTrue(os.path.exists(SHARED["forgotten"]))
