"""Example suite (data for tests/test_doubles.py): classes and a module that replace the
file-system functions tempguard itself uses, for as long as they run; some count the
calls they see. Each test leaks one planted file, on its own line."""

import os
import shutil
import tempfile
import unittest
from unittest import mock

import tempguard

_PATCHES = []


def _start(*targets):
    for target in targets:
        patcher = mock.patch(target, wraps=_original(target))
        _PATCHES.append(patcher)
        patcher.start()


def _original(target):
    module, name = target.rsplit(".", 1)
    return getattr({"os": os, "shutil": shutil, "tempfile": tempfile,
                    "os.path": os.path}[module], name)


def setUpModule():
    _start("os.scandir", "shutil.rmtree")


def tearDownModule():
    while _PATCHES:
        _PATCHES.pop().stop()


def plant(prefix):
    fd, path = tempfile.mkstemp(prefix=prefix)  # the line each leak is made at
    os.close(fd)
    return path


class PatchesListingInSetUpClass(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # Doubles that answer for a file system of their own, as legacy suites' do.
        cls.patchers = [mock.patch("os.lstat", return_value=os.stat_result((0o100644,) + (0,) * 9)),
                        mock.patch("os.listdir", return_value=["only-this.txt"]),
                        mock.patch("os.fstat", wraps=os.fstat)]
        cls.mocks = [patcher.start() for patcher in cls.patchers]

    @classmethod
    def tearDownClass(cls):
        for patcher in cls.patchers:
            patcher.stop()

    def test_one(self):
        plant("one-")

    def test_two(self):
        for mocked in self.mocks:
            mocked.reset_mock()
        plant("two-")
        self.assertEqual(os.lstat.call_count, 0)  # the test's own calls only
        self.assertEqual(os.listdir.call_count, 0)


class CountsItsOwnUnlinks(unittest.TestCase):

    def setUp(self):
        tempfile.gettempdir()  # its first call probes the dir, with os.unlink among others
        patcher = mock.patch("os.unlink", wraps=os.unlink)
        self.unlink = patcher.start()
        self.addCleanup(patcher.stop)
        mkdtemp = mock.patch("tempfile.mkdtemp", wraps=tempfile.mkdtemp)
        self.mkdtemp = mkdtemp.start()
        self.addCleanup(mkdtemp.stop)

    def test_removes_one_and_leaks_one(self):
        os.unlink(plant("removed-"))
        plant("counted-")
        self.assertEqual(self.unlink.call_count, 1)
        self.assertEqual(os.scandir.call_count, 0)
        self.assertEqual(shutil.rmtree.call_count, 0)
        self.assertEqual(self.mkdtemp.call_count, 0)


class MixinUnderDoubles(tempguard.TempGuardMixin, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.patchers = [mock.patch("os.lstat", wraps=os.lstat),
                        mock.patch("os.unlink", wraps=os.unlink)]
        cls.mocks = [patcher.start() for patcher in cls.patchers]

    @classmethod
    def tearDownClass(cls):
        for patcher in cls.patchers:
            patcher.stop()
        super().tearDownClass()

    def test_helpers_and_a_leak(self):
        for mocked in self.mocks:
            mocked.reset_mock()
        self.temp_file(content="tracked")
        plant("mixin-")
        self.assertEqual(os.unlink.call_count, 0)
