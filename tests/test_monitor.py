"""python -m tempguard.monitor against real directories, in real subprocesses."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

from tempguard import cleanup, monitor
from tests import support

OLD = time.time() - 3 * 86400


def monitor_run(*args):
    return support.run_python(["-m", "tempguard.monitor"] + list(args))


def write(path, data=b"x", age=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    if age is not None:
        os.utime(path, (age, age))


class MonitorTestCase(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(support._remove, self.dir)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


class LookTest(MonitorTestCase):

    def test_counts_and_sizes_of_a_known_tree(self):
        sentinel = support.make_sentinel(self)
        write(self.path("data", "a.bin"), b"a" * 1000)
        write(self.path("data", "sub", "b.bin"), b"b" * 24)
        os.link(self.path("data", "a.bin"), self.path("data", "hard.bin"))
        os.link(self.path("data", "a.bin"), self.path("hard-top.bin"))
        os.symlink(sentinel, self.path("data", "outside"))
        os.symlink(sentinel, self.path("link-top"))
        write(self.path("other.log"), b"12345")
        completed = monitor_run(self.dir, "--json", "--top", "2")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        found = json.loads(completed.stdout)["directories"][0]
        self.assertEqual((found["entries"], found["files"], found["dirs"], found["links"],
                          found["bytes"], found["skipped"]), (4, 5, 2, 2, 1029, 0))
        # The shared inode's bytes go to whichever of its names is listed first.
        self.assertGreaterEqual(found["largest"][0]["bytes"], 1000)
        self.assertIn(os.path.basename(found["largest"][0]["path"]), ("data", "hard-top.bin"))
        completed = monitor_run(self.dir, "--pattern", "*.log", "--pattern", "hard*")
        self.assertIn("2 entries: 2 files, 0 dirs, 0 links, 1005 B", completed.stdout)

    def test_unreadable_subdirectory_is_skipped_as_unprivileged_user(self):
        report = support.run_child(self, """
            import os, subprocess, sys
            top = os.path.join(WORK, "scanned")
            os.makedirs(os.path.join(top, "locked", "inner"))
            open(os.path.join(top, "locked", "inner", "f"), "w").close()
            os.chmod(os.path.join(top, "locked"), 0o000)
            done = subprocess.run([sys.executable, "-m", "tempguard.monitor", top, "--json"],
                                  stdout=subprocess.PIPE, cwd=WORK, universal_newlines=True)
            os.chmod(os.path.join(top, "locked"), 0o700)
            print(json.dumps({"code": done.returncode, "out": json.loads(done.stdout)}))
        """)
        self.assertEqual(report["code"], 0)
        found = report["out"]["directories"][0]
        self.assertEqual((found["dirs"], found["skipped"]), (1, 1))

    def test_run_roots_are_shown_with_their_state(self):
        support.make_run_root(self.dir, "alive")
        support.make_run_root(self.dir, "dead", pid=support.dead_pid())
        completed = monitor_run(self.dir)
        self.assertRegex(completed.stdout, r"live +pid %d +.*tempguard-run-alive" % os.getpid())
        self.assertRegex(completed.stdout, r"orphaned +pid \d+ +.*tempguard-run-dead")

    def test_watch_prints_rounds_and_logs_json_lines(self):
        log = self.path("..", os.path.basename(self.dir) + ".log")
        self.addCleanup(support._remove, log)
        env = dict(os.environ, PYTHONPATH=support.PROJECT)
        child = subprocess.Popen([sys.executable, "-m", "tempguard.monitor", self.dir,
                                  "--watch", "0.3", "--count", "3", "--log", log],
                                 stdout=subprocess.PIPE, universal_newlines=True, env=env)
        first = child.stdout.readline()
        write(self.path("appeared"), b"12")
        rest, _ = child.communicate(timeout=30)
        self.assertEqual(child.returncode, 0)
        self.assertIn("0 entries (+0 -0)", first)
        self.assertIn("1 entries (+1 -0)  2 B (+2 bytes)", rest)
        with open(log) as handle:
            rounds = [json.loads(line) for line in handle]
        self.assertEqual(len(rounds), 3)
        self.assertIn(self.path("appeared"), rounds[1]["added"] + rounds[2]["added"])


class PipeTest(MonitorTestCase):

    def test_a_reader_that_goes_away_ends_it_quietly(self):
        for number in range(3000):
            write(self.path("f%04d" % number))
        completed = subprocess.run(
            ["sh", "-c", '"$0" -m tempguard.monitor --json --top 3000 "$1" | head -c 10 '
             '>/dev/null', sys.executable, self.dir],
            env=dict(os.environ, PYTHONPATH=support.PROJECT), stderr=subprocess.PIPE,
            universal_newlines=True, timeout=60)
        self.assertEqual(completed.stderr, "")


class CleanTest(MonitorTestCase):

    def setUp(self):
        support.needs_proc(self, "the monitor's cleaning (its in-use checks)")
        super().setUp()

    def test_clean_orphans_never_touches_a_live_run(self):
        live = support.make_run_root(self.dir, "alive")
        dead = support.make_run_root(self.dir, "dead", pid=support.dead_pid())
        completed = monitor_run(self.dir, "--clean-orphans", "--yes")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertTrue(os.path.isdir(live))
        self.assertFalse(os.path.exists(dead))
        self.assertIn("removed orphaned run root", completed.stdout)

    def test_every_removal_needs_yes_and_a_dry_run_removes_nothing(self):
        dead = support.make_run_root(self.dir, "dead", pid=support.dead_pid())
        kept = os.path.join(dead, "kept")
        write(os.path.join(kept, "failed-test", "evidence.txt"))
        before = support.snapshot(dead)
        for args in (["--clean-orphans"],
                     ["--clean-orphans", "--clean", "--pattern", "*", "--older-than", "0s"]):
            with self.subTest(args=args):
                dry = monitor_run(self.dir, *args)
                self.assertEqual(dry.returncode, 0, dry.stderr)
                self.assertEqual(support.snapshot(dead), before)
                self.assertIn("would remove orphaned run root", dry.stdout)
                self.assertEqual(dry.stdout.count("dry run: nothing was removed"), 1)
                self.assertNotIn("removed orphaned", dry.stdout)

    def test_age_based_cleaning_dry_then_real_with_exclude(self):
        sentinel = support.make_sentinel(self)
        write(self.path("old.tmp"), age=OLD)
        write(self.path("young.tmp"))
        write(self.path("protected.tmp"), age=OLD)
        write(self.path("olddir.tmp", "inner", "f"), age=OLD)
        os.utime(self.path("olddir.tmp", "inner"), (OLD, OLD))
        os.utime(self.path("olddir.tmp"), (OLD, OLD))
        write(self.path("mixed.tmp", "old"), age=OLD)
        write(self.path("mixed.tmp", "young"))
        os.utime(self.path("mixed.tmp"), (OLD, OLD))
        os.symlink(sentinel, self.path("link.tmp"))
        os.utime(self.path("link.tmp"), (OLD, OLD), follow_symlinks=False)
        write(self.path("old.keep"), age=OLD)
        # mtime: utime cannot make a ctime old, and the default ages by the newest time.
        args = [self.dir, "--clean", "--pattern", "*.tmp", "--older-than", "2d",
                "--exclude", "protected*", "--age-by", "mtime"]
        dry = monitor_run(*args)
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertEqual(sorted(line.split()[2] for line in dry.stdout.splitlines()
                                if line.startswith("would remove")),
                         sorted(self.path(n) for n in ("link.tmp", "old.tmp", "olddir.tmp")))
        self.assertEqual(len(os.listdir(self.dir)), 7)
        real = monitor_run(*(args + ["--yes"]))
        self.assertEqual(real.returncode, 0, real.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["mixed.tmp", "old.keep", "protected.tmp", "young.tmp"])

    def test_by_default_an_entry_is_as_young_as_the_newest_of_its_times(self):
        write(self.path("touched.tmp"), age=OLD)  # an old mtime and atime, a new ctime
        args = [self.dir, "--clean", "--pattern", "*.tmp", "--older-than", "2d", "--yes"]
        completed = monitor_run(*args)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertTrue(os.path.exists(self.path("touched.tmp")))
        completed = monitor_run(*(args + ["--age-by", "mtime"]))
        self.assertFalse(os.path.exists(self.path("touched.tmp")), completed.stdout)

    def test_entries_of_other_users_are_never_cleaned(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to give a file to another user")
        write(self.path("theirs.tmp"), age=OLD)
        os.chown(self.path("theirs.tmp"), support.NOBODY, support.NOBODY)
        completed = monitor_run(self.dir, "--clean", "--pattern", "*", "--older-than", "1h",
                                "--yes")
        self.assertEqual(completed.returncode, 0)
        self.assertTrue(os.path.exists(self.path("theirs.tmp")))

    def test_entry_replaced_after_the_check_is_not_deleted(self):
        write(self.path("victim.tmp"), b"old", age=OLD)
        checked = cleanup.version_key(os.lstat(self.path("victim.tmp")))
        os.remove(self.path("victim.tmp"))
        write(self.path("victim.tmp"), b"someone else's new file")
        result = cleanup.remove_if_unchanged(self.path("victim.tmp"), checked)
        self.assertEqual(len(result.problems), 1)
        self.assertIn("changed since it was checked", result.problems[0].reason)
        self.assertTrue(os.path.exists(self.path("victim.tmp")))
        same = cleanup.version_key(os.lstat(self.path("victim.tmp")))
        self.assertTrue(cleanup.remove_if_unchanged(self.path("victim.tmp"), same).ok)
        self.assertFalse(os.path.exists(self.path("victim.tmp")))

    def test_what_cannot_be_removed_is_listed_with_exit_1_as_unprivileged_user(self):
        report = support.run_child(self, """
            import os, subprocess, sys
            top = os.path.join(WORK, "scanned")
            os.makedirs(os.path.join(top, "stuck.tmp"))
            os.utime(os.path.join(top, "stuck.tmp"), (1, 1))
            os.chmod(top, 0o500)
            done = subprocess.run([sys.executable, "-m", "tempguard.monitor", top, "--clean",
                                   "--pattern", "*.tmp", "--older-than", "1d", "--yes",
                                   "--age-by", "mtime"],
                                  stdout=subprocess.PIPE, cwd=WORK, universal_newlines=True)
            os.chmod(top, 0o700)
            print(json.dumps({"code": done.returncode, "out": done.stdout,
                              "left": os.listdir(top)}))
        """)
        self.assertEqual(report["code"], 1)
        self.assertIn("could not remove", report["out"])
        self.assertIn("stuck.tmp", report["out"])
        self.assertEqual(report["left"], ["stuck.tmp"])


# Runs in a child (see support.run_child): a holder process uses four old entries (a
# bound Unix socket, a flock-ed directory, a file it holds open, its cwd) beside an
# unused old one; the monitor cleans with the holder alive, then after it exited.
_HOLDER = r"""
import fcntl, os, socket, sys
top = sys.argv[1]
server = socket.socket(socket.AF_UNIX)
server.bind(os.path.join(top, "daemon.sock"))
server.listen(1)
os.mkdir(os.path.join(top, "locked.tmp"))
lock = os.open(os.path.join(top, "locked.tmp"), os.O_RDONLY)
fcntl.flock(lock, fcntl.LOCK_EX)
os.mkdir(os.path.join(top, "inside.tmp"))
held = open(os.path.join(top, "inside.tmp", "log"), "w")
os.mkdir(os.path.join(top, "cwd.tmp"))
os.chdir(os.path.join(top, "cwd.tmp"))
for name in ("inside.tmp/log", "daemon.sock", "locked.tmp", "inside.tmp", "cwd.tmp"):
    os.utime(os.path.join(top, name), (1, 1))
