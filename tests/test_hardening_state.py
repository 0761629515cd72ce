"""Hardening III: a test that breaks its own process (its fds, its environment, its
temp dir's links, its kept files) leaves unittest's outcome intact and harms nothing
that is not tempguard's.

Every run compares the runner with plain unittest on the same test, each with a
fresh TMPDIR, and checks that a sentinel tree of the user's keeps its bytes,
modes and mtimes. Cases where permissions matter run as root and as uid 65534.
"""

import os
import re
import textwrap
import unittest

from tests import support

BREAKS = os.path.join(support.EXAMPLES, "hardening", "example_breaks.py")

# Runs in a child (see support.run_child), before the case's own lines: run(name,
# args) runs one command in a fresh TMPDIR beside a sentinel tree, USER_DIR.
_PRELUDE = """
import subprocess, support
USER_DIR = support.build_sentinel(os.path.join(WORK, "user"))
BEFORE = support.snapshot(USER_DIR)

def run(name, args, tmp=None, env=None, timeout=120):
    tmp = tmp or os.path.join(WORK, "tmp-" + name)
    os.makedirs(tmp, 0o700, exist_ok=True)
    child_env = dict(os.environ, TMPDIR=tmp, USER_DIR=USER_DIR)
    child_env.update(env or {})
    try:
        done = subprocess.run([sys.executable] + args, cwd=WORK, env=child_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired:
        code, out, err = "timeout", "", ""
    after = support.snapshot(USER_DIR)
    after.pop("written-by-the-test", None)
    BEFORE["."], after["."] = None, None
    return {"code": code, "stdout": out, "stderr": err, "unittest": support.unittest_part(err),
            "tmp_left": sorted(os.listdir(os.path.realpath(tmp))),
            "user_unchanged": after == BEFORE}

def both(name, test, *options, **kwargs):
    return {"runner": run(name + "-runner", ["-m", "tempguard.runner", test] + list(options),
                          **kwargs),
            "unittest": run(name + "-unittest", ["-m", "unittest", test], **kwargs)}
"""


def run_cases(test, code, unprivileged=False):
    with open(BREAKS) as handle:
        return support.run_child(test, _PRELUDE + textwrap.dedent(code), unprivileged,
                                 files={"example_breaks.py": handle.read()})


class DescriptorTakeoverTest(unittest.TestCase):
    """A test that closes tempguard's fds and puts a directory of the user's at their
    numbers: tempguard used to list that directory as its sandbox and empty it."""

    def test_runner_never_acts_through_a_descriptor_a_test_took_over(self):
        seen = run_cases(self, """
        result = both("takeover", "example_breaks.TakesOverDescriptors", "--report",
                      os.path.join(WORK, "report.json"))
        result["report"] = support.load_json(os.path.join(WORK, "report.json"))
        print(json.dumps(result))
        """)
        runner, plain = seen["runner"], seen["unittest"]
        self.assertTrue(runner["user_unchanged"], runner["stderr"])
        self.assertEqual((runner["code"], runner["unittest"]), (plain["code"], plain["unittest"]))
        leaks = [leak["path"] for leak in seen["report"]["tests"][0]["leaks"]]
        self.assertEqual(len(leaks), 1, runner["stderr"])
        self.assertIn("leaked-after-takeover-", leaks[0])
        self.assertEqual(runner["tmp_left"], [])

    def test_mixin_never_acts_through_a_descriptor_a_test_took_over(self):
        seen = run_cases(self, """
        print(json.dumps(run("mixin", ["-m", "unittest",
                                       "example_breaks.MixinTakesOverDescriptors"])))
        """)
        self.assertTrue(seen["user_unchanged"], seen["stderr"])
        self.assertEqual(seen["code"], 0, seen["stderr"])
        self.assertIn("leaked-after-takeover-", seen["stderr"])
        self.assertEqual(seen["tmp_left"], [])


