"""Safe deletion against real, hostile trees."""

import os
import tempfile
import textwrap
import threading
import time
import unittest
from unittest import mock

from tempguard import cleanup
from tests import support


def make_tree(root, spec):
    for relpath, data in spec.items():
        path = os.path.join(root, relpath)
        if data is None:
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)


class RemovePathsTest(unittest.TestCase):

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(support._remove, self.root)

    def test_removes_files_and_nested_dirs_and_counts_them(self):
        target = os.path.join(self.root, "t")
        make_tree(target, {"a.txt": b"12345", "d/e/f.bin": b"xy", "empty": None})
        single = os.path.join(self.root, "single")
        with open(single, "wb") as handle:
            handle.write(b"abc")
        result = cleanup.remove_paths([single, target])
        self.assertEqual((result.files, result.dirs, result.bytes), (3, 4, 10))
        self.assertTrue(result.ok, result.problems)
        self.assertEqual(os.listdir(self.root), [])
        self.assertGreater(result.seconds, 0)

    def test_missing_paths_are_not_problems(self):
        result = cleanup.remove_paths([os.path.join(self.root, "gone"),
                                       os.path.join(self.root, "no", "parent")])
        self.assertTrue(result.ok, result.problems)
        self.assertEqual(result.removed, 0)

    def test_links_inside_tree_are_removed_and_targets_untouched(self):
        sentinel = support.make_sentinel(self)
        target = os.path.join(self.root, "t")
        make_tree(target, {"sub/x": b"1"})
        os.symlink(sentinel, os.path.join(target, "abs_dir_link"))
        os.symlink(os.path.join(sentinel, "keep.txt"), os.path.join(target, "sub", "file_link"))
        os.symlink(os.path.relpath(sentinel, os.path.join(target, "sub")),
                   os.path.join(target, "sub", "rel_link"))
        os.symlink("/nonexistent/dangling", os.path.join(target, "dangling"))
        os.symlink("loop", os.path.join(target, "loop"))
        result = cleanup.remove_paths([target])
        self.assertTrue(result.ok, result.problems)
        self.assertFalse(os.path.lexists(target))
        self.assertEqual(result.files, 6)

    def test_tracked_path_that_became_a_link_removes_only_the_link(self):
        sentinel = support.make_sentinel(self)
        link = os.path.join(self.root, "was_a_dir")
        os.symlink(sentinel, link)
        result = cleanup.remove_paths([link])
        self.assertTrue(result.ok, result.problems)
        self.assertFalse(os.path.lexists(link))

    @support.needs("dir_fd")  # the by-path walk's race is documented: see test_platforms
    def test_directory_swapped_for_link_after_listing_is_not_followed(self):
        sentinel = support.make_sentinel(self)
        target = os.path.join(self.root, "t")
        make_tree(target, {"victim/inner.txt": b"x"})
        victim = os.path.join(target, "victim")
        moved = os.path.join(self.root, "moved-away")
        real_list_dir = cleanup._list_dir
        swapped = []

        def list_then_swap(fd):
            listed = real_list_dir(fd)
            if not swapped and any(entry[0] == "victim" for entry in listed):
                # The attacker's move, exactly between listing and deletion.
                os.rename(victim, moved)
                os.symlink(sentinel, victim)
                swapped.append(True)
            return listed

        with mock.patch.object(cleanup, "_list_dir", list_then_swap):
            result = cleanup.remove_paths([target])
        self.assertEqual(swapped, [True])
        self.assertTrue(result.ok, result.problems)
        self.assertFalse(os.path.lexists(target))
        self.assertTrue(os.path.exists(os.path.join(moved, "inner.txt")))

    def test_racing_swapper_thread_never_reaches_sentinel(self):
        sentinel = support.make_sentinel(self)
        deadline = time.monotonic() + 2.0
        rounds = 0
        while time.monotonic() < deadline:
            rounds += 1
            target = os.path.join(self.root, "race%d" % rounds)
            make_tree(target, {"d%d/f" % i: b"x" for i in range(30)})
            stop = threading.Event()

            def swap():
                name = os.path.join(target, "d15")
                while not stop.is_set():
                    try:
                        os.rename(name, name + ".away")
                        os.symlink(sentinel, name)
                    except OSError:
                        return
            swapper = threading.Thread(target=swap)
            swapper.start()
            cleanup.remove_paths([target])
            stop.set()
            swapper.join()
            cleanup.remove_paths([target, os.path.join(target, "d15.away")])
        self.assertGreater(rounds, 1)

    @support.needs("removing open files")
    def test_files_held_open_are_removed(self):
        target = os.path.join(self.root, "t")
        make_tree(target, {"open.txt": b"data"})
        with open(os.path.join(target, "open.txt"), "rb"):
            result = cleanup.remove_paths([target])
        self.assertTrue(result.ok, result.problems)
        self.assertFalse(os.path.lexists(target))

    def test_read_only_content_is_removed_as_root_too(self):
        target = os.path.join(self.root, "t")
        make_tree(target, {"ro/file": b"x", "none/inner/f": b"y", "noexec/g": b"z"})
        os.chmod(os.path.join(target, "ro", "file"), 0o400)
        os.chmod(os.path.join(target, "ro"), 0o500)
        os.chmod(os.path.join(target, "none"), 0o000)
        os.chmod(os.path.join(target, "noexec"), 0o600)
        result = cleanup.remove_paths([target])
        self.assertTrue(result.ok, result.problems)
        self.assertFalse(os.path.lexists(target))

    def test_long_and_non_utf8_names(self):
        target = os.path.join(self.root, "t")
        os.mkdir(target)
        long_name = "n" * 255
        make_tree(target, {long_name: b"x", long_name[:250] + "/" + long_name: b"y"})
        raw = os.fsencode(target) + b"/\xff\xfe-not-utf8"
        os.mkdir(raw)
        with open(raw + b"/\xe9t\xe9", "wb") as handle:
            handle.write(b"z")
        result = cleanup.remove_paths([target])
        self.assertTrue(result.ok, result.problems)
        self.assertEqual(result.files, 3)
        self.assertFalse(os.path.lexists(target))

    def test_hundred_thousand_files_in_one_directory(self):
        target = os.path.join(self.root, "many")
        os.mkdir(target)
        for index in range(100000):
            os.close(os.open(os.path.join(target, str(index)), os.O_CREAT | os.O_WRONLY, 0o600))
        result = cleanup.remove_paths([target])
        self.assertTrue(result.ok, result.problems[:3])
        self.assertEqual((result.files, result.dirs), (100000, 1))

    @support.needs("fd limits")
    def test_tree_5000_deep_with_only_128_fds_allowed(self):
        # A child with a low fd limit proves depth is bounded by neither recursion nor fds.
        completed = support.run_python(["-c", textwrap.dedent("""
            import os, resource, sys, tempfile
            from tempguard import cleanup
            resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
            sys.setrecursionlimit(200)
            top = tempfile.mkdtemp()
            fd = os.open(top, os.O_RDONLY)
            for level in range(5000):
                os.mkdir("d", dir_fd=fd)
                with open(os.open("f", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=fd), "wb") as f:
                    f.write(b"x")
                child = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
            os.close(fd)
            result = cleanup.remove_paths([top])
            print(result.files, result.dirs, len(result.problems), os.path.lexists(top))
        """)])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout.split(), ["5000", "5001", "0", "False"])

    def test_path_based_fallback_removes_tree_and_keeps_links_as_links(self):
        sentinel = support.make_sentinel(self)
        target = os.path.join(self.root, "t")
        make_tree(target, {"a/b": b"1"})
        os.symlink(sentinel, os.path.join(target, "a", "link"))
        with mock.patch.object(cleanup, "_use_fd_functions", False):
            result = cleanup.remove_paths([target])
        self.assertTrue(result.ok, result.problems)
        self.assertEqual((result.files, result.dirs), (2, 2))
        self.assertFalse(os.path.lexists(target))


