"""tempguard in CI, end to end: baseline, leak exit status, annotations, --keep-dir, shards."""

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from tempguard import baseline, copying, held, keep, origins
from tests import support

SUITE = os.path.join(support.EXAMPLES, "ci")
LEAK_LINE = 11  # example_ci.py: the line of leak() that makes every leak


def run_ci(test, *args, env=None, scratch=None, tests=("example_ci",)):
    """The runner on *tests* of the CI example suite (Leaky's by name), in *scratch* (a
    new one by default); returns (completed, scratch). Files named in *args* as
    "{scratch}/..." land there. (3.6 has no -k.)"""
    scratch = scratch or support.scratch_dir(test)
    tmpdir = os.path.join(scratch, "tmp")
    if not os.path.isdir(tmpdir):
        os.mkdir(tmpdir)
    child_env = {"TMPDIR": tmpdir}
    child_env.update(env or {})
    completed = support.run_python(
        ["-m", "tempguard.runner"]
        + ["example_ci.Leaky." + name if name.startswith("test_") else name for name in tests]
        + [arg.replace("{scratch}", scratch) for arg in args],
        cwd=SUITE, env=child_env)
    return completed, scratch


def entries_of(path):
    with open(path) as handle:
        return [line.split("\t") for line in handle.read().splitlines()
                if line and not line.startswith("#")]


def leaked_names(report):
    return {os.path.basename(leak["path"]) for entry in report["tests"] for leak in entry["leaks"]}


class BaselineTest(unittest.TestCase):

    def setUp(self):
        self.completed, self.scratch = run_ci(
            self, "--baseline", "{scratch}/baseline.txt", "--update-baseline",
            "--report", "{scratch}/recorded.json")
        self.path = os.path.join(self.scratch, "baseline.txt")
        self.recorded = support.load_json(os.path.join(self.scratch, "recorded.json"))

    def rerun(self, *args, env=None, tests=("example_ci",)):
        completed, _ = run_ci(self, "--baseline", "{scratch}/baseline.txt", "--leaks", "fail",
                              "--report", "{scratch}/report.json", *args, env=env,
                              scratch=self.scratch, tests=tests)
        return completed, support.load_json(os.path.join(self.scratch, "report.json"))

    def test_a_recorded_baseline_makes_the_same_suite_pass_under_leaks_fail(self):
        self.assertEqual(self.completed.returncode, 0, self.completed.stderr)
        self.assertIn("baseline %s written: 2 entries (2 added, 0 removed)" % self.path,
                      self.completed.stderr)
        entries = entries_of(self.path)
        self.assertEqual([(test, kind) for test, kind, _where, _name in entries],
                         [("example_ci.Leaky.test_fixed_later", "file"),
                          ("example_ci.Leaky.test_leaks", "file")])
        # Reviewable: no random part of a name, and the line of the project's code.
        self.assertEqual([name for *_rest, name in entries], ["tmp*.log", "tmp*.txt"])
        # Recorded, not yet known: the first --update-baseline run says so.
        self.assertRegex(self.completed.stderr, r"recorded in .*baseline.txt by "
                                                r"--update-baseline: reported, never a failure")
        self.assertNotIn("known leaks", self.completed.stderr)
        if origins.AVAILABLE:
            self.assertEqual(entries[1][2], "example_ci.py:%d in leak" % LEAK_LINE)
        completed, report = self.rerun()
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("\nOK\n", completed.stderr)
        # Known leaks: one line, unless asked for in full.
        self.assertRegex(completed.stderr, r"known leaks, in .*baseline.txt: reported, never a "
                                           r"failure\n2 leaks, made by 2 tests or fixtures; "
                                           r"--all-leaks \(TEMPGUARD_ALL_LEAKS=1\) lists them\n\n")
        completed, _ = self.rerun("--all-leaks")
        self.assertRegex(completed.stderr, r"known leaks, in .*baseline.txt: reported, never a "
                                           r"failure\nexample_ci.Leaky.test_fixed_later\n")
        completed, report = self.rerun()
        self.assertEqual((report["totals"]["leaked"], report["totals"]["known"]), (2, 2))
        self.assertTrue(all(leak["known"] for entry in report["tests"] for leak in entry["leaks"]))

    def test_random_names_still_match(self):
        _, report = self.rerun()
        self.assertEqual(len(leaked_names(report)), 2)
        self.assertFalse(leaked_names(report) & leaked_names(self.recorded),
                         "tempfile gave the same names twice: nothing was proven")
        self.assertEqual(report["totals"]["known"], 2)

    def test_a_new_leaking_test_fails_alone(self):
        completed, report = self.rerun(env={"EXAMPLE_NEW": "1"})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        failed = re.findall(r"(?m)^FAIL: (\S+)", completed.stderr)
        self.assertEqual(failed, ["test_new_leak"], completed.stderr)
        self.assertEqual((report["totals"]["leaked"], report["totals"]["known"]), (3, 2))
        outcomes = {entry["id"].rsplit(".", 1)[1]: entry["outcome"] for entry in report["tests"]}
        self.assertEqual(outcomes["test_new_leak"], "failed")
        self.assertEqual(outcomes["test_leaks"], "passed")

    def test_a_fixed_leak_is_reported_as_fixed(self):
        completed, report = self.rerun(env={"EXAMPLE_FIXED": "1"})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertRegex(completed.stderr, r"no longer leaked: fixed; remove them with "
                                           r"--update-baseline\nexample_ci.Leaky.test_fixed_later"
                                           r"\n  file tmp\*\.log")
        self.assertEqual([entry["test"] for entry in report["baseline"]["fixed"]],
                         ["example_ci.Leaky.test_fixed_later"])
        # Rewritten, the baseline shrinks by that entry.
        completed, _ = run_ci(self, "--baseline", "{scratch}/baseline.txt", "--update-baseline",
                              env={"EXAMPLE_FIXED": "1"}, scratch=self.scratch)
        self.assertIn("1 entry (0 added, 1 removed)", completed.stderr)
        self.assertEqual([entry[0] for entry in entries_of(self.path)],
                         ["example_ci.Leaky.test_leaks"])

    def test_a_shard_rewrites_only_its_own_tests_entries(self):
        completed, _ = run_ci(self, "--baseline", "{scratch}/baseline.txt", "--update-baseline",
                              tests=("test_clean", "test_new_leak"),
                              env={"EXAMPLE_NEW": "1"}, scratch=self.scratch)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual([entry[0] for entry in entries_of(self.path)],
                         ["example_ci.Leaky.test_fixed_later", "example_ci.Leaky.test_leaks",
                          "example_ci.Leaky.test_new_leak"])
        # Nor is an entry of a test that did not run reported fixed.
        completed, report = self.rerun(tests=("test_leaks",))
        self.assertEqual(report["baseline"]["fixed"], [])
        self.assertNotIn("fixed;", completed.stderr)

    def test_lines_that_moved_in_their_function_still_match(self):
        if not origins.AVAILABLE:
            self.skipTest("without audit hooks entries match by name, which is tested above")
        moved = [[test, kind, where.replace(":%d " % LEAK_LINE, ":%d " % (LEAK_LINE + 7)), name]
                 for test, kind, where, name in entries_of(self.path)]
        with open(self.path, "w") as handle:
            handle.write("".join("\t".join(entry) + "\n" for entry in moved))
        completed, report = self.rerun()
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(report["totals"]["known"], 2)

    def test_a_baseline_with_lines_serves_a_run_that_cannot_tell_them(self):
        """A matrix's 3.6 job (no audit hooks) matches a baseline recorded on 3.13 by name."""
        completed, report = self.rerun("--origins", "off")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(report["totals"]["known"], 2)

    def test_bad_baselines_are_usage_errors(self):
        with open(os.path.join(self.scratch, "bad.txt"), "w") as handle:
            handle.write("# a comment\nexample_ci.Leaky.test_leaks\tfile\tonly three\n")
        before = sorted(os.listdir(os.path.join(self.scratch, "tmp")))
        for args, message in (
                (["--baseline", "{scratch}/bad.txt"], "bad.txt, line 2: not an entry"),
                (["--baseline", "{scratch}/missing.txt"], "missing.txt: no such file"),
                (["--update-baseline"], "update_baseline needs a baseline file"),
                (["--baseline", "{scratch}/nodir/b.txt", "--update-baseline"], "no directory")):
            with self.subTest(args=args):
                completed, _ = run_ci(self, *args, scratch=self.scratch)
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn(message, completed.stderr)
                self.assertNotIn("Ran ", completed.stderr)
                self.assertEqual(sorted(os.listdir(os.path.join(self.scratch, "tmp"))), before)


