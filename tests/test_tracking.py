"""Tracking contexts: creation, adoption, nesting, threads, forks and cleanup."""

import os
import pathlib
import stat
import tempfile
import textwrap
import threading
import unittest

import tempguard
from tests import support


class CreateTest(unittest.TestCase):

    def setUp(self):
        self.ctx = tempguard.tracking("create")
        self.ctx.__enter__()
        self.addCleanup(self.ctx.__exit__, None, None, None)

    def test_file_content_mode_and_recognisable_name(self):
        text = self.ctx.file("h\u00e9llo", suffix=".txt")
        raw = self.ctx.file(b"\x00\xff", prefix="custom-")
        empty = self.ctx.file()
        latin = self.ctx.file("\u00e9", encoding="latin-1")
        self.assertIsInstance(text, pathlib.Path)
        self.assertEqual(text.read_bytes(), "h\u00e9llo".encode("utf-8"))
        self.assertEqual(raw.read_bytes(), b"\x00\xff")
        self.assertEqual(empty.read_bytes(), b"")
        self.assertEqual(latin.read_bytes(), b"\xe9")
        self.assertTrue(text.name.startswith("tempguard-") and text.name.endswith(".txt"))
        self.assertTrue(raw.name.startswith("custom-"))
        self.assertEqual(stat.S_IMODE(os.lstat(str(text)).st_mode), 0o600)
        self.assertEqual(str(text.parent), tempfile.gettempdir())
        self.assertEqual(len({text, raw, empty, latin}), 4)

    def test_directory_mode(self):
        path = self.ctx.directory(suffix="-d")
        self.assertTrue(path.is_dir())
        self.assertTrue(path.name.endswith("-d"))
        self.assertEqual(stat.S_IMODE(os.lstat(str(path)).st_mode), 0o700)

    def test_tree_builds_the_spec(self):
        root = self.ctx.tree({"a/b.txt": "text", "bin/x": b"\x00", "empty/": None,
                              "sub": {"c.txt": "...", "deeper": {"d": ""}}, "blank": None})
        self.assertEqual((root / "a" / "b.txt").read_text(), "text")
        self.assertEqual((root / "bin" / "x").read_bytes(), b"\x00")
        self.assertTrue((root / "empty").is_dir())
        self.assertEqual((root / "sub" / "c.txt").read_text(), "...")
        self.assertEqual((root / "sub" / "deeper" / "d").read_text(), "")
        self.assertTrue((root / "blank").is_file())
        self.assertEqual(self.ctx.tracked_paths(), [root])

    def test_tree_in_given_root_tracks_entries_and_leaves_root(self):
        outer = tempfile.mkdtemp()
        self.addCleanup(support._remove, outer)
        os.mkdir(os.path.join(outer, "existing"))
        with tempguard.tracking() as inner:
            inner.tree({"existing/new.txt": "n", "fresh/f": "f"}, root=outer)
            self.assertEqual(sorted(p.name for p in inner.tracked_paths()),
                             ["fresh", "new.txt"])
        self.assertEqual(os.listdir(outer), ["existing"])
        self.assertEqual(os.listdir(os.path.join(outer, "existing")), [])

    def test_unsafe_tree_keys_raise_before_anything_is_written(self):
        before = sorted(os.listdir(tempfile.gettempdir()))
        for spec in ({"ok.txt": "x", "/etc/evil": "x"}, {"ok.txt": "x", "../evil": "x"},
                     {"ok.txt": "x", "a/../../evil": "x"}, {"sub": {"..": {"evil": "x"}}},
                     {"a": "file", "a/b": "clash"}, {"nul\0": "x"}, {"": "x"},
                     {"dir/": "text"}):
            with self.subTest(spec=spec):
                with self.assertRaises(tempguard.UnsafePathError) as caught:
                    self.ctx.tree(spec)
                self.assertIsInstance(caught.exception, ValueError)
        for spec, error in (({1: "x"}, TypeError), ({"a": 3}, TypeError), (["a"], TypeError)):
            with self.subTest(spec=spec), self.assertRaises(error):
                self.ctx.tree(spec)
        self.assertEqual(sorted(os.listdir(tempfile.gettempdir())), before)
        self.assertEqual(self.ctx.stats.created, 0)

    def test_tree_refuses_a_link_where_a_directory_should_be(self):
        sentinel = support.make_sentinel(self)
        outer = self.ctx.directory()
        os.symlink(sentinel, str(outer / "linked"))
        with self.assertRaises(tempguard.UnsafePathError):
            self.ctx.tree({"linked/evil.txt": "x"}, root=outer)

    def test_bad_arguments_are_clear_errors(self):
        before = sorted(os.listdir(tempfile.gettempdir()))
        cases = [(lambda: self.ctx.file(42), TypeError),
                 (lambda: self.ctx.file("x", suffix="/etc"), tempguard.UnsafePathError),
                 (lambda: self.ctx.file("x", prefix="a\0b"), tempguard.UnsafePathError),
                 (lambda: self.ctx.directory(prefix=3), TypeError),
                 (lambda: self.ctx.register(""), ValueError),
                 (lambda: self.ctx.register(b"/tmp"), TypeError),
                 (lambda: self.ctx.register(None), TypeError),
                 (lambda: self.ctx.register("x\0y"), ValueError),
                 (lambda: self.ctx.tree({}, root="/nonexistent/root"), NotADirectoryError),
                 (lambda: tempguard.tracking(name=3), TypeError)]
        for call, error in cases:
            with self.assertRaises(error):
                call()
        self.assertEqual(sorted(os.listdir(tempfile.gettempdir())), before)


