"""Example suite (data for tests/test_pytest_plugin.py): under xdist, a worker killed
by SIGKILL after its test leaked, beside tests that leak in workers that live."""

import os
import signal
import tempfile

import pytest


def test_leaks_then_its_worker_is_killed():
    tempfile.mkstemp(prefix="before-the-kill-")
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("number", range(4))
def test_leaks_in_a_worker_that_lives(number):
    tempfile.mkstemp(prefix="lived-%d-" % number)
