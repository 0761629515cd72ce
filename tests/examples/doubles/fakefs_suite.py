"""Example suite (data for tests/test_doubles.py): pyfakefs's ``fs`` fixture beside
tests that touch the real file system, one of which leaks."""

import os
import tempfile


def test_fake_file(fs):
    fs.create_file("/x/y.txt", contents="hi")
    assert os.path.exists("/x/y.txt")


def test_fake_temp_dir(fs):
    path = tempfile.mkdtemp()
    assert os.path.isdir(path)


def test_real_leak():
    fd, path = tempfile.mkstemp(prefix="real-")  # the line the real leak is made at
    os.close(fd)


def test_plain():
    assert True
