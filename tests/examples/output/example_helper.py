"""One helper that many tests call leaks (mutagen: 60 leaks from one helper in 31 tests
filled 154 lines, one block per test): its leaks are one block, listing the tests."""

import os
import tempfile
import unittest

TESTS = int(os.environ.get("EXAMPLE_TESTS", "12"))


def copy_of_fixture():
    fd, path = tempfile.mkstemp(suffix=".wav")  # the helper's line
    os.close(fd)
    return path


class Base(object):

    def setUp(self):
        copy_of_fixture()

    def test_reads(self):
        copy_of_fixture()


for number in range(TESTS):
    globals()["Format%02d" % number] = type("Format%02d" % number, (Base, unittest.TestCase), {})


class Own(unittest.TestCase):

    def test_its_own_leak(self):
        tempfile.mkdtemp(suffix=".own")
