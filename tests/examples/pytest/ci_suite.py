"""A pytest suite with leaks, for tempguard's CI features under pytest and xdist."""

import os
import tempfile


def leak(suffix):
    fd, path = tempfile.mkstemp(suffix=suffix)
    os.close(fd)


def test_leaks():
    leak(".txt")


def test_new_leak():
    if os.environ.get("EXAMPLE_NEW"):
        leak(".new")


def test_clean():
    pass


def test_fails():
    if os.environ.get("EXAMPLE_FAIL"):
        leak(".dat")
        assert "expected" == "actual"


def test_redirects_github():
    redirect = os.environ.get("EXAMPLE_REDIRECT")
    if redirect:  # a test that points GitHub's names elsewhere, as pytest's process is ours
        os.environ["GITHUB_STEP_SUMMARY"] = os.path.join(redirect, "summary.md")
        os.environ["GITHUB_WORKSPACE"] = redirect
        os.chdir(redirect)