class PruningTest(unittest.TestCase):

    def test_a_reused_invocation_id_counts_runs_and_prunes_its_crash_orphans(self):
        seen = run_cases(self, """
        from tempguard import sandbox
        tmp = os.path.join(WORK, "shared")
        os.mkdir(tmp, 0o700)
        env = {"TEMPGUARD_INVOCATION": "ci-job-7"}
        # A crashed run of the same job: its root never finished, its owner is dead.
        subprocess.run([sys.executable, "-c", "import os; from tempguard import sandbox; "
                        "sandbox.RunRoot.create(%r, 'ci-job-7'); os._exit(0)" % tmp], check=True)
        crashed = [n for n in os.listdir(tmp) if sandbox.is_run_root_name(n)]
        result = {"codes": [run("fail-%d" % n, ["-m", "tempguard.runner", "--keep-runs", "1",
                                                "example_breaks.Fails"], tmp=tmp, env=env)["code"]
                            for n in range(5)]}
        result["crashed"] = crashed
        result["left"] = [n for n in os.listdir(tmp) if sandbox.is_run_root_name(n)]
        print(json.dumps(result))
        """)
        self.assertEqual(seen["codes"], [1] * 5)
        self.assertEqual(len(seen["crashed"]), 1)
        self.assertEqual(len(seen["left"]), 1, seen)
        self.assertNotIn(seen["crashed"][0], seen["left"])

    def test_a_live_run_whose_lock_a_test_dropped_is_never_pruned(self):
        support.needs_proc(self, "the monitor's cleaning (its in-use checks)")
        seen = run_cases(self, """
        wait = os.path.join(WORK, "wait")
        os.mkdir(wait)
        tmp = os.path.join(WORK, "tmp-live")
        os.mkdir(tmp, 0o700)
        env = dict(os.environ, TMPDIR=tmp, USER_DIR=USER_DIR, WAIT_DIR=wait)
        test = subprocess.Popen([sys.executable, "-m", "unittest",
                                 "example_breaks.MixinTakesOverAndWaits"], cwd=WORK, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
        support.wait_for(os.path.join(wait, "taken-over"))
        monitor = run("monitor", ["-m", "tempguard.monitor", "--clean-orphans", "--yes", tmp], tmp=tmp)
        runner = run("runner", ["-m", "tempguard.runner", "--keep-runs", "0",
                                "example_breaks.LinkedTempDir"], tmp=tmp)
        open(os.path.join(wait, "go"), "w").close()
        out, err = test.communicate(timeout=120)
        print(json.dumps({"code": test.returncode, "stderr": err, "monitor": monitor,
                          "runner": runner, "left": os.listdir(tmp)}))
        """)
        self.assertEqual(seen["code"], 0, seen["stderr"])
        self.assertIn("leaked-after-the-wait-", seen["stderr"])
        self.assertEqual(seen["monitor"]["code"], 0, seen["monitor"]["stderr"])
        self.assertNotIn("removed", seen["monitor"]["stdout"])
        self.assertEqual(seen["runner"]["code"], 0, seen["runner"]["stderr"])
        self.assertEqual(seen["left"], [])


# A report directory another user can write in, links planted at every name the
# report's partial file could have had (report.json.PID.partial), and at the report.
_PLANTED_REPORT = """
reports = os.path.join(WORK, "reports")
os.mkdir(reports)
os.chmod(reports, 0o1777)
victim = os.path.join(WORK, "victim.txt")
with open(victim, "w") as handle:
    handle.write("precious")
first = os.getpid()
for pid in range(first, first + 5000):
    os.symlink(victim, os.path.join(reports, "report.json.%d.partial" % pid))
os.symlink(victim, os.path.join(reports, "linked.json"))
result = {}
for name in ("report.json", "linked.json"):
    result[name] = run(name, ["-m", "tempguard.runner", "example_breaks.LinkedTempDir",
                              "--report", os.path.join(reports, name)])
    result[name]["is_link"] = os.path.islink(os.path.join(reports, name))
    result[name]["report"] = support.load_json(os.path.join(reports, name))
with open(victim) as handle:
    result["victim"] = handle.read()
result["partials"] = sorted(n for n in os.listdir(reports) if not os.path.islink(
    os.path.join(reports, n)) and n.endswith(".partial"))
print(json.dumps(result))
"""


