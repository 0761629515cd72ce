"""README.rst tells the truth: its Python examples run, in order, in a clean child."""

import importlib.util
import io
import os
import re
import tempfile
import textwrap
import unittest

from tests import support


def python_blocks(text):
    pattern = re.compile(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", re.M)
    return [textwrap.dedent(block) for block in pattern.findall(text)]


class ReadmeTest(unittest.TestCase):

    def test_python_examples_run(self):
        with open(os.path.join(support.PROJECT, "README.rst")) as handle:
            blocks = python_blocks(handle.read())
        self.assertGreaterEqual(len(blocks), 4)
        scratch = tempfile.mkdtemp(prefix="scratch-")
        self.addCleanup(support._remove, scratch)
        for number, block in enumerate(blocks):
            with self.subTest(block=number):
                completed = support.run_python(["-c", block], env={"TMPDIR": scratch})
                self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(os.listdir(scratch), [])

    def test_every_test_it_names_exists(self):
        with open(os.path.join(support.PROJECT, "README.rst")) as handle:
            # test_runner is Django's setting, not one of our tests.
            named = set(re.findall(r"``(test_\w+)``", handle.read())) - {"test_runner"}
        defined = set()
        for filename in os.listdir(os.path.join(support.PROJECT, "tests")):
            if filename.startswith("test_") and filename.endswith(".py"):
                with open(os.path.join(support.PROJECT, "tests", filename)) as handle:
                    defined.update(re.findall(r"def (test_\w+)\(", handle.read()))
        self.assertGreaterEqual(len(named), 15)
        self.assertEqual(sorted(named - defined), [], "README.rst names tests that do not exist")

    def test_renders_without_warnings(self):
        if importlib.util.find_spec("docutils") is None:
            self.skipTest("docutils is not installed for this Python (.ci/run installs it)")
        import docutils.core
        import docutils.utils
        with open(os.path.join(support.PROJECT, "README.rst")) as handle:
            text = handle.read()
        try:
            docutils.core.publish_doctree(text, settings_overrides={
                "report_level": 2, "halt_level": 2, "warning_stream": io.StringIO(),
                # Highlighting needs Pygments, which older docutils do not bring along.
                "syntax_highlight": "none"})
        except docutils.utils.SystemMessage as problem:
            self.fail("README.rst does not render cleanly: %s" % problem)