class MatchingTest(unittest.TestCase):

    def test_two_entries_of_one_line_are_both_known_while_both_leak(self):
        """cookiecutter: one helper line makes a .py and a .sh; the second entry was always
        reported fixed, since both leaks matched the first."""
        from tempguard.records import Leak, TestRecord
        root = support.scratch_dir(self)
        entries = [baseline.Entry("t.T.test", "file", "x.py:3 in make", pattern)
                   for pattern in ("tmp*.py", "tmp*.sh")]
        known = baseline.Baseline(os.path.join(root, "b.txt"), entries)
        origin = {"file": os.path.join(root, "x.py"), "line": 3, "function": "make",
                  "stack": []}
        record = TestRecord("t.T.test")
        for suffix in ".py", ".sh":
            fd, path = tempfile.mkstemp(suffix=suffix)
            os.close(fd)
            self.addCleanup(os.unlink, path)
            made_by = dict(origin, tempfile_affixes=["tmp", suffix])  # as origins records it
            record.leaks.append(Leak(path, "file", "sandbox", "test", "t.T.test", made_by))
        self.assertEqual([known.match(known.entry_of("t.T.test", leak))
                          for leak in record.leaks], entries)
        self.assertEqual(known.fixed([record], []), [])
        record.leaks.pop()
        self.assertEqual(known.fixed([record], []), entries[1:])


    def test_a_baseline_kept_outside_the_project_says_where_relative_to_the_project(self):
        """A baseline outside the project recorded where a leak was made as a bare file
        name (__init__.py:32): every package's __init__.py looked the same."""
        from tempguard.records import Leak
        known = baseline.Baseline(os.path.join(support.scratch_dir(self), "b.txt"))
        origin = {"file": os.path.join(os.getcwd(), "pkg", "sub", "__init__.py"), "line": 32,
                  "function": "helper", "stack": []}
        leak = Leak("/tmp/tmpab12cd34", "file", "sandbox", "test", "t.T.test", origin, False)
        self.assertEqual(known.entry_of("t.T.test", leak).where,
                         "pkg/sub/__init__.py:32 in helper")


