"""Example script (data for tests/test_integrations.py): unittest.main with TempGuardRunner."""

import atexit
import os
import shutil
import sys
import tempfile
import unittest

import tempguard


class Script(unittest.TestCase):

    def test_clean(self):
        tempguard.create_temp_file("tracked")

    def test_leak(self):
        tempfile.mkdtemp(suffix=".main-leak")


class HandsToAtexit(unittest.TestCase):

    def test_hands_over(self):
        path = tempfile.mkdtemp(suffix=".main-atexit")
        # Forgetful: the handler it registers removes nothing.
        forget = os.environ.get("EXAMPLE_FORGET") == "1"
        atexit.register(lambda: None if forget else shutil.rmtree(path))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--module-none"]:
        unittest.main(module=None, argv=[sys.argv[0], "example_main"],
                      testRunner=tempguard.TempGuardRunner)
    else:
        unittest.main(testRunner=tempguard.TempGuardRunner)
