"""Example script (data for tests/test_integrations.py): unittest.main with TempGuardRunner."""

import sys
import tempfile
import unittest

import tempguard


class Script(unittest.TestCase):

    def test_clean(self):
        tempguard.create_temp_file("tracked")

    def test_leak(self):
        tempfile.mkdtemp(suffix=".main-leak")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--module-none"]:
        unittest.main(module=None, argv=[sys.argv[0], "example_main"],
                      testRunner=tempguard.TempGuardRunner)
    else:
        unittest.main(testRunner=tempguard.TempGuardRunner)
