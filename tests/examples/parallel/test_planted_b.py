"""A failing test whose files are kept, and a test that leaks a directory."""

import os
import tempfile
import unittest

import planted_log
import tempguard


class Failing(tempguard.TempGuardMixin, unittest.TestCase):

    def test_fails_with_files(self):
        self.temp_file("evidence\n", name="evidence.txt")
        fd, _path = tempfile.mkstemp(prefix="planted-failing-")
        os.close(fd)
        planted_log.note(self.id())
        self.fail("planted failure")


class Quick(tempguard.TempGuardMixin, unittest.TestCase):

    def test_leaks_a_dir(self):
        tempfile.mkdtemp(prefix="planted-dir-")
        planted_log.note(self.id())