class ReportTest(unittest.TestCase):

    def check_planted_links(self, unprivileged):
        seen = run_cases(self, _PLANTED_REPORT, unprivileged)
        self.assertEqual(seen["victim"], "precious")
        self.assertEqual(seen["partials"], [])
        for name in ("report.json", "linked.json"):
            self.assertEqual(seen[name]["code"], 0, seen[name]["stderr"])
            self.assertFalse(seen[name]["is_link"])
            self.assertEqual(seen[name]["report"]["totals"]["leaked"], 1)

    def test_planted_links_are_never_written_through_as_root(self):
        self.check_planted_links(unprivileged=False)

    def test_planted_links_are_never_written_through_as_unprivileged_user(self):
        self.check_planted_links(unprivileged=True)

    def check_bad_report_paths(self, unprivileged):
        seen = run_cases(self, """
        locked = os.path.join(WORK, "locked")
        os.mkdir(locked, 0o500)
        result = {}
        for name, path in (("unwritable", os.path.join(locked, "r.json")),
                           ("slash", os.path.join(WORK, "new") + "/"),
                           ("missing", os.path.join(WORK, "no", "r.json"))):
            result[name] = run(name, ["-m", "tempguard.runner", "example_breaks.LinkedTempDir",
                                      "--report", path])
            result[name]["created"] = sorted(os.listdir(WORK))
        print(json.dumps(result))
        """, unprivileged)
        cases = ["slash", "missing"] + (["unwritable"] if unprivileged else [])
        for name in cases:
            with self.subTest(name):
                run = seen[name]
                self.assertEqual(run["code"], 2, run["stderr"])
                self.assertIn("error: argument --report", run["stderr"])
                self.assertNotIn("Traceback", run["stderr"])
                self.assertEqual(run["tmp_left"], [])
                self.assertNotIn("new", run["created"])

    def test_bad_report_paths_are_usage_errors_as_root(self):
        self.check_bad_report_paths(unprivileged=False)

    def test_bad_report_paths_are_usage_errors_as_unprivileged_user(self):
        self.check_bad_report_paths(unprivileged=True)