class UnprivilegedCleanupTest(unittest.TestCase):
    """Permission cases prove nothing as root: these run as uid 65534."""

    def test_permissions_repaired_inside_root_never_on_parent_or_link_target(self):
        report = support.run_child(self, """
            import os, stat
            from tempguard import cleanup
            sentinel = os.path.join(WORK, "sentinel")
            os.mkdir(sentinel)
            with open(os.path.join(sentinel, "f"), "w") as h:
                h.write("keep")
            os.chmod(sentinel, 0o500)
            t = os.path.join(WORK, "t")
            for sub in ("none/inner", "ro", "noexec"):
                os.makedirs(os.path.join(t, sub))
            for sub in ("none/inner/f", "ro/f", "noexec/f"):
                open(os.path.join(t, sub), "w").close()
            os.symlink(sentinel, os.path.join(t, "none", "link"))
            os.chmod(os.path.join(t, "ro", "f"), 0o400)
            os.chmod(os.path.join(t, "ro"), 0o500)
            os.chmod(os.path.join(t, "none", "inner"), 0o000)
            os.chmod(os.path.join(t, "none"), 0o000)
            os.chmod(os.path.join(t, "noexec"), 0o600)
            # Stuck: its parent is not writable and is outside the removed path.
            locked = os.path.join(WORK, "locked")
            os.makedirs(os.path.join(locked, "stuck"))
            os.chmod(locked, 0o500)
            result = cleanup.remove_paths([t, os.path.join(locked, "stuck")])
            print(json.dumps({
                "t_exists": os.path.lexists(t),
                "problems": [[p.path, p.reason] for p in result.problems],
                "sentinel_mode": stat.S_IMODE(os.lstat(sentinel).st_mode),
                "sentinel_files": os.listdir(sentinel),
                "locked_mode": stat.S_IMODE(os.lstat(locked).st_mode),
                "stuck_exists": os.path.isdir(os.path.join(locked, "stuck")),
                "uid": os.getuid(),
            }))
            os.chmod(locked, 0o700)
            os.chmod(sentinel, 0o700)
        """)
        self.assertNotEqual(report["uid"], 0)
        self.assertFalse(report["t_exists"], report["problems"])
        self.assertEqual(report["sentinel_mode"], 0o500)
        self.assertEqual(report["sentinel_files"], ["f"])
        self.assertEqual(report["locked_mode"], 0o500, "parent outside the root was chmod-ed")
        self.assertTrue(report["stuck_exists"])
        self.assertEqual(len(report["problems"]), 1, report["problems"])
        path, reason = report["problems"][0]
        self.assertTrue(path.endswith(os.path.join("locked", "stuck")), path)
        self.assertIn("ermission", reason)


if __name__ == "__main__":
    unittest.main()
