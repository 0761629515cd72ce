"""Example suite (data for tests/test_pytest_plugin.py): a test that uses tmp_path and
leaks a file outside it, then a test that leaks nothing. pytest's temp fixtures never
remove anything outside their basetemp, so the leak is the first test's, at its end."""

import os
import tempfile


def test_uses_tmp_path_and_leaks(tmp_path):
    (tmp_path / "inside").write_text("pytest's")
    os.close(tempfile.mkstemp(prefix="beside-tmp-path")[0])


def test_innocent_last():
    assert True
