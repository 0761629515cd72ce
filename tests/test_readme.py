"""README.rst tells the truth: its Python examples run, in order, in a clean child."""

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
