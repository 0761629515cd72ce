"""What `make demo` runs: a small suite that leaks in typical ways and has one failing test."""

import os
import tempfile
import unittest

import tempguard


class Report(tempguard.TempGuardMixin, unittest.TestCase):

    def test_parses_a_config_file(self):
        config = self.temp_file("[main]\nanswer = 42\n", name="app.ini")
        self.assertIn("answer", config.read_text())

    def test_forgets_to_remove_a_mkstemp_file(self):
        handle, _path = tempfile.mkstemp(suffix=".forgotten")
        os.close(handle)

    def test_forgets_a_mkdtemp_directory(self):
        path = tempfile.mkdtemp(suffix=".forgotten-dir")
        open(os.path.join(path, "data.csv"), "w").close()

    def test_builds_a_tree(self):
        root = self.temp_tree({"src/app.py": "print('hi')\n", "README": "demo"})
        self.assertTrue((root / "src" / "app.py").exists())

    def test_fails_with_evidence(self):
        self.temp_file("input that broke the parser\n", name="input.txt")
        self.assertEqual("parsed", "not parsed")