class KeptFilesTest(unittest.TestCase):

    def check_special_files(self, unprivileged):
        seen = run_cases(self, """
        result = run("special", ["-m", "tempguard.runner", "--report",
                                 os.path.join(WORK, "r.json"),
                                 "example_breaks.LeavesSpecialFiles"], timeout=60)
        result["report"] = support.load_json(os.path.join(WORK, "r.json"))
        kept = result["report"]["tests"][0]["kept"]
        result["kept"] = sorted(os.path.relpath(os.path.join(d, n), kept)
                                for d, dirs, files in os.walk(kept) for n in dirs + files)
        print(json.dumps(result))
        """, unprivileged)
        self.assertEqual(seen["code"], 1, seen["stderr"])
        self.assertIn("FAILED (failures=1)", seen["stderr"])
        entry = seen["report"]["tests"][0]
        specials = sorted(["fifo", "socket"] + ([] if unprivileged else ["kmsg", "zero"]))
        self.assertEqual(sorted(os.path.basename(item.split(": ")[0])
                                for item in entry["not_kept"]), specials)
        self.assertEqual([name for name in seen["kept"] if "/" in name and
                          not name.endswith("evidence.txt")], [])
        self.assertIn("tempguard-not-kept.txt", seen["kept"])
        self.assertIn("never opened, not copied", seen["stderr"])

    def test_device_nodes_fifos_and_sockets_are_never_opened_as_root(self):
        self.check_special_files(unprivileged=False)

    def test_fifos_and_sockets_are_never_opened_as_unprivileged_user(self):
        self.check_special_files(unprivileged=True)

    def test_what_cannot_be_copied_is_moved_into_kept_as_unprivileged_user(self):
        seen = run_cases(self, """
        result = run("unreadable", ["-m", "tempguard.runner", "--report",
                                    os.path.join(WORK, "r.json"),
                                    "example_breaks.KeepsWhatCannotBeCopied.test_unreadable_dir_then_fail"])
        entry = support.load_json(os.path.join(WORK, "r.json"))["tests"][0]
        result["entry"] = entry
        locked = [os.path.join(d, n) for d, dirs, files in os.walk(entry["kept"])
                  for n in dirs if n == "locked"]
        result["kept"] = os.listdir(entry["kept"])
        os.chmod(locked[0], 0o700)
        with open(os.path.join(locked[0], "inside.txt")) as handle:
            result["inside"] = handle.read()
        print(json.dumps(result))
        """, unprivileged=True)
        self.assertEqual(seen["code"], 1, seen["stderr"])
        self.assertEqual(seen["inside"], "only a move keeps this")
        self.assertEqual(seen["entry"]["not_kept"], [])
        self.assertEqual(len(seen["entry"]["leaks"]), 2)
        self.assertTrue(any(name.startswith("copied-") for name in seen["kept"]), seen)

    def check_moved_tree_keeps_no_special_files(self, unprivileged):
        seen = run_cases(self, """
        result = run("moved", ["-m", "tempguard.runner", "--report",
                               os.path.join(WORK, "r.json"), "example_breaks."
                               "KeepsWhatCannotBeCopied.test_unreadable_dir_beside_special_files_then_fail"])
        entry = support.load_json(os.path.join(WORK, "r.json"))["tests"][0]
        result["entry"] = entry
        result["kept"] = sorted(os.path.relpath(os.path.join(d, n), entry["kept"])
                                for d, dirs, files in os.walk(entry["kept"]) for n in dirs + files)
        print(json.dumps(result))
        """, unprivileged)
        self.assertEqual(seen["code"], 1, seen["stderr"])
        specials = ["fifo"] + ([] if unprivileged else ["zero"])
        self.assertEqual(sorted(os.path.basename(item.split(": ")[0])
                                for item in seen["entry"]["not_kept"]), specials)
        moved = [name for name in seen["kept"] if name.startswith("moved-")]
        self.assertEqual([os.path.basename(name) for name in moved if "/" in name], ["locked"],
                         seen)

    def test_a_moved_tree_keeps_no_special_files_as_root(self):
        self.check_moved_tree_keeps_no_special_files(unprivileged=False)

    def test_a_moved_tree_keeps_no_special_files_as_unprivileged_user(self):
        self.check_moved_tree_keeps_no_special_files(unprivileged=True)

    def test_a_tree_deeper_than_recursion_is_kept_whole_and_the_summary_survives(self):
        seen = run_cases(self, """
        result = both("deep", "example_breaks.KeepsDeepAndLongNamed."
                      "test_tree_deeper_than_recursion_then_pass", "--keep", "all",
                      "--report", os.path.join(WORK, "r.json"))
        entry = support.load_json(os.path.join(WORK, "r.json"))["tests"][0]
        depth, fd = 0, os.open(entry["kept"], os.O_RDONLY)
        fd = os.open(os.listdir(fd)[0], os.O_RDONLY, dir_fd=fd)
        while "d" in os.listdir(fd):
            fd, depth = os.open("d", os.O_RDONLY, dir_fd=fd), depth + 1
        result["depth"], result["bottom"] = depth, os.listdir(fd)
        print(json.dumps(result))
        """)
        runner, plain = seen["runner"], seen["unittest"]
        self.assertEqual((runner["code"], runner["unittest"]), (plain["code"], plain["unittest"]))
        self.assertEqual(runner["code"], 0, runner["stderr"])
        self.assertEqual((seen["depth"], seen["bottom"]), (1200, ["bottom.txt"]))

    def test_a_long_non_ascii_test_name_still_keeps_its_files(self):
        seen = run_cases(self, """
        result = run("long", ["-m", "tempguard.runner", "example_breaks.KeepsDeepAndLongNamed."
                              "test_" + "非常长的名字" * 12, "--report",
                              os.path.join(WORK, "r.json")])
        result["entry"] = support.load_json(os.path.join(WORK, "r.json"))["tests"][0]
        result["kept"] = os.listdir(result["entry"]["kept"])
        print(json.dumps(result))
        """)
        self.assertEqual(seen["code"], 1, seen["stderr"])
        self.assertEqual(seen["entry"]["not_kept"], [])
        self.assertEqual([name[:10] for name in seen["kept"]], ["long-name-"])

    def test_a_keep_dir_on_a_full_disk_names_its_path_or_keeps_no_empty_dir(self):
        mount_point = support.scratch_dir(self)
        support.mount_tmpfs(self, mount_point, size="256k")
        seen = run_cases(self, """
        keep, full = %r, %r
        result = {"big": run("big", ["-m", "tempguard.runner", "--keep-dir", keep, "--report",
                                     os.path.join(WORK, "r.json"), "example_breaks."
                                     "KeepsWhatCannotBeCopied.test_big_file_on_a_full_disk_then_fail"])}
        result["entry"] = support.load_json(os.path.join(WORK, "r.json"))["tests"][0]
        result["keep"] = sorted(os.listdir(keep))
        with open(os.path.join(os.path.dirname(keep), "fill"), "wb") as handle:
            try:
                handle.write(b"x" * (1 << 20))
            except OSError:
                pass
        result["full"] = run("full", ["-m", "tempguard.runner", "--keep-dir", full,
                                      "example_breaks.Fails"])
        print(json.dumps(result))
        """ % (os.path.join(mount_point, "keep"), os.path.join(mount_point, "full")))
        big = seen["big"]
        self.assertEqual(big["code"], 1, big["stderr"])
        self.assertIsNone(seen["entry"]["kept"], seen["entry"])
        self.assertEqual(len(seen["entry"]["not_kept"]), 1, seen["entry"])
        self.assertIn("could not be copied, nor moved", seen["entry"]["not_kept"][0])
        self.assertNotIn("kept in", big["stderr"])
        full = seen["full"]
        self.assertEqual(full["code"], 2, full["stderr"])
        self.assertIn("keep_dir %s: could not write its marker: No space left on device"
                      % os.path.join(mount_point, "full"), full["stderr"])

    def test_a_file_too_big_for_the_disk_is_moved_into_kept_whole(self):
        mount_point = support.scratch_dir(self)
        support.mount_tmpfs(self, mount_point)
        seen = run_cases(self, """
        tmp = %r
        result = run("full", ["-m", "tempguard.runner", "--report",
                              os.path.join(WORK, "r.json"),
                              "example_breaks.KeepsWhatCannotBeCopied.test_big_file_on_a_full_disk_then_fail"],
                     tmp=tmp)
        entry = support.load_json(os.path.join(WORK, "r.json"))["tests"][0]
        result["entry"] = entry
        result["sizes"] = [os.path.getsize(os.path.join(entry["kept"], n))
                           for n in os.listdir(entry["kept"])]
        support._remove(os.path.dirname(os.path.dirname(entry["kept"])))
        print(json.dumps(result))
        """ % mount_point)
        self.assertEqual(seen["code"], 1, seen["stderr"])
        self.assertEqual(seen["sizes"], [600000])
        self.assertEqual(seen["entry"]["not_kept"], [])


