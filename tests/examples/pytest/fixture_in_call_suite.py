"""A test that makes a file, then asks for a fixture in its body: the file is the test's."""

import os
import tempfile

import pytest


@pytest.fixture
def late():
    return 1


def test_makes_then_asks(request):
    os.close(tempfile.mkstemp(prefix="mine")[0])
    assert request.getfixturevalue("late") == 1
