"""Fixtures that start processes which leave temp files: theirs, not the tests'."""

import subprocess
import sys

import pytest

LEAVE = "import os, tempfile; os.close(tempfile.mkstemp(prefix='%s')[0])"


@pytest.fixture
def helper():
    subprocess.run([sys.executable, "-c", LEAVE % "helper"], check=True)
    yield


@pytest.fixture(scope="session")
def server():
    process = subprocess.Popen([sys.executable, "-c", LEAVE % "server"
                                + "; import time; time.sleep(0.5)"])
    yield
    process.wait()


def test_first(server):
    pass


def test_uses_helper(helper):
    pass


def test_third(server):
    subprocess.run([sys.executable, "-c", LEAVE % "itself"], check=True)