class MixinBaselineTest(unittest.TestCase):

    def test_the_mixin_under_plain_unittest_records_and_honours_a_baseline(self):
        scratch = support.scratch_dir(self)
        path = os.path.join(scratch, "baseline.txt")
        tmpdir = os.path.join(scratch, "tmp")
        os.mkdir(tmpdir)

        def run(**env):
            return support.run_python(["-m", "unittest", "example_ci_mixin"], cwd=SUITE,
                                      env=dict(env, TMPDIR=tmpdir, TEMPGUARD_BASELINE=path))
        recorded = run(TEMPGUARD_UPDATE_BASELINE="1")
        self.assertEqual(recorded.returncode, 0, recorded.stderr)
        self.assertIn("baseline %s written: 1 entry (1 added, 0 removed)" % path, recorded.stderr)
        self.assertEqual([entry[0] for entry in entries_of(path)],
                         ["example_ci_mixin.MixinLeaky.test_leaks"])
        known = run(TEMPGUARD_LEAKS="fail")
        self.assertEqual(known.returncode, 0, known.stderr)
        self.assertEqual(os.listdir(tmpdir), [])


class NamePatternTest(unittest.TestCase):

    def test_names_from_one_call_share_a_pattern(self):
        directory = support.scratch_dir(self)
        for kwargs, expected in (({"suffix": ".txt"}, "tmp*.txt"),
                                 ({"prefix": "build-"}, "build-*"),
                                 ({"prefix": "job_", "suffix": ".tar.gz"}, "job_*.tar.gz"),
                                 ({"prefix": "x"}, "x*")):
            patterns = set()
            for _ in range(40):
                fd, path = tempfile.mkstemp(dir=directory, **kwargs)
                os.close(fd)
                patterns.add(baseline.name_pattern(os.path.basename(path)))
            with self.subTest(kwargs=kwargs):
                self.assertEqual(patterns, {expected})

    def test_only_tempfile_s_random_part_is_abstracted_never_a_word_of_the_caller(self):
        """classfix-3hkuhpin became *-*, tmpXXXXXXXX.evidence tmp*.*, a .mixinleak tmp*.m*:
        eight-letter words look like tempfile's random part."""
        directory = support.scratch_dir(self)
        for kwargs, expected in (({"prefix": "classfix-"}, "classfix-*"),
                                 ({"suffix": ".evidence"}, "tmp*.evidence"),
                                 ({"suffix": ".mixinleak"}, "tmp*.mixinleak"),
                                 ({"prefix": "settings", "suffix": ".overflow"},
                                  "settings*.overflow")):
            for maker in (tempfile.mkstemp, tempfile.mkdtemp, tempfile.NamedTemporaryFile):
                with self.subTest(kwargs=kwargs, maker=maker.__name__):
                    if maker is tempfile.NamedTemporaryFile:
                        with maker(dir=directory, delete=False, **kwargs) as handle:
                            path = handle.name
                    else:
                        path = maker(dir=directory, **kwargs)
                    if maker is tempfile.mkstemp:
                        os.close(path[0])
                        path = path[1]
                    name = os.path.basename(path)
                    # as origins records tempfile's call, and as found without it
                    origin = {"file": "x.py", "line": 1, "function": "f",
                              "tempfile_affixes": [kwargs.get("prefix", "tmp"),
                                                   kwargs.get("suffix", "")]}
                    self.assertEqual(baseline.name_pattern(name, origin), expected)
                    if "settings" not in expected:  # a caller's run of 8 is ambiguous by position
                        self.assertEqual(baseline.name_pattern(name), expected)
        for name in ("settings.json", "evidence", "database.sqlite", "classfix-notes.txt"):
            with self.subTest(name=name):  # made by the project's own code: nothing random
                self.assertEqual(baseline.name_pattern(
                    name, {"file": "x.py", "line": 1, "function": "f"}), name)

    def test_digits_and_uuids_are_random_parts(self):
        self.assertEqual(baseline.name_pattern("run-12345.log"), "run-*.log")
        self.assertEqual(baseline.name_pattern("job-1b4e28ba-2fa1-11d2-883f-0016d3cca427.json"),
                         "job-*.json")
        self.assertEqual(baseline.name_pattern("report.txt"), "report.txt")


class FailedByLeaksTest(unittest.TestCase):

    def test_a_test_failed_by_its_leaks_keeps_them_like_any_failed_test(self):
        """--keep failed (the default) kept nothing of a test that failed only because it
        leaked, and its failure pointed at files removed at the end of the run."""
        completed, scratch = run_ci(self, "--leaks", "fail", "--report", "{scratch}/r.json",
                                    tests=("test_leaks", "test_clean"))
        self.assertEqual(completed.returncode, 1, completed.stderr)
        kept = {entry["id"]: entry["kept"]
                for entry in support.load_json(os.path.join(scratch, "r.json"))["tests"]}
        self.assertIsNone(kept["example_ci.Leaky.test_clean"])
        copy = kept["example_ci.Leaky.test_leaks"]
        self.assertIsNotNone(copy, completed.stderr)
        self.assertEqual([name[-4:] for name in os.listdir(copy)], [".txt"])
        # After the failure's message (its leak lines), where the copy is.
        self.assertRegex(completed.stderr, r"behind[^\n]*:\n(?:  [^\n]*\n)+\ntempguard kept "
                                           r"this test's temporary files in: %s\n"
                                           % re.escape(copy))


    def test_under_pytest_too(self):
        support.require("pytest")
        scratch = support.scratch_dir(self)
        completed = support.run_python(
            support.PYTEST + ["-p", "tempguard.pytest_plugin", "--tempguard",
                              "--tempguard-leaks", "fail", "test_pytest_suite.py", "-k",
                              "test_plain_leaks"],
            cwd=os.path.join(support.EXAMPLES, "pytest"), env={"TMPDIR": scratch})
        self.assertEqual(completed.returncode, 1, completed.stdout)
        copy = re.search(r"(?m)^tempguard kept this test's temporary files in: (.+)$",
                         completed.stdout)
        self.assertIsNotNone(copy, completed.stdout)
        self.assertEqual(len(os.listdir(copy.group(1))), 1)


