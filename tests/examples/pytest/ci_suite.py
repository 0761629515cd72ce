"""A pytest suite with leaks, for tempguard's CI features under pytest and xdist."""

import os
import tempfile


def leak(suffix):
    fd, path = tempfile.mkstemp(suffix=suffix)
    os.close(fd)


def test_leaks():
    leak(".txt")


def test_new_leak():
    if os.environ.get("EXAMPLE_NEW"):
        leak(".new")


def test_clean():
    pass


def test_fails():
    if os.environ.get("EXAMPLE_FAIL"):
        leak(".dat")
        assert "expected" == "actual"