class ProcessStateTest(unittest.TestCase):

    def test_a_test_that_replaces_os_environ_with_a_dict(self):
        seen = run_cases(self, """
        print(json.dumps(both("environ", "example_breaks.ReplacesEnviron")))
        """)
        runner, plain = seen["runner"], seen["unittest"]
        self.assertEqual((runner["code"], runner["unittest"]), (plain["code"], plain["unittest"]))
        self.assertEqual(runner["code"], 0, runner["stderr"])
        self.assertIn("leaked-with-a-dict-environ-", runner["stderr"])
        self.assertEqual(runner["tmp_left"], [])

    def check_linked_temp_dir(self, unprivileged):
        seen = run_cases(self, """
        real = os.path.join(WORK, "real")
        os.mkdir(real, 0o700)
        link = os.path.join(WORK, "link")
        os.symlink(real, link)
        result = both("linked", "example_breaks.LinkedTempDir", "--watch", link, tmp=link)
        result["mixin"] = run("mixin", ["-m", "unittest", "example_breaks.MixinLinkedTempDir"],
                              tmp=link)
        result["left"] = os.listdir(real)
        result["link"] = link
        print(json.dumps(result))
        """, unprivileged)
        runner, plain, mixin = seen["runner"], seen["unittest"], seen["mixin"]
        self.assertEqual((runner["code"], runner["unittest"]), (plain["code"], plain["unittest"]))
        self.assertIn("%s: a link to" % seen["link"], runner["stderr"])
        self.assertEqual(runner["stderr"].count("a link to"), 1)
        self.assertIn("leaked-in-linked-", runner["stderr"])
        self.assertEqual(mixin["code"], 0, mixin["stderr"])
        self.assertIn("leaked-in-linked-", mixin["stderr"])
        self.assertEqual([name for name in seen["left"] if name.startswith("tg")], [])

    def test_a_temp_dir_that_is_a_link_as_root(self):
        self.check_linked_temp_dir(unprivileged=False)

    def test_a_temp_dir_that_is_a_link_as_unprivileged_user(self):
        self.check_linked_temp_dir(unprivileged=True)

    def test_a_world_writable_temp_dir_without_sticky_bit_is_a_one_line_error(self):
        seen = run_cases(self, """
        tmp = os.path.join(WORK, "open")
        os.mkdir(tmp)
        os.chmod(tmp, 0o777)
        result = run("open", ["-m", "tempguard.runner", "example_breaks.LinkedTempDir"], tmp=tmp)
        log = os.path.join(WORK, "missing", "log.jsonl")
        result["monitor"] = run("monitor", ["-m", "tempguard.monitor", "--watch", "1",
                                            "--count", "1", "--log", log])
        print(json.dumps(result))
        """)
        for run in (seen, seen["monitor"]):
            self.assertEqual(run["code"], 2, run["stderr"])
            self.assertNotIn("Traceback", run["stderr"])
            self.assertEqual(run["tmp_left"], [])
        self.assertEqual(len(seen["stderr"].splitlines()), 1, seen["stderr"])
        self.assertIn("without the sticky bit", seen["stderr"])
        self.assertIn("--log", seen["monitor"]["stderr"])