class ExitStatusTest(unittest.TestCase):

    def test_leaks_exit_code_is_for_passed_but_leaked(self):
        completed, _ = run_ci(self, "--leaks-exit-code", "3")
        self.assertEqual(completed.returncode, 3, completed.stderr)
        self.assertIn("\nOK\n", completed.stderr)
        completed, _ = run_ci(self, "--leaks-exit-code", "3", env={"EXAMPLE_FAIL": "1"})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        completed, _ = run_ci(self, "--leaks-exit-code", "3", tests=("test_clean",))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        # Known leaks are no news: the status is 0 again.
        scratch = support.scratch_dir(self)
        run_ci(self, "--baseline", "{scratch}/b.txt", "--update-baseline", scratch=scratch)
        completed, _ = run_ci(self, "--baseline", "{scratch}/b.txt", "--leaks-exit-code", "3",
                              scratch=scratch)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        # TEMPGUARD_LEAKS_EXIT_CODE does the same.
        completed, _ = run_ci(self, env={"TEMPGUARD_LEAKS_EXIT_CODE": "7"})
        self.assertEqual(completed.returncode, 7, completed.stderr)
        # Ignored leaks change no status.
        completed, _ = run_ci(self, "--leaks-exit-code", "3", "--leaks", "ignore")
        self.assertEqual(completed.returncode, 0, completed.stderr)

    def test_bad_exit_codes_are_usage_errors(self):
        for value in ("0", "256", "three", "-1", "2", "\u0663", "+3", " 3", "1_0"):
            with self.subTest(value=value):
                completed, _ = run_ci(self, "--leaks-exit-code", value)
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn("--leaks-exit-code", completed.stderr)
        completed, _ = run_ci(self, env={"TEMPGUARD_LEAKS_EXIT_CODE": "0"})
        self.assertEqual(completed.returncode, 2, completed.stderr)
        self.assertIn("TEMPGUARD_LEAKS_EXIT_CODE must be an exit status", completed.stderr)


