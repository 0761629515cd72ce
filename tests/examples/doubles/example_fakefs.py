"""Example suite (data for tests/test_doubles.py): pyfakefs's fake file system, switched
on for a whole class in setUpClass and for one test in setUp, beside real leaks."""

import os
import sys
import tempfile
import unittest

from pyfakefs import fake_filesystem_unittest


def leak(prefix):
    fd, path = tempfile.mkstemp(prefix=prefix)  # the line each real leak is made at
    os.close(fd)


class FakeForTheClass(fake_filesystem_unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if sys.version_info >= (3, 8):  # pyfakefs has no setUpClassPyfakefs before
            cls.setUpClassPyfakefs()

    def setUp(self):
        if sys.version_info < (3, 8):
            self.setUpPyfakefs()

    def test_fake_files_only(self):
        self.fs.create_file("/data/in.txt", contents="fake")
        with open("/data/in.txt") as handle:
            self.assertEqual(handle.read(), "fake")

    def test_fake_temp_file(self):
        fd, path = tempfile.mkstemp()
        os.close(fd)
        self.assertTrue(os.path.exists(path))


class FakeForOneTest(fake_filesystem_unittest.TestCase):

    def setUp(self):
        self.setUpPyfakefs()

    def test_fake_tree(self):
        os.makedirs("/a/b/c")
        self.assertEqual(os.listdir("/a/b"), ["c"])


class Real(unittest.TestCase):

    def test_real_leak(self):
        leak("real-")
