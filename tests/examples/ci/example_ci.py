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


class LongIds(unittest.TestCase):
    """With EXAMPLE_LONG set, twelve tests with 100,000-character names that each leak:
    more than GitHub takes of a step summary, were each one a row."""


def _leak_if_long(self):
    if os.environ.get("EXAMPLE_LONG"):
        leak(".long")


for _number in range(12):
    setattr(LongIds, "test_%02d_%s" % (_number, "x" * 100000), _leak_if_long)


class Unterminated(unittest.TestCase):

    def test_progress_without_a_newline_then_leak(self):
        """With EXAMPLE_PROGRESS set: a line left unterminated on stdout, then a leak."""
        if os.environ.get("EXAMPLE_PROGRESS"):
            print("progress 100%", end="", flush=True)
            leak(".progress")
