"""Invisible to the tests: under the runner a test sees the process ``python -m unittest``
gives it (issue 27).

tests/examples/visible/example_visible.py writes down what each of its tests
sees; run under plain unittest and under the runner, in fresh temp dirs and the
same environment, the two must write the same lines. CPython's own test_trace and
test_pty, which looked at argv[0], ``__main__`` and the lowest free fd, must give
unittest's outcome lines.
"""

import importlib.util
import os
import tempfile
import unittest

from tests import support

VISIBLE = os.path.join(support.EXAMPLES, "visible")


def _run(test, command, *args, cwd=VISIBLE, env=None):
    tmp = tempfile.mkdtemp(prefix="visible-", dir=support.real_tempdir())
    test.addCleanup(support._remove, tmp)
    completed = support.run_python(command + list(args), cwd=cwd,
                                   env=dict(env or {}, TMPDIR=tmp), timeout=600)
    test.assertEqual(os.listdir(tmp), [], completed.stderr)
    return completed


class WhatATestSeesTest(unittest.TestCase):

    def observe(self, command):
        observed = os.path.join(support.scratch_dir(self), "observed")
        completed = _run(self, command, "example_visible", env={"OBSERVE": observed})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        with open(observed) as handle:
            return handle.read().splitlines()

    def test_each_test_sees_what_unittest_gives_it(self):
        theirs = self.observe(["-m", "unittest"])
        ours = self.observe(["-m", "tempguard.runner"])
        self.assertEqual(len(theirs), 7, theirs)
        self.assertEqual(ours, theirs)


class CPythonSuitesTest(unittest.TestCase):
    """Suites nobody here wrote, that look at the process they run in."""

    def check(self, module):
        if importlib.util.find_spec(module) is None:
            self.skipTest("this Python has no %s" % module)
        theirs = _run(self, ["-m", "unittest", module], cwd=support.real_tempdir())
        ours = _run(self, ["-m", "tempguard.runner", module], cwd=support.real_tempdir())
        self.assertEqual((ours.returncode, support.unittest_part(ours.stderr)),
                         (theirs.returncode, support.unittest_part(theirs.stderr)))

    def test_trace_ignores_what_it_ignores_under_unittest(self):
        """test_coverage_ignore compared the trace's files: 'unittest.runner.cover'
        appeared under the runner, whose __main__ was tempguard's."""
        self.check("test.test_trace")

    @support.needs("fcntl")  # test.test_pty imports it
    def test_pty_gets_unittest_s_fd_numbers(self):
        self.check("test.test_pty")
