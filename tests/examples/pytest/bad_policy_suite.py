"""Example suite (data for tests/test_pytest_plugin.py): a class whose leak policy is
not one there is."""


class TestLoud(object):
    tempguard_leaks = "Fail"

    def test_nothing(self):
        pass
