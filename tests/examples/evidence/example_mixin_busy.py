"""Example suite (data for tests/test_evidence.py): a mixin test in fail mode that asks
for its leaks mid-test, while another program writes in the temp dir."""

import time
import unittest

import tempguard


class Busy(tempguard.TempGuardMixin, unittest.TestCase):
    tempguard_leaks = "fail"

    def test_asks_mid_test(self):
        time.sleep(0.3)
        self.assertNoTempLeaks()
