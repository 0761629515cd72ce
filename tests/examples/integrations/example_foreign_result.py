"""Example (data for tests/test_integrations.py): TempGuardRunner given a result class of
the caller's own, as a partial with an argument, as unittest-parallel passes it."""

import functools
import os
import tempfile
import unittest

import tempguard

calls = []


class Counting(unittest.TextTestResult):

    def __init__(self, stream, descriptions, verbosity, tag=None, **kwargs):
        super().__init__(stream, descriptions, verbosity, **kwargs)
        self.tag = tag

    def addSuccess(self, test):
        calls.append("%s %s" % (self.tag, test.id()))
        super().addSuccess(test)


class Leaky(unittest.TestCase):

    def test_leaks(self):
        handle, _path = tempfile.mkstemp(suffix=".foreign-leak")
        os.close(handle)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Leaky)
    result = tempguard.TempGuardRunner(
        resultclass=functools.partial(Counting, tag="mine")).run(suite)
    print(type(result).__name__, calls)
