"""Example suite (data for tests/test_pytest_plugin.py): a test that leaks while it uses a
session-scoped fixture (as cookiecutter's use cli_runner), so that its leak is judged
only at the session's end, in the teardown of an innocent last test."""

import os
import tempfile

import pytest


@pytest.fixture(scope="session")
def runner():
    yield []


def test_leaks_with_a_session_fixture(runner):
    fd, path = tempfile.mkstemp(prefix="late-")  # the line the leak is made at
    os.close(fd)


def test_innocent_last():
    pass
