"""Example suite (data for tests/test_runner.py): unittest's outcomes, no leaks."""

import unittest

import tempguard


class Outcomes(unittest.TestCase):

    def test_pass(self):
        tempguard.create_temp_file("x")

    def test_fail(self):
        self.assertEqual(1, 2)

    def test_error(self):
        raise RuntimeError("boom")

    @unittest.skip("because")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.fail("expected")

    @unittest.expectedFailure
    def test_unexpected_success(self):
        pass

    def test_subtests(self):
        for number in range(3):
            with self.subTest(number=number):
                self.assertNotEqual(number, 1)
