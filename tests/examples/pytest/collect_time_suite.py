"""A test module that leaves a temp file when it is imported, at collection."""

import os
import tempfile

os.close(tempfile.mkstemp(prefix="collected")[0])


def test_first():
    pass


def test_second():
    pass
