"""What pytest's summary line counts: subTests that fail (not those that pass or skip),
errors in setup and teardown, expected failures and unexpected successes."""

import unittest

import pytest


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


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup fails")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown fails")


def test_setup_errors(broken_setup):
    pass


def test_teardown_errors(broken_teardown):
    pass


@pytest.mark.xfail(reason="fails, as expected")
def test_expected_failure():
    assert False


@pytest.mark.xfail(reason="passes all the same")
def test_unexpected_success():
    pass


@pytest.mark.xfail(reason="must fail", strict=True)
def test_strict_unexpected_success():
    pass
