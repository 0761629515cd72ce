"""Helpers that make temp entries for the tests of example_origins."""

import os
import tempfile


def make_copy():
    fd, path = tempfile.mkstemp(suffix=".wav")  # origin: make_copy
    os.close(fd)
    return path


def make_in_thread():
    tempfile.mkdtemp(prefix="thread")  # origin: thread