if __name__ == "__main__":
    unittest.main()


class HandOffTest(unittest.TestCase):
    """Item 5: whatever a test does to its process, unittest's complete output and exit
    code reach the user. The hand-off used to be a file in the run root, written at
    the end: a removed root, a umask of 777, an exhausted fd limit, a full disk or
    closed fds cost the summary (a traceback and rc 1 although every test passed)."""

    def check(self, seen, note=None):
        for mode in ("warn", "fail"):
            runner, plain = seen[mode]["runner"], seen[mode]["unittest"]
            self.assertEqual((runner["code"], runner["unittest"]),
                             (plain["code"], plain["unittest"]), runner["stderr"])
            self.assertIn("\ntempguard: ", runner["stderr"])
            self.assertNotIn("Traceback", runner["stderr"])
            self.assertTrue(runner["user_unchanged"], runner["stderr"])
            self.assertEqual(runner["tmp_left"], [], runner["stderr"])
            if note is not None:
                self.assertIn(note, runner["stderr"].split("\ntempguard: ", 1)[1])
        return seen

    def run_breaking(self, test, unprivileged=False):
        return run_cases(self, """
        test = "example_breaks.BreaksTheHandOff.%s"
        print(json.dumps({mode: both(mode, test, "--leaks", mode) for mode in ("warn", "fail")}))
        """ % test, unprivileged)

    def test_a_test_removes_the_run_root(self):
        self.check(self.run_breaking("test_removes_the_run_root"),
                   "the run root was removed by a test")

    def test_a_test_leaves_umask_777_as_root(self):
        self.check(self.run_breaking("test_leaves_umask_777"))

    def test_a_test_leaves_umask_777_unprivileged(self):
        self.check(self.run_breaking("test_leaves_umask_777", unprivileged=True))

    def test_a_failing_test_under_umask_777_keeps_its_files_unprivileged(self):
        """Its kept dir was made mode 000: the run crashed as uid 65534. Its evidence
        (mode 000, so it cannot be copied) waits for exit: the supervisor moves it."""
        seen = run_cases(self, """
        report = os.path.join(WORK, "report.json")
        result = both("kept", "example_breaks.BreaksTheHandOff.test_leaves_umask_777_then_fails",
                      "--report", report)
        kept = support.load_json(report)["tests"][0]["kept"]
        result["kept"] = {name: os.lstat(os.path.join(kept, name)).st_size
                          for name in os.listdir(kept)}
        print(json.dumps(result))
        """, unprivileged=True)
        runner, plain = seen["runner"], seen["unittest"]
        lines = re.sub(r"\n\ntempguard kept this test's temporary files in: [^\n]*", "",
                       runner["unittest"])
        self.assertEqual((runner["code"], lines), (1, plain["unittest"]), runner["stderr"])
        self.assertTrue(runner["user_unchanged"])
        evidence = [size for name, size in seen["kept"].items()
                    if name.startswith("evidence-under-umask-777-")]
        self.assertEqual(evidence, [len("what the failure needs")], seen["kept"])

    def test_a_test_exhausts_the_fd_limit(self):
        self.check(self.run_breaking("test_exhausts_the_fd_limit"))

    def test_a_test_closes_every_fd_above_stdio(self):
        self.check(self.run_breaking("test_closes_every_fd_above_stdio"))

    def test_a_test_closes_every_fd_and_leaves_none_to_reopen(self):
        """The one case where the hand-off cannot be made: the test process prints
        unittest's closing lines itself, and says why."""
        seen = self.check(self.run_breaking("test_closes_every_fd_then_exhausts_the_limit"),
                          "without handing its records over")
        self.assertIn("tempguard: could not hand this run over to its supervisor",
                      seen["fail"]["runner"]["stderr"])

    def test_the_disk_is_full_at_the_end(self):
        mounts = support.scratch_dir(self)
        for mode in ("warn", "fail"):
            for command in ("runner", "unittest"):
                mount_point = os.path.join(mounts, mode + "-" + command)
                os.mkdir(mount_point)
                support.mount_tmpfs(self, mount_point)
        seen = run_cases(self, """
        test, mounts = "example_breaks.BreaksTheHandOff.test_fills_the_disk", %r
        print(json.dumps({mode: {
            "runner": run(mode + "-r", ["-m", "tempguard.runner", "--leaks", mode, test],
                          tmp=os.path.join(mounts, mode + "-runner")),
            "unittest": run(mode + "-u", ["-m", "unittest", test],
                            tmp=os.path.join(mounts, mode + "-unittest"))}
            for mode in ("warn", "fail")}))
        """ % mounts)
        self.check(seen)


