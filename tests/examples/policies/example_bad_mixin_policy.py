"""Example suite (data for tests/test_mixin.py): a mixin class whose keep policy is a list."""

import unittest

import tempguard


class KeepsAList(tempguard.TempGuardMixin, unittest.TestCase):
    tempguard_keep = ["all"]

    def test_nothing(self):
        pass