class AnnotationsTest(unittest.TestCase):

    def annotations(self, completed):
        return [line for line in completed.stdout.splitlines() if line.startswith("::")]

    def test_one_workflow_command_per_leak_group_at_its_line(self):
        completed, _ = run_ci(self, env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": SUITE})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        lines = self.annotations(completed)
        self.assertEqual(len(lines), 2, completed.stdout)
        place = ("file=example_ci.py,line=%d," % LEAK_LINE) if origins.AVAILABLE else ""
        self.assertRegex(lines[0], r"^::warning %stitle=tempguard%%3A 1 leaked temporary entry"
                                   r"::example_ci.Leaky.test_fixed_later left \S+/tmp\w+\.log$"
                         % re.escape(place))
        self.assertNotIn("::", completed.stderr)  # stdout alone: the runner reads it there

    def test_a_leak_that_fails_its_test_is_an_error_and_known_leaks_none(self):
        scratch = support.scratch_dir(self)
        run_ci(self, "--baseline", "{scratch}/b.txt", "--update-baseline", scratch=scratch)
        completed, _ = run_ci(self, "--annotations", "github", "--leaks", "fail", "--baseline",
                              "{scratch}/b.txt", env={"EXAMPLE_NEW": "1"}, scratch=scratch)
        lines = self.annotations(completed)
        self.assertEqual(len(lines), 1, completed.stdout)
        self.assertTrue(lines[0].startswith("::error "), lines)
        self.assertIn("::example_ci.Leaky.test_new_leak left ", lines[0])

    def test_past_ten_groups_the_tenth_says_how_many_more(self):
        completed, _ = run_ci(self, "--annotations", "github", env={"EXAMPLE_MANY": "1"},
                              tests=("example_ci.Many",))
        lines = self.annotations(completed)
        self.assertEqual(len(lines), 10, completed.stdout)  # GitHub shows no more of a step
        self.assertEqual([re.search(r"::example_ci\.Many\.(test_\d+) left ", line).group(1)
                          for line in lines[:9]], ["test_%02d" % n for n in range(9)])
        self.assertEqual(lines[9], "::warning title=tempguard%3A 3 more leak groups::GitHub"
                         " shows 10 annotations of a kind from a step; 3 more groups (a test"
                         " and a line) left 3 entries, listed in tempguard's section of the"
                         " log and in its JSON report")
        for number in (9, 10, 11):  # the section names the groups the annotations do not
            self.assertIn("example_ci.Many.test_%02d" % number, completed.stderr)

    def test_an_annotation_after_an_unterminated_line_starts_its_own(self):
        completed, _ = run_ci(self, "--annotations", "github", env={"EXAMPLE_PROGRESS": "1"},
                              tests=("example_ci.Unterminated",))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("progress 100%", completed.stdout)
        lines = self.annotations(completed)
        self.assertEqual(len(lines), 1, completed.stdout)
        self.assertIn("test_progress_without_a_newline_then_leak left ", lines[0])

    def test_the_step_summary_stays_within_github_s_limit(self):
        scratch = support.scratch_dir(self)
        summary = os.path.join(scratch, "summary.md")
        open(summary, "w").close()
        completed, _ = run_ci(self, env={"GITHUB_ACTIONS": "true", "EXAMPLE_LONG": "1",
                                         "GITHUB_STEP_SUMMARY": summary},
                              scratch=scratch, tests=("example_ci.LongIds",))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        with open(summary, encoding="utf-8") as handle:
            text = handle.read()
        self.assertLessEqual(len(text.encode("utf-8")), 512 * 1024 + 4096)
        rows = [line for line in text.splitlines() if line.startswith("| example")]
        self.assertGreater(len(rows), 0)
        self.assertIn("and %d more groups, listed in tempguard's section" % (12 - len(rows)),
                      text)

    def test_the_step_summary_lists_every_group_at_a_link_to_its_line(self):
        scratch = support.scratch_dir(self)
        summary = os.path.join(scratch, "summary.md")
        with open(summary, "w") as handle:
            handle.write("an earlier step's summary\n")
        github = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": SUITE, "EXAMPLE_MANY": "1",
                  "GITHUB_STEP_SUMMARY": summary, "GITHUB_SERVER_URL": "https://github.com",
                  "GITHUB_REPOSITORY": "owner/repo", "GITHUB_SHA": "0123abc"}
        completed, _ = run_ci(self, env=github, scratch=scratch, tests=("example_ci.Many",))
        self.assertEqual(completed.returncode, 0, completed.stderr)
        with open(summary) as handle:
            text = handle.read()
        self.assertTrue(text.startswith("an earlier step's summary\n### tempguard: 12 new "
                                        "leaked temporary entries\n"), text)
        rows = [line for line in text.splitlines() if line.startswith("| example")]
        self.assertEqual(len(rows), 12, text)  # all of them, where annotations show 10
        place = (r"\[example\\_ci\\\.py\\:%d\]\(https://github\.com/owner/repo/blob/0123abc/"
                 r"example_ci\.py#L%d\)" % (LEAK_LINE, LEAK_LINE)) if origins.AVAILABLE else "-"
        for number, row in enumerate(rows):
            self.assertRegex(row, r"^\| example\\_ci\\\.Many\\\.test\\_%02d \| %s \| \S+"
                                  r"\\\.many \|$" % (number, place))

    def test_the_step_summary_counts_known_leaks_and_fixed_entries(self):
        scratch = support.scratch_dir(self)
        summary = os.path.join(scratch, "summary.md")
        run_ci(self, "--baseline", "{scratch}/b.txt", "--update-baseline", scratch=scratch)
        open(summary, "w").close()
        run_ci(self, "--baseline", "{scratch}/b.txt", scratch=scratch, env={
            "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "EXAMPLE_FIXED": "1",
            "EXAMPLE_NEW": "1"})
        with open(summary) as handle:
            text = handle.read()
        self.assertRegex(text, r"^### tempguard: 1 new leaked temporary entry\n\n"
                               r"\| test \| made at \| leaked \|\n\| --- \| --- \| --- \|\n"
                               r"\| example\\_ci\\\.Leaky\\\.test\\_new\\_leak \| .+ \|\n\n"
                               r"1 known leak \(listed in the baseline\): not failures\n\n"
                               r"1 baseline entry no longer leaked: fixed; remove them with"
                               r" --update-baseline\n\n$")

    @support.needs("fifos")
    def test_a_step_summary_that_is_not_github_s_file_is_not_written(self):
        scratch = support.scratch_dir(self)
        target = os.path.join(scratch, "elsewhere.md")
        with open(target, "w") as handle:
            handle.write("not ours\n")
        os.symlink(target, os.path.join(scratch, "link.md"))
        os.mkfifo(os.path.join(scratch, "fifo.md"))
        os.mkfifo(os.path.join(scratch, "read-fifo.md"))
        # A FIFO somebody reads opens at once: it is refused as what it is, and gets nothing.
        reader = os.open(os.path.join(scratch, "read-fifo.md"), os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, reader)
        for name, reason in (("link.md", "Too many levels of symbolic links"),
                             ("fifo.md", "No such device or address"),
                             ("read-fifo.md", "not a regular file"),
                             ("missing.md", "No such file or directory")):
            with self.subTest(name=name):
                path = os.path.join(scratch, name)
                completed, _ = run_ci(self, env={"GITHUB_ACTIONS": "true",
                                                 "GITHUB_STEP_SUMMARY": path}, scratch=scratch)
                self.assertEqual(completed.returncode, 0, completed.stderr)
                self.assertIn("tempguard: could not write the step summary %s: %s\n"
                              % (path, reason), completed.stderr)
        self.assertFalse(os.path.exists(os.path.join(scratch, "missing.md")))
        with open(target) as handle:
            self.assertEqual(handle.read(), "not ours\n")
        self.assertEqual(os.read(reader, 100), b"")  # the writer has gone: nothing was sent

    def test_off_unless_asked_or_on_github(self):
        completed, _ = run_ci(self)
        self.assertEqual(self.annotations(completed), [])
        completed, _ = run_ci(self, "--annotations", "none", env={"GITHUB_ACTIONS": "true"})
        self.assertEqual(self.annotations(completed), [])
        completed, _ = run_ci(self, "--annotations", "gitlab")
        self.assertEqual(completed.returncode, 2, completed.stderr)


