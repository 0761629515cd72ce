"""What pytest's summary line counts: subTests that fail, and not those that pass or skip."""

import unittest


class SubTests(unittest.TestCase):

    def test_one_subtest_skips(self):
        for number in (1, 2, 3):
            with self.subTest(number=number):
                if number == 2:
                    self.skipTest("two is skipped")

    def test_one_subtest_fails(self):
        for number in (1, 2, 3):
            with self.subTest(number=number):
                self.assertNotEqual(number, 2)


def test_plain():
    pass