class SignalTest(unittest.TestCase):
    """Items 6 and 12: signals sent to the run's process group."""

    def test_one_ctrl_c_to_the_group_with_catch_break_is_unittest_s_one(self):
        """With -c and stdin not a terminal, one SIGINT to the group used to reach the
        test process twice (the supervisor passed it on): a hard stop, rc 130."""
        seen = run_cases(self, """
        import signal
        slow = os.path.join(%r, "slow")
        result = {}
        for command in (["-m", "unittest"], ["-m", "tempguard.runner"]):
            tmp = os.path.join(WORK, "tmp-" + command[1])
            os.mkdir(tmp)
            child = subprocess.Popen([sys.executable] + command + ["-c", "example_slow"],
                                     cwd=slow, env=dict(os.environ, TMPDIR=tmp),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, universal_newlines=True,
                                     start_new_session=True)
            ready = child.stdout.readline().strip()
            os.killpg(child.pid, signal.SIGINT)
            _, err = child.communicate(timeout=60)
            result[command[1]] = {"ready": ready, "code": child.returncode, "stderr": err,
                                  "unittest": support.unittest_part(err),
                                  "tmp_left": os.listdir(tmp)}
        print(json.dumps(result))
        """ % support.EXAMPLES)
        runner, plain = seen["tempguard.runner"], seen["unittest"]
        self.assertEqual(runner["ready"], "SLEEPING")
        self.assertEqual((runner["code"], runner["unittest"]), (0, plain["unittest"]),
                         runner["stderr"])
        self.assertEqual(plain["code"], 0, plain["stderr"])
        self.assertEqual(runner["tmp_left"], [])

    def test_two_quick_sigints_count_what_they_leave(self):
        """The second SIGINT cut the test process's judging short; the supervisor then
        removed 3,000 leaks and reported "0 leaked"."""
        seen = run_cases(self, """
        import signal, time
        tmp, ready = os.path.join(WORK, "tmp"), os.path.join(WORK, "ready")
        os.mkdir(tmp)
        report = os.path.join(WORK, "report.json")
        child = subprocess.Popen([sys.executable, "-m", "tempguard.runner", "--report", report,
                                  "example_breaks.LeaksManyThenWaits"], cwd=WORK,
                                 env=dict(os.environ, TMPDIR=tmp, READY=ready, LEAKS="3000"),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, universal_newlines=True,
                                 start_new_session=True)
        support.wait_for(ready)
        os.killpg(child.pid, signal.SIGINT)
        time.sleep(0.05)
        os.killpg(child.pid, signal.SIGINT)
        _, err = child.communicate(timeout=120)
        print(json.dumps({"code": child.returncode, "stderr": err, "tmp_left": os.listdir(tmp),
                          "totals": support.load_json(report)["totals"]}))
        """)
        self.assertEqual(seen["tmp_left"], [], seen["stderr"])
        self.assertEqual(seen["totals"]["leaked"], 3000, seen["stderr"][-2000:])
        self.assertIn("3000 leaked", seen["stderr"])
        self.assertNotIn("made outside this process", seen["stderr"])