class KeepDirTest(unittest.TestCase):

    def test_a_sparse_file_counts_at_the_bytes_it_takes_on_disk(self):
        """--keep-max-bytes: a sparse 10 GiB file was counted at 10 GiB, and kept nothing."""
        where = support.scratch_dir(self)
        with open(os.path.join(where, "sparse"), "wb") as handle:
            handle.truncate(10 << 30)
            handle.seek(5 << 30)
            handle.write(b"data")
        with open(os.path.join(where, "dense"), "wb") as handle:
            handle.write(b"x" * 100000)
        self.assertLess(copying.tree_bytes(os.path.join(where, "sparse")), 1 << 20)
        self.assertGreaterEqual(copying.tree_bytes(where), 100000)
        self.assertLess(copying.tree_bytes(where), 100000 + (1 << 20))

    def test_the_failing_test_s_files_and_a_manifest_that_names_it(self):
        completed, scratch = run_ci(self, "--keep-dir", "{scratch}/artifacts",
                                    env={"EXAMPLE_FAIL": "1"})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        artifacts = os.path.join(scratch, "artifacts")
        manifest = support.load_json(os.path.join(artifacts, "manifest.json"))
        self.assertEqual(len(manifest["kept"]), 1, manifest)
        kept = manifest["kept"][0]
        self.assertEqual((kept["test"], kept["outcome"], kept["bytes"]),
                         ("example_ci.Leaky.test_fails", "failed", 4))
        self.assertEqual(kept["failure"], "AssertionError: 'expected' != 'actual'")
        self.assertEqual(len(kept["paths"]), 1)
        with open(os.path.join(artifacts, kept["paths"][0]), "rb") as handle:
            self.assertEqual(handle.read(), b"kept")
        self.assertIn("kept this test's temporary files in: %s/%s"
                      % (artifacts, kept["dir"]), completed.stderr)
        # The next run starts it afresh: the last run's files are gone, its own are there.
        completed, _ = run_ci(self, "--keep-dir", "{scratch}/artifacts", "--keep", "all",
                              tests=("test_leaks",), scratch=scratch)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        manifest = support.load_json(os.path.join(artifacts, "manifest.json"))
        self.assertEqual([entry["test"] for entry in manifest["kept"]],
                         ["example_ci.Leaky.test_leaks"])
        self.assertEqual(sorted(os.listdir(artifacts)),
                         [keep.MARKER, "example_ci.Leaky.test_leaks", "manifest.json"])

    def test_past_the_budget_nothing_is_kept_and_the_manifest_says_why(self):
        completed, scratch = run_ci(self, "--keep-dir", "{scratch}/artifacts",
                                    "--keep-max-bytes", "3", env={"EXAMPLE_FAIL": "1"})
        manifest = support.load_json(os.path.join(scratch, "artifacts", "manifest.json"))
        self.assertEqual(manifest["kept"], [])
        self.assertEqual(manifest["not_kept"][0]["test"], "example_ci.Leaky.test_fails")
        self.assertIn("not kept: past --keep-max-bytes 3", manifest["not_kept"][0]["not_kept"][0])

    def test_a_dir_that_is_not_tempguard_s_is_refused_and_left_as_it_was(self):
        scratch = support.scratch_dir(self)
        mine = support.build_sentinel(os.path.join(scratch, "mine"))
        before = support.snapshot(mine)
        os.symlink(mine, os.path.join(scratch, "link"))
        for name, message in (("mine", "not empty, and not tempguard's"), ("link", "a link")):
            with self.subTest(name):
                completed, _ = run_ci(self, "--keep-dir", "{scratch}/" + name,
                                      env={"EXAMPLE_FAIL": "1"}, scratch=scratch)
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn(message, completed.stderr)
                self.assertEqual(support.snapshot(mine), before)
        for value in ("lots", "-5", "3X"):
            with self.subTest(value=value):
                completed, _ = run_ci(self, "--keep-max-bytes", value, scratch=scratch)
                self.assertEqual(completed.returncode, 2, completed.stderr)

    def test_links_planted_at_what_it_writes_are_never_written_through(self):
        scratch = support.scratch_dir(self)
        sentinel = support.make_sentinel(self)
        target = os.path.join(sentinel, "keep.txt")
        artifacts = os.path.join(scratch, "artifacts")
        os.mkdir(artifacts)
        open(os.path.join(artifacts, keep.MARKER), "w").close()  # an ended run's
        os.symlink(target, os.path.join(artifacts, "manifest.json"))
        completed, _ = run_ci(self, "--keep-dir", "{scratch}/artifacts",
                              env={"EXAMPLE_FAIL": "1"}, scratch=scratch)
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertFalse(os.path.islink(os.path.join(artifacts, "manifest.json")))
        self.assertEqual(len(support.load_json(os.path.join(artifacts, "manifest.json"))["kept"]),
                         1)
        # A baseline that is a link is refused, read or rewritten.
        os.symlink(target, os.path.join(scratch, "baseline.txt"))
        for update in ([], ["--update-baseline"]):
            completed, _ = run_ci(self, "--baseline", "{scratch}/baseline.txt", *update,
                                  scratch=scratch)
            self.assertEqual(completed.returncode, 2, completed.stderr)
            self.assertIn("baseline.txt: a link; give the file it leads to", completed.stderr)
        # The sentinel's own check (make_sentinel) proves its file was never written.

    def test_a_keep_dir_a_test_swapped_for_a_link_is_not_written_through(self):
        scratch = support.scratch_dir(self)
        elsewhere = support.make_sentinel(self)
        artifacts = os.path.join(scratch, "artifacts")
        completed, _ = run_ci(self, "--keep-dir", artifacts, scratch=scratch,
                              tests=("example_ci_swap",),
                              env={"EXAMPLE_KEEP_DIR": artifacts, "EXAMPLE_ELSEWHERE": elsewhere})
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertIn("could not write the manifest in %s" % artifacts, completed.stderr)
        self.assertIn("not kept: %s, where they are kept, was replaced" % artifacts,
                      completed.stderr)
        self.assertEqual(os.listdir(artifacts + ".moved"), [keep.MARKER])
        # make_sentinel checks at cleanup that nothing changed where the link leads.

    @support.needs("flock")
    def test_a_dir_a_parallel_worker_is_taking_is_checked_once_it_is_taken(self):
        """unittest-parallel's workers each check --keep-dir as they start: one saw the
        first's marker still being written (its partial file, no marker yet) and refused
        the dir as a stranger's (CI, 3.12, 2026-12-08)."""
        path = os.path.join(support.scratch_dir(self), "artifacts")
        os.mkdir(path)
        with held.locked_directory(path):
            partial = os.path.join(path, keep.MARKER + ".0123456789ab.partial")
            open(partial, "w").close()
            checker = subprocess.Popen(
                [sys.executable, "-c", "import sys; from tempguard import keep; "
                                       "print(keep.checked(sys.argv[1]))", path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                env=dict(os.environ, PYTHONPATH=support.PROJECT))
            self.addCleanup(checker.kill)
            with self.assertRaises(subprocess.TimeoutExpired):
                checker.wait(timeout=1)  # waits for the taker's lock
            os.replace(partial, os.path.join(path, keep.MARKER))
        out, err = checker.communicate(timeout=60)
        self.assertEqual((checker.returncode, out.strip()), (0, path), err)

    def test_another_live_run_s_dir_is_refused_and_an_ended_one_s_emptied(self):
        scratch = support.scratch_dir(self)
        path = os.path.join(scratch, "artifacts")
        with _live_owner(path) as other:
            open(os.path.join(path, "old-kept-file"), "w").close()
            with self.assertRaisesRegex(OSError, "used by a live run \\(pid %d\\)" % other.pid):
                keep.KeepDir.open(path)
            self.assertIn("old-kept-file", os.listdir(path))
        taken = keep.KeepDir.open(path)
        taken.close()
        self.assertEqual(os.listdir(path), [keep.MARKER])


    def test_an_in_process_runner_refuses_a_live_run_s_keep_dir_as_a_usage_error(self):
        scratch = support.scratch_dir(self)
        path = os.path.join(scratch, "artifacts")
        tmpdir = os.path.join(scratch, "tmp")
        os.mkdir(tmpdir)
        with _live_owner(path) as other:
            completed = support.run_python(
                [os.path.join(support.EXAMPLES, "integrations", "example_main.py")],
                cwd=os.path.join(support.EXAMPLES, "integrations"),
                env={"TMPDIR": tmpdir, "TEMPGUARD_KEEP_DIR": path})
        self.assertEqual(completed.returncode, 2, completed.stderr)
        self.assertIn("tempguard: error: keep_dir %s: used by a live run (pid %d)"
                      % (path, other.pid), completed.stderr)
        self.assertNotIn("Traceback", completed.stderr)
        self.assertNotIn("Ran ", completed.stderr)
        self.assertEqual(os.listdir(path), [keep.MARKER])
        self.assertEqual(os.listdir(tmpdir), [])


class UnprivilegedKeepDirTest(unittest.TestCase):

    def test_a_keep_dir_it_may_not_make_is_refused_and_one_it_may_is_its_own(self):
        work, prefix, env = support.child_workspace(self, unprivileged=True, files={
            "example_fails.py": """
                import os, tempfile, unittest

                class Fails(unittest.TestCase):
                    def test_fails(self):
                        fd, _ = tempfile.mkstemp()
                        os.close(fd)
                        self.fail("on purpose")
                """})
        locked = os.path.join(work, "locked")
        os.mkdir(locked, 0o755)  # the test's user's, not the child's (when we are root)
        if os.geteuid() != 0:
            os.chmod(locked, 0o555)
        for keep_dir, status in ((os.path.join(locked, "kept"), 2),
                                 (os.path.join(work, "kept"), 1)):
            with self.subTest(keep_dir=keep_dir):
                completed = subprocess.run(
                    prefix + ["-m", "tempguard.runner", "example_fails", "--keep-dir", keep_dir],
                    cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    universal_newlines=True, timeout=300)
                self.assertEqual(completed.returncode, status, completed.stderr)
                if status == 2:
                    self.assertIn("is not writable", completed.stderr)
        self.assertEqual(os.listdir(locked), [])
        kept = os.path.join(work, "kept")
        self.assertEqual(os.stat(kept).st_uid, os.stat(work).st_uid)
        manifest = support.load_json(os.path.join(kept, "manifest.json"))
        self.assertEqual([entry["test"] for entry in manifest["kept"]],
                         ["example_fails.Fails.test_fails"])
        os.chmod(locked, 0o755)


@contextlib.contextmanager
def _live_owner(path):
    """*path*, a keep dir whose marker names a live process (yielded, as a Popen) on
    this host: another run's, still running."""
    with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                          stdin=subprocess.PIPE) as other:
        os.mkdir(path)
        with open(os.path.join(path, keep.MARKER), "w") as handle:
            json.dump({"pid": other.pid, "start": support.inuse.process_start(other.pid),
                       "host": os.uname().nodename, "invocation": None}, handle)
        try:
            yield other
        finally:
            other.stdin.close()


