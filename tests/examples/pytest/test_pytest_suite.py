"""Example suite (data for tests/test_pytest_plugin.py): what pytest users write."""

import os
import tempfile
import unittest

import pytest

import tempguard


def test_plain_leaks():
    os.close(tempfile.mkstemp(prefix="plain")[0])


def test_plain_clean():
    with tempfile.TemporaryDirectory() as path:
        assert os.path.isdir(path)


@pytest.mark.parametrize("case", [1, 2])
def test_parametrized_leaks(case):
    os.close(tempfile.mkstemp(prefix="param%d-" % case)[0])


@pytest.fixture(scope="module")
def module_data():
    path = tempfile.mkdtemp(prefix="module-fixture")
    yield path
    if not os.environ.get("EXAMPLE_FORGET"):
        os.rmdir(path)


@pytest.fixture
def leaky_fixture():
    os.close(tempfile.mkstemp(prefix="function-fixture")[0])
    yield


@pytest.fixture(scope="module")
def removes_later():
    handed = []
    yield handed
    if not os.environ.get("EXAMPLE_FORGET"):
        for path in handed:
            os.remove(path)


def test_hands_a_file_to_a_module_fixture(removes_later):
    handle, path = tempfile.mkstemp(prefix="handed")
    os.close(handle)
    removes_later.append(path)


def test_the_handed_file_is_still_there(removes_later):
    assert [os.path.exists(path) for path in removes_later] == [True]


@pytest.fixture(scope="session")
def session_data():
    path = tempfile.mkdtemp(prefix="session-fixture")
    yield path
    if not os.environ.get("EXAMPLE_FORGET"):
        os.rmdir(path)


@pytest.fixture(scope="class")
def class_data():
    handle, path = tempfile.mkstemp(prefix="class-fixture")
    os.close(handle)
    yield path
    if not os.environ.get("EXAMPLE_FORGET"):
        os.remove(path)


class TestWithClassFixture:

    def test_one(self, class_data, session_data):
        assert os.path.exists(class_data) and os.path.isdir(session_data)

    def test_two(self, class_data):
        assert os.path.exists(class_data)


def test_uses_module_fixture(module_data):
    assert os.path.isdir(module_data)


def test_uses_leaky_fixture(leaky_fixture):
    pass


@pytest.mark.tempguard(leaks="ignore")
def test_marked_ignore():
    os.close(tempfile.mkstemp(prefix="ignored")[0])


def test_tmp_path(tmp_path):
    (tmp_path / "kept-by-pytest").write_text("x")


def test_fails():
    os.close(tempfile.mkstemp(prefix="failing")[0])
    assert False, "on purpose"


@pytest.fixture
def broken_setup():
    os.close(tempfile.mkstemp(prefix="setup-error")[0])
    raise RuntimeError("setup breaks on purpose")


def test_errors_in_setup(broken_setup):
    pass


@pytest.fixture
def broken_teardown():
    yield
    os.close(tempfile.mkstemp(prefix="teardown-error")[0])
    raise RuntimeError("teardown breaks on purpose")


def test_errors_in_teardown(broken_teardown):
    pass


class TestCaseLeaks(unittest.TestCase):

    def test_unittest_leaks(self):
        os.close(tempfile.mkstemp(prefix="unittest")[0])


def leaky_doctest():
    """
    >>> import os, tempfile
    >>> os.close(tempfile.mkstemp(prefix="doctest")[0])
    """


class MixinLeaks(tempguard.TempGuardMixin, unittest.TestCase):

    def test_mixin_leaks_once(self):
        self.temp_file("cleaned by the mixin")
        os.close(tempfile.mkstemp(prefix="mixin")[0])
