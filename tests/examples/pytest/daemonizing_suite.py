"""Example suite (data for tests/test_pytest_plugin.py): a fixture that daemonizes as
some helpers do, closing every fd above stdio and opening its own at those numbers,
and a forked copy that makes an entry whose name holds a newline in a watched dir, before the fixture takes the fork log's fd too."""

import os
import tempfile

import pytest

from tests.support import open_fds


@pytest.fixture
def daemonized():
    numbers = [number for number in open_fds() if number > 2]
    os.closerange(3, 1 << 16)
    for number in numbers:
        fd = os.open(os.devnull, os.O_RDWR)
        if fd != number:
            os.dup2(fd, number)
            os.close(fd)
    yield  # the daemon keeps what it opened


def test_a_forked_copy_makes_a_name_with_a_newline():
    pid = os.fork()
    if pid == 0:
        try:
            tempfile.mkstemp(prefix="forked\n12 not-a-pid-line\n", dir=os.environ["WATCHED"])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def test_after_the_fixture_took_every_fd(daemonized):
    assert True
