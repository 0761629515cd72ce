"""A run() override makes a work dir around super().run() and removes it afterwards."""

import os
import tempfile
import unittest

from owner_support import remove


class Wrapped(unittest.TestCase):

    def run(self, result=None):
        self.workdir = tempfile.mkdtemp(suffix=".run-wrapper")
        try:
            return super().run(result)
        finally:
            remove(self.workdir)

    def test_a(self):
        self.assertTrue(os.path.isdir(self.workdir))

    def test_b(self):
        self.assertTrue(os.path.isdir(self.workdir))

    def test_c(self):
        self.assertTrue(os.path.isdir(self.workdir))