class MixinAtExitTest(unittest.TestCase):
    """The mixin's session ends at exit, in the test process: a test that exhausted the
    fd limit made it end with a traceback and leave its run root."""

    def test_an_exhausted_soft_limit_is_raised_for_the_last_word(self):
        seen = run_cases(self, """
        print(json.dumps(both("soft", "example_breaks.MixinExhaustsTheFdLimit.test_soft_limit")))
        """)
        mixin = seen["unittest"]  # the mixin runs under plain unittest
        self.assertEqual(mixin["code"], 0, mixin["stderr"])
        self.assertNotIn("Traceback", mixin["stderr"])
        self.assertEqual(mixin["tmp_left"], [], mixin["stderr"])

    def test_an_exhausted_hard_limit_leaves_the_root_to_the_next_run(self):
        seen = run_cases(self, """
        from tempguard import sandbox
        tmp = os.path.join(WORK, "tmp")
        first = run("hard", ["-m", "unittest",
                             "example_breaks.MixinExhaustsTheFdLimit.test_hard_limit"], tmp=tmp)
        first["next"] = run("next", ["-m", "tempguard.runner", "example_breaks."
                                      "BreaksTheHandOff.test_closes_every_fd_above_stdio"], tmp=tmp)
        print(json.dumps(first))
        """)
        self.assertEqual(seen["code"], 0, seen["stderr"])
        self.assertNotIn("Traceback", seen["stderr"])
        self.assertIn("tempguard: could not finish the run at exit (", seen["stderr"])
        self.assertEqual(len(seen["tmp_left"]), 1, seen["stderr"])
        self.assertEqual(seen["next"]["tmp_left"], [], seen["next"]["stderr"])