print("ready", flush=True)
sys.stdin.read()
"""

_IN_USE_CHILD = r"""
import subprocess
top = os.path.join(WORK, "scanned")
os.mkdir(top)
holder = subprocess.Popen([sys.executable, "-c", HOLDER, top], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, universal_newlines=True)
assert holder.stdout.readline().strip() == "ready"
with open(os.path.join(top, "unused.tmp"), "w") as handle:
    handle.write("nobody's")
os.utime(os.path.join(top, "unused.tmp"), (1, 1))

def monitor(*args):
    return subprocess.run([sys.executable, "-m", "tempguard.monitor", top, "--clean",
                           "--pattern", "*", "--older-than", "1d", "--age-by", "mtime"]
                          + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          cwd=WORK, universal_newlines=True)

dry, real = monitor(), monitor("--yes")
left_alive = sorted(os.listdir(top))
holder.communicate("")
after = monitor("--yes")
print(json.dumps({"dry": dry.stdout, "real": real.stdout, "after": after.stdout,
                  "codes": [dry.returncode, real.returncode, after.returncode],
                  "left_alive": left_alive, "left_after": sorted(os.listdir(top))}))
"""


class InUseTest(unittest.TestCase):
    """What a live process uses is never cleaned: sockets, locks, open files, cwds."""

    def setUp(self):
        support.needs_proc(self, "the monitor's in-use checks")

    def check_in_use(self, unprivileged):
        code = "HOLDER = %r\n%s" % (_HOLDER, _IN_USE_CHILD)
        seen = support.run_child(self, code, unprivileged)
        self.assertEqual(seen["codes"], [0, 0, 0], seen)
        reasons = {"daemon.sock": "a Unix socket a live process is bound to",
                   "locked.tmp": "locked by another process",
                   "inside.tmp": "held open by pid", "cwd.tmp": "the current directory of pid"}
        for output in (seen["dry"], seen["real"]):
            for name, reason in reasons.items():
                self.assertRegex(output, r"left .*/%s: in use: .*%s" % (re.escape(name), reason))
        self.assertRegex(seen["dry"], r"would remove .*/unused\.tmp")
        self.assertEqual(seen["left_alive"], sorted(reasons))
        for name in reasons:
            self.assertRegex(seen["after"], r"removed .*/%s\n" % re.escape(name))
        self.assertEqual(seen["left_after"], [])

    def test_entries_in_use_are_left_alone_as_root(self):
        self.check_in_use(unprivileged=False)

    def test_entries_in_use_are_left_alone_as_unprivileged_user(self):
        self.check_in_use(unprivileged=True)


class UsageTest(MonitorTestCase):

    def test_usage_errors_exit_2_and_delete_nothing(self):
        write(self.path("old.tmp"), age=OLD)
        a_file = self.path("old.tmp")
        for args in (["--bogus"], ["--clean", "--older-than", "2d"],
                     ["--clean", "--pattern", "*", "--older-than", "2 days"],
                     ["--clean", "--pattern", "*", "--older-than", "-5m"],
                     ["--clean", "--pattern", "*"], ["--older-than", "1d", "--yes"],
                     ["--count", "2"], ["--top", "0"], ["--watch", "x"],
                     ["--age-by", "birth"]):
            with self.subTest(args=args):
                completed = monitor_run(*([self.dir] + args + ["--yes"] * ("--clean" in args)))
                self.assertEqual(completed.returncode, 2, completed.stdout)
                self.assertIn("error:", completed.stderr)
        for bad_dir in ("/nonexistent/dir", a_file):
            completed = monitor_run(bad_dir)
            self.assertEqual(completed.returncode, 2)
        self.assertTrue(os.path.exists(a_file))

    def test_age_parsing(self):
        self.assertEqual([monitor.parse_age(text) for text in ("90s", "30m", "2h", "7d")],
                         [90, 1800, 7200, 604800])


if __name__ == "__main__":
    unittest.main()