class ShardsTest(unittest.TestCase):

    def setUp(self):
        self.scratch = support.scratch_dir(self)
        self.shards = []
        for name, pattern in (("a.json", "test_leaks"), ("b.json", "test_fixed_later")):
            completed, _ = run_ci(self, "--report", "{scratch}/" + name, scratch=self.scratch,
                                  tests=(pattern, "test_clean"))
            self.assertEqual(completed.returncode, 0, completed.stderr)
            self.shards.append(os.path.join(self.scratch, name))

    def report(self, *args, cwd=None):
        return support.run_python(["-m", "tempguard.report"] + list(args),
                                  cwd=cwd or self.scratch)

    def test_a_merge_sums_totals_and_keeps_both_shards_tests(self):
        merged_path = os.path.join(self.scratch, "merged.json")
        completed = self.report("merge", "-o", merged_path, *self.shards)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        merged = support.load_json(merged_path)
        a, b = (support.load_json(path) for path in self.shards)
        for key in ("tests", "passed", "leaked", "leaked_files"):
            self.assertEqual(merged["totals"][key], a["totals"][key] + b["totals"][key], key)
        self.assertEqual(len(merged["tests"]), 4)
        self.assertEqual(merged["leaks"], "warn")
        self.assertEqual({entry["shard"] for entry in merged["tests"]}, set(self.shards))
        # test_clean ran in both: flagged, and kept twice, not dropped.
        self.assertEqual(merged["duplicates"], [{"id": "example_ci.Leaky.test_clean",
                                                 "shards": self.shards}])
        self.assertIn("warning: example_ci.Leaky.test_clean is in more than one report",
                      completed.stderr)

    def test_what_a_shard_shows_fixed_is_fixed_in_the_merge(self):
        run_ci(self, "--baseline", "{scratch}/b.txt", "--update-baseline", scratch=self.scratch)
        for name, test in (("fixed.json", "test_fixed_later"), ("other.json", "test_leaks")):
            run_ci(self, "--baseline", "{scratch}/b.txt", "--report", "{scratch}/" + name,
                   tests=(test,), env={"EXAMPLE_FIXED": "1"}, scratch=self.scratch)
        merged_path = os.path.join(self.scratch, "merged.json")
        self.report("merge", "-o", merged_path, "fixed.json", "other.json")
        merged = support.load_json(merged_path)
        self.assertEqual([entry["test"] for entry in merged["baseline"]["fixed"]],
                         ["example_ci.Leaky.test_fixed_later"])
        shown = self.report("show", merged_path, cwd=SUITE)
        self.assertIn("no longer leaked: fixed; remove them with --update-baseline\n"
                      "example_ci.Leaky.test_fixed_later\n", shown.stdout)

    def test_report_show_prints_what_the_run_printed(self):
        for leaks, listed in (("warn", True), ("fail", True), ("ignore", False)):
            with self.subTest(leaks=leaks):
                completed, _ = run_ci(self, "--report", "{scratch}/one.json", "--leaks", leaks,
                                      scratch=self.scratch)
                # From where the run ran, as a CI step does: origins are named relative to it.
                shown = self.report("show", os.path.join(self.scratch, "one.json"), cwd=SUITE)
                self.assertEqual(shown.returncode, 0, shown.stderr)
                section = completed.stderr[completed.stderr.index("\ntempguard: "):]
                self.assertEqual(shown.stdout, section)
                self.assertEqual("leaked temporary files" in shown.stdout, listed)

    def test_bad_input_is_a_usage_error_and_writes_nothing(self):
        with open(os.path.join(self.scratch, "not.json"), "w") as handle:
            handle.write("{")
        with open(os.path.join(self.scratch, "odd.json"), "w") as handle:
            json.dump({"version": 2, "tests": [{"id": "x"}], "fixtures": [], "totals": {}},
                      handle)
        out = os.path.join(self.scratch, "out.json")
        for args in (["merge", "-o", out, "not.json"], ["merge", "-o", out, "missing.json"],
                     ["merge", out], ["show", "not.json"], ["show", "odd.json"],
                     ["frobnicate"]):
            with self.subTest(args=args):
                completed = self.report(*args)
                self.assertEqual(completed.returncode, 2, completed.stderr)
                self.assertIn("usage:", completed.stderr)
                self.assertNotIn("Traceback", completed.stderr)
                self.assertEqual(completed.stdout, "")
                self.assertFalse(os.path.exists(out))
