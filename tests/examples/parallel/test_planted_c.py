"""Planted leaks: in setUpModule, setUpClass, a test and two subTests."""

import os
import tempfile
import unittest

import planted_log
import tempguard


def _leak_file(prefix):
    fd, _path = tempfile.mkstemp(prefix=prefix)
    os.close(fd)


def setUpModule():
    _leak_file("planted-module-")


class Leaky(tempguard.TempGuardMixin, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tempfile.mkdtemp(prefix="planted-class-")

    def test_leaks_a_file(self):
        _leak_file("planted-test-")
        planted_log.note(self.id())

    def test_subtests_leak(self):
        for number in (1, 2):
            with self.subTest(number=number):
                _leak_file("planted-sub%d-" % number)
        planted_log.note(self.id())