class RegisterTest(unittest.TestCase):

    def test_registered_file_and_directory_are_removed(self):
        directory = tempfile.mkdtemp()
        handle, path = tempfile.mkstemp()
        os.close(handle)
        with open(os.path.join(directory, "inside"), "w") as inside:
            inside.write("x")
        with tempguard.tracking() as ctx:
            self.assertEqual(ctx.register(path), pathlib.Path(path))
            ctx.register(pathlib.Path(directory))
            self.assertEqual(ctx.stats.adopted, 2)
        self.assertFalse(os.path.lexists(path))
        self.assertFalse(os.path.lexists(directory))
        self.assertEqual(ctx.stats.cleaned, 3)

    def test_registering_a_missing_path_names_it(self):
        with tempguard.tracking() as ctx:
            with self.assertRaises(FileNotFoundError) as caught:
                ctx.register("/nonexistent/tempguard-missing")
        self.assertIn("/nonexistent/tempguard-missing", str(caught.exception))

    def test_registering_a_protected_directory_is_refused(self):
        with tempguard.tracking() as ctx:
            for path in ("/", tempfile.gettempdir(), os.getcwd(),
                         os.path.dirname(os.getcwd()), os.path.expanduser("~")):
                with self.subTest(path=path), self.assertRaises(tempguard.UnsafePathError):
                    ctx.register(path)
        self.assertTrue(os.path.isdir(tempfile.gettempdir()))

    def test_register_file_and_directory_check_the_kind(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(support._remove, directory)
        with tempguard.tracking():
            with self.assertRaises(IsADirectoryError):
                tempguard.register_file(directory)
            with self.assertRaises(NotADirectoryError):
                tempguard.register_directory(__file__)


class LifecycleTest(unittest.TestCase):

    def test_cleanup_after_exception_inside_with(self):
        with self.assertRaises(RuntimeError):
            with tempguard.tracking() as ctx:
                path = ctx.file("x")
                raise RuntimeError("boom")
        self.assertFalse(path.exists())
        self.assertTrue(ctx.closed)

    def test_cleanup_is_idempotent_and_reports_counts(self):
        with tempguard.tracking() as ctx:
            ctx.file("abc")
            ctx.tree({"a/b": "1234"})
            first = ctx.cleanup()
            second = ctx.cleanup()
        self.assertEqual((first.files, first.dirs, first.bytes), (2, 2, 7))
        self.assertEqual(second.removed, 0)
        self.assertEqual(ctx.stats.as_dict(), {"created": 4, "adopted": 0, "cleaned": 4,
                                               "bytes": 7, "cleanup_errors": 0})

    def test_closed_context_refuses_new_files_and_reentry(self):
        with tempguard.tracking() as ctx:
            pass
        with self.assertRaises(tempguard.TempGuardError):
            ctx.file("late")
        with self.assertRaises(tempguard.TempGuardError):
            ctx.__enter__()
        self.assertEqual(ctx.tracked_paths(), [])

    def test_nested_contexts(self):
        with tempguard.tracking("outer") as outer:
            outer_file = tempguard.create_temp_file("o")
            with tempguard.tracking("inner") as inner:
                self.assertIs(tempguard.current_context(), inner)
                inner_file = tempguard.create_temp_file("i")
            self.assertFalse(inner_file.exists())
            self.assertTrue(outer_file.exists())
            self.assertIs(tempguard.current_context(), outer)
        self.assertFalse(outer_file.exists())

    def test_module_functions_use_the_current_context(self):
        with tempguard.tracking() as ctx:
            made = [tempguard.create_temp_file(), tempguard.create_temp_directory(),
                    tempguard.create_temp_tree({"x": "y"})]
            handle, adopted = tempfile.mkstemp()
            os.close(handle)
            tempguard.register_file(adopted)
            tempguard.register_directory(tempfile.mkdtemp())
            self.assertEqual(len(ctx.tracked_paths()), 5)
        self.assertFalse(any(path.exists() for path in made))
        self.assertFalse(os.path.exists(adopted))

    def test_process_totals_grow(self):
        before = tempguard.get_stats()
        with tempguard.tracking() as ctx:
            ctx.file("12")
        after = tempguard.get_stats()
        self.assertEqual(after.created - before.created, 1)
        self.assertEqual(after.cleaned - before.cleaned, 1)
        self.assertEqual(after.bytes - before.bytes, 2)

    def test_cleanup_all_cleans_open_contexts(self):
        with tempguard.tracking() as ctx:
            path = ctx.file()
            result = tempguard.cleanup_all()
            self.assertFalse(path.exists())
            self.assertGreaterEqual(result.files, 1)


class ThreadTest(unittest.TestCase):

    def test_worker_thread_falls_back_to_main_thread_context(self):
        made = []
        with tempguard.tracking() as ctx:
            worker = threading.Thread(target=lambda: made.append(tempguard.create_temp_file()))
            worker.start()
            worker.join()
            self.assertEqual(ctx.tracked_paths(), made)
        self.assertFalse(made[0].exists())

    def test_thread_with_its_own_context(self):
        seen = []

        def work():
            with tempguard.tracking("thread") as own:
                seen.append(tempguard.current_context() is own)
        with tempguard.tracking() as ctx:
            worker = threading.Thread(target=work)
            worker.start()
            worker.join()
            self.assertIs(tempguard.current_context(), ctx)
        self.assertEqual(seen, [True])

    def test_threads_creating_while_context_closes_leave_nothing(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(support._remove, directory)
        made, refused = [], []
        ctx = tempguard.tracking()
        ctx.__enter__()
        started = threading.Barrier(5)

        def work():
            started.wait()
            for _ in range(300):
                try:
                    made.append(ctx.tree({"f": "x"}, root=tempfile.mkdtemp(dir=directory)))
                except tempguard.TempGuardError:
                    refused.append(True)
                    return
        workers = [threading.Thread(target=work) for _ in range(4)]
        for worker in workers:
            worker.start()
        started.wait()
        ctx.__exit__(None, None, None)
        for worker in workers:
            worker.join()
        leftovers = [name for sub in os.listdir(directory)
                     for name in os.listdir(os.path.join(directory, sub))]
        self.assertEqual(leftovers, [])
        self.assertTrue(made or refused)


class ProcessTest(unittest.TestCase):

    def test_default_context_is_cleaned_at_exit(self):
        completed = support.run_python(["-c", textwrap.dedent("""
            import tempguard
            print(tempguard.create_temp_file("x"))
        """)])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertFalse(os.path.exists(completed.stdout.strip()))

    @support.needs("fork")
    def test_forked_child_exiting_never_removes_parent_files(self):
        completed = support.run_python(["-c", textwrap.dedent("""
            import os, sys, tempguard
            default_file = tempguard.create_temp_file("default")
            with tempguard.tracking() as ctx:
                mine = ctx.file("mine")
                pid = os.fork()
                if pid == 0:
                    ctx.cleanup()
                    tempguard.cleanup_all()
                    sys.exit(0)  # runs the child's atexit handlers too
                os.waitpid(pid, 0)
                print(mine.exists(), default_file.exists())
            print(mine.exists())
        """)])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(completed.stdout.split(), ["True", "True", "False"])


if __name__ == "__main__":
    unittest.main()
