"""The mixin under plain unittest, for tempguard's CI features: a test that leaks."""

import os
import tempfile
import unittest

import tempguard


class MixinLeaky(tempguard.TempGuardMixin, unittest.TestCase):

    def test_leaks(self):
        fd, _path = tempfile.mkstemp(suffix=".mixin")
        os.close(fd)
