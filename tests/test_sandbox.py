"""Run roots: private, marked with their owner, told apart live from orphaned, pruned safely."""

import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import unittest

import tempguard
from tempguard import cleanup, sandbox
from tests import support


make_root = support.make_run_root
dead_pid = support.dead_pid


class RunRootTest(unittest.TestCase):

    def setUp(self):
        self.parent = tempfile.mkdtemp()
        self.addCleanup(support._remove, self.parent)

    def test_a_workers_root_lies_in_its_parents_keeps_files_there_and_is_spared_in_use(self):
        support.needs_proc(self, "finding a process by the temp dir in its environment")
        parent = sandbox.RunRoot.create(self.parent)
        idle = sandbox.RunRoot.create(None, "inv-1", inside=parent.held)
        busy = sandbox.RunRoot.create(None, "inv-1", inside=parent.held)
        self.assertEqual(os.path.dirname(busy.path), parent.path)
        kept = busy.keep_dir("tests.T.test_failed")
        self.assertEqual(os.path.dirname(kept), os.path.join(parent.path, "kept"))
        idle.close(keep_runs=0)
        self.assertFalse(os.path.exists(idle.path))
        # A test's child of the worker still writes in the worker's sandbox.
        child = subprocess.Popen([sys.executable, "-c", "print('up', flush=True); "
                                  "import time; time.sleep(60)"],
                                 env=dict(os.environ, TMPDIR=busy.tmp), stdout=subprocess.PIPE)
        self.addCleanup(child.stdout.close)
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        self.assertEqual(child.stdout.readline(), b"up\n")  # its environment is its own now
        busy.leave()
        parent.finish()
        self.assertTrue(os.path.isdir(busy.tmp))
        self.assertTrue(os.path.isdir(kept))
        self.assertEqual(sandbox.read_run_root(parent.path).state, "finished")
        child.kill()
        child.wait()
        sandbox.prune_runs(self.parent, keep_runs=0)
        self.assertEqual(os.listdir(self.parent), [])

    @support.needs("flock")  # else a worker of this very process is not told from a dead one
    def test_a_run_whose_parent_died_lives_while_a_worker_holds_its_root(self):
        parent = sandbox.RunRoot.create(self.parent)
        worker = sandbox.RunRoot.create(None, "inv-1", inside=parent.held)
        open(os.path.join(worker.tmp, "in-use"), "w").close()
        parent.leave()  # as if killed: its lock is gone, its worker's is not
        self.assertEqual(sandbox.read_run_root(parent.path).state, "live")
        sandbox.prune_runs(self.parent, keep_runs=0)
        self.assertTrue(os.path.exists(os.path.join(worker.tmp, "in-use")))
        worker.leave()
        self.assertEqual(sandbox.read_run_root(parent.path).state, "finished")
        sandbox.prune_runs(self.parent, keep_runs=0)
        self.assertEqual(os.listdir(self.parent), [])

    def test_new_root_is_private_marked_locked_and_short(self):
        root = sandbox.RunRoot.create(self.parent)
        st = os.lstat(root.path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertTrue(os.path.basename(root.path).startswith(sandbox.RUN_PREFIX))
        # Unix socket paths are short: the sandbox adds at most 12 characters.
        self.assertLessEqual(len(root.tmp) - len(self.parent), 12)
        info = sandbox.read_run_root(root.path)
        self.assertEqual((info.pid, info.host), (os.getpid(), socket.gethostname()))
        # Its flock says it is live; without one, a process's own root is not told from a
        # dead run's of the same pid (others read its marker: see test_platforms).
        self.assertEqual((sandbox.is_locked(root.path), info.state == "live"),
                         (support.needs.has("flock"),) * 2)
        root.finish()
        self.assertFalse(os.path.exists(root.path))

    def test_a_locked_root_is_live_even_with_an_unreadable_marker_until_its_holder_exits(self):
        support.needs_proc(self, "the monitor's cleaning (its in-use checks)")
        root = sandbox.RunRoot.create(self.parent)
        os.remove(os.path.join(root.path, sandbox.MARKER))
        with open(os.path.join(root.path, sandbox.MARKER), "w") as handle:
            handle.write("not json")
        holder = subprocess.Popen(
            [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY);"
             " fcntl.flock(fd, fcntl.LOCK_SH); print('held', flush=True); sys.stdin.read()",
             root.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(holder.stdout.readline().strip(), "held")
        root.held.close()  # this process lets go: only the child holds the lock now
        self.assertEqual(sandbox.read_run_root(root.path).state, "live")
        shown = support.run_python(["-m", "tempguard.monitor", self.parent])
        self.assertRegex(shown.stdout, r"live\s+pid \S+\s+%s" % re.escape(root.path))
        cleaned = support.run_python(["-m", "tempguard.monitor", self.parent, "--clean-orphans", "--yes"])
        self.assertEqual(cleaned.returncode, 0, cleaned.stderr)
        sandbox.prune_runs(self.parent, keep_runs=0)
        self.assertTrue(os.path.isdir(root.path))
        holder.communicate("")
        self.assertEqual(sandbox.read_run_root(root.path).state, "unknown")

    @support.needs("uids")  # Windows's mode bits do not say who may write
    def test_world_writable_parent_without_sticky_bit_is_refused(self):
        os.chmod(self.parent, 0o777)
        with self.assertRaises(tempguard.UnsafePathError) as caught:
            sandbox.RunRoot.create(self.parent)
        self.assertIn(self.parent, str(caught.exception))
        self.assertEqual(os.listdir(self.parent), [])
        os.chmod(self.parent, 0o1777)
        sandbox.RunRoot.create(self.parent).finish()

    def test_private_dir_check_refuses_links_and_junctions(self):
        real = os.path.join(self.parent, "real")
        os.mkdir(real, 0o700)
        link = os.path.join(self.parent, "link")
        os.symlink(real, link)
        with self.assertRaises(tempguard.UnsafePathError):
            sandbox.check_private_dir(link)
        sandbox.check_private_dir(real)

    @support.needs("uids")  # Windows's mode bits do not say who may enter
    def test_private_dir_check_refuses_open_modes_and_other_owners(self):
        real = os.path.join(self.parent, "real")
        os.mkdir(real, 0o750)
        with self.assertRaises(tempguard.UnsafePathError):
            sandbox.check_private_dir(real)
        os.chmod(real, 0o700)
        sandbox.check_private_dir(real)
        if os.geteuid() == 0:
            os.chown(real, support.NOBODY, support.NOBODY)
            with self.assertRaises(tempguard.UnsafePathError) as caught:
                sandbox.check_private_dir(real)
            self.assertIn("owned by uid %d" % support.NOBODY, str(caught.exception))

    def test_states_live_orphaned_finished_unknown(self):
        cases = {"live": {}, "orphaned": {"pid": dead_pid()},
                 "finished": {"pid": dead_pid(), "finished": True},
                 "unknown": {"host": "another-host.example"},
                 "reused": {"process_start": -1}}
        for name, owner in cases.items():
            make_root(self.parent, name, **owner)
        states = {os.path.basename(info.path)[len("tempguard-run-"):]: info.state
                  for info in sandbox.find_run_roots(self.parent)}
        # Without /proc a reused pid cannot be told: live, never removed (docs/platforms.rst).
        self.assertEqual(states, {"live": "live", "orphaned": "orphaned", "finished": "finished",
                                  "unknown": "unknown",
                                  "reused": "orphaned" if support.HAS_PROC else "live"})

    def test_prune_keeps_newest_kept_runs_and_never_live_or_foreign(self):
        for index in range(4):
            path = make_root(self.parent, "dead%d" % index, pid=dead_pid(), started=index,
                             finished=True)
            os.makedirs(os.path.join(path, "kept", "some.test"))
        make_root(self.parent, "crashed", pid=dead_pid())
        live = make_root(self.parent, "live")
        foreign = make_root(self.parent, "foreign", pid=dead_pid(), host="elsewhere")
        result = sandbox.prune_runs(self.parent, keep_runs=2)
        self.assertTrue(result.ok, result.problems)
        left = sorted(os.listdir(self.parent))
        self.assertEqual(left, sorted(os.path.basename(p) for p in (
            live, foreign, os.path.join(self.parent, "tempguard-run-dead2"),
            os.path.join(self.parent, "tempguard-run-dead3"))))
        self.assertFalse(os.path.exists(os.path.join(self.parent, "tempguard-run-dead3", "tmp")))

    def test_link_posing_as_a_run_root_is_never_followed(self):
        target = make_root(tempfile.mkdtemp(), "target", pid=dead_pid())
        self.addCleanup(support._remove, os.path.dirname(target))
        before = support.snapshot(target)
        link = os.path.join(self.parent, sandbox.RUN_PREFIX + "linkabc")
        os.symlink(target, link)
        self.assertEqual(sandbox.find_run_roots(self.parent), [])
        sandbox.prune_runs(self.parent, keep_runs=0)
        self.assertTrue(cleanup.is_link_at(link))
        self.assertEqual(support.snapshot(target), before)


class RedirectTest(unittest.TestCase):

    def test_restores_tempfile_and_environment_exactly(self):
        saved_tempdir = tempfile.tempdir
        saved_env = {name: os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")}
        target = tempfile.mkdtemp()
        self.addCleanup(support._remove, target)
        os.environ.pop("TEMP", None)
        self.addCleanup(_restore_env, saved_env)
        before = {name: os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")}
        redirect = sandbox.TempdirRedirect(target)
        redirect.apply()
        self.assertEqual(tempfile.gettempdir(), target)
        self.assertEqual(os.environ["TEMP"], target)
        saved = redirect.snapshot()
        os.environ["TMPDIR"] = "/changed/by/a/test"
        tempfile.tempdir = "/changed/too"
        self.assertTrue(redirect.put_back(saved))
        self.assertEqual((os.environ["TMPDIR"], tempfile.tempdir), (target, target))
        self.assertFalse(redirect.put_back(saved))
        redirect.restore()
        self.assertEqual(tempfile.tempdir, saved_tempdir)
        self.assertEqual({name: os.environ.get(name) for name in before}, before)


def _restore_env(saved):
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


if __name__ == "__main__":
    unittest.main()
