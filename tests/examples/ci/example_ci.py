"""A suite with leaks, for tempguard's CI features (baseline, exit status, annotations,
kept files as artifacts): environment variables make a test fail, leak anew, or stop
leaking."""

import os
import tempfile
import unittest


def leak(suffix, content=b""):
    fd, path = tempfile.mkstemp(suffix=suffix)  # the line each leak is made at
    os.write(fd, content)
    os.close(fd)
    return path


class Leaky(unittest.TestCase):

    def test_leaks(self):
        leak(".txt")

    def test_fixed_later(self):
        if not os.environ.get("EXAMPLE_FIXED"):
            leak(".log")

    def test_new_leak(self):
        if os.environ.get("EXAMPLE_NEW"):
            leak(".new")

    def test_clean(self):
        pass

    def test_fails(self):
        if os.environ.get("EXAMPLE_FAIL"):
            leak(".dat", b"kept")
            self.assertEqual("expected", "actual")


class Many(unittest.TestCase):
    """With EXAMPLE_MANY set, twelve tests that each leak: more leak groups than GitHub
    shows annotations of a step."""


def _leak_if_many(self):
    if os.environ.get("EXAMPLE_MANY"):
        leak(".many")


for _number in range(12):
    setattr(Many, "test_%02d" % _number, _leak_if_many)
