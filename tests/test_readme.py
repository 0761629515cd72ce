"""README.rst and the manual in docs/ tell the truth: their Python examples run, in order,
in a clean child; every test a guarantee names exists; they render cleanly."""

import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tests import support


DOCS = os.path.join(support.PROJECT, "docs")


def documents():
    """{name: text} of README.rst, CHANGELOG.rst and every page of docs/."""
    names = ["README.rst", "CHANGELOG.rst"] + sorted(
        os.path.join("docs", name) for name in os.listdir(DOCS) if name.endswith(".rst"))
    texts = {}
    for name in names:
        with open(os.path.join(support.PROJECT, name)) as handle:
            texts[name] = handle.read()
    return texts


def python_blocks(text):
    pattern = re.compile(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", re.M)
    return [textwrap.dedent(block) for block in pattern.findall(text)]


class ReadmeTest(unittest.TestCase):

    def test_the_readme_is_a_guide_and_names_every_page_of_the_manual(self):
        texts = documents()
        self.assertLessEqual(texts["README.rst"].count("\n"), 300)
        pages = [name for name in texts if name.startswith("docs" + os.sep)]
        self.assertGreaterEqual(len(pages), 10)
        for name in pages + ["CHANGELOG.rst"]:
            self.assertIn("``%s``" % name.replace(os.sep, "/"), texts["README.rst"])

    def test_python_examples_run(self):
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        count = 0
        for name, text in documents().items():
            for number, block in enumerate(python_blocks(text)):
                count += 1
                with self.subTest(document=name, block=number):
                    completed = support.run_python(["-c", block], env={"TMPDIR": scratch})
                    self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertGreaterEqual(count, 4)
        self.assertEqual(os.listdir(scratch), [])

    def test_make_demo_exits_as_the_readme_says(self):
        """README said make demo exits 1; make exits 0 (the Makefile says why)."""
        if shutil.which("make") is None:
            self.skipTest("needs make")
        completed = subprocess.run(["make", "-s", "demo", "PYTHON=" + sys.executable],
                                   cwd=support.PROJECT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True,
                                   env=dict(os.environ, TMPDIR=support.scratch_dir(self)))
        self.assertEqual(completed.returncode, 0, completed.stdout)
        self.assertIn("(exit code 1 is expected: the demo suite has a failing test)",
                      completed.stdout)
        self.assertIn("The demo's run exits 1, because one demo test fails on purpose; "
                      "``make demo`` says so and exits 0.",
                      " ".join(documents()["README.rst"].split()))
        # README shows tempguard's part as printed, but for paths and times.
        readme = documents()["README.rst"].split("(your paths and times differ)::\n\n", 1)[1]
        shown = textwrap.dedent(readme.split("\n\nEach leak names its test", 1)[0])

        def masked(text):
            text = re.sub(r"/\S+", "PATH", text)
            return re.sub(r"in [\d.]+s$", "in Ns", text.strip(), flags=re.M)
        printed = support.REDUCED_NOTE.sub("", completed.stdout)
        printed = printed.split("\ntempguard: leaked temporary files\n", 1)[1]
        printed = "tempguard: leaked temporary files\n" + printed.split("\n(exit code", 1)[0]
        printed = masked(printed)
        if support.origins.AVAILABLE:
            self.assertEqual(masked(shown), printed)
        else:  # 3.6, 3.7: no line says where each was made
            self.assertEqual([line for line in masked(shown).splitlines()
                              if "made at" not in line and line not in printed.splitlines()],
                             [])

    def test_every_test_it_names_exists(self):
        # test_runner is Django's setting, not one of our tests.
        named = set(re.findall(r"``(test_\w+)``", "".join(documents().values()))) - {
            "test_runner"}
        defined = set()
        for filename in os.listdir(os.path.join(support.PROJECT, "tests")):
            if filename.startswith("test_") and filename.endswith(".py"):
                with open(os.path.join(support.PROJECT, "tests", filename)) as handle:
                    defined.update(re.findall(r"def (test_\w+)\(", handle.read()))
        self.assertGreaterEqual(len(named), 15)
        self.assertEqual(sorted(named - defined), [], "the docs name tests that do not exist")

    def test_renders_without_warnings(self):
        if importlib.util.find_spec("docutils") is None:
            self.skipTest("docutils is not installed for this Python (.ci/run installs it)")
        import docutils.core
        import docutils.utils
        for name, text in documents().items():
            with self.subTest(document=name):
                try:
                    docutils.core.publish_doctree(text, settings_overrides={
                        "report_level": 2, "halt_level": 2, "warning_stream": io.StringIO(),
                        # Highlighting needs Pygments, which older docutils do not bring.
                        "syntax_highlight": "none"})
                except docutils.utils.SystemMessage as problem:
                    self.fail("%s does not render cleanly: %s" % (name, problem))


if __name__ == "__main__":
    unittest.main()
