"""The judge in process (tempguard.judge): real directories held by fd, hand-made candidates."""

import os
import tempfile
import unittest

from tempguard import copying, held, ownership, settings
from tempguard.judge import Judge, existing, holds_cwd
from tempguard.keep import Keeper
from tempguard.records import TestRecord
from tests import support


class JudgeTest(unittest.TestCase):

    def setUp(self):
        self.dir = support.scratch_dir(self)
        self.place = held.HeldDirectory(self.dir)
        self.addCleanup(self.place.close)
        self.listed = []
        self.judge = Judge(settings.Settings(environ={}), on_confirm=self.listed.append,
                           hint_pids=lambda record: [4242] if record.id == "t.hinted" else [],
                           keeper=Keeper(settings.Settings(environ={})))

    def candidate(self, name, record, where="sandbox", kind="file", origin=None, make=True):
        path = os.path.join(self.dir, name)
        if make:
            if kind == "dir":
                os.mkdir(path)
            else:
                with open(path, "w") as handle:
                    handle.write("x")
        st = os.lstat(path)
        return ownership.Candidate(self.place, name, (st.st_dev, st.st_ino), kind, where,
                                   record.id, record, ownership.atexit_mark(), origin)

    def test_a_leak_is_confirmed_at_once_and_removed_only_at_the_end(self):
        record = TestRecord("t.leaky")
        leftover = self.candidate("left", record)
        confirmed = self.judge.judge(self.judge.settle([leftover]), "test", None)
        self.assertEqual([(r.id, [os.path.basename(leak.path) for leak in leaks])
                          for r, leaks in confirmed], [("t.leaky", ["left"])])
        self.assertEqual(record.leaks[0].judged, "test")
        self.assertEqual(self.listed, [record])
        # A later test may still read it: it stays until the end, and is no one else's.
        self.assertTrue(os.path.exists(os.path.join(self.dir, "left")))
        self.assertTrue(self.judge.is_judged(self.place, "left", leftover.identity))
        self.judge.remove_judged()
        self.assertEqual(os.listdir(self.dir), [])
        self.assertEqual(record.cleanup_errors, [])
        self.assertFalse(self.judge.is_judged(self.place, "left", leftover.identity))

    def test_a_later_owner_waits_and_its_end_judges_at_its_level(self):
        record = TestRecord("t.in_class")
        leftover = self.candidate("for_class", record)
        self.assertEqual(self.judge.judge([leftover], "test", "class"), [])
        self.assertEqual(record.leaks, [])
        self.assertEqual(self.judge.judge_held("module", "module"), [])
        confirmed = self.judge.judge_held("class", "class")
        self.assertEqual([leak.judged for _record, leaks in confirmed for leak in leaks],
                         ["class"])
        self.assertEqual(self.judge.judge_held("class", "class"), [])  # taken once

    def test_an_owner_gone_by_its_end_leaves_nothing_to_judge(self):
        record = TestRecord("t.cleaned_by_class")
        leftover = self.candidate("removed_later", record)
        self.judge.judge([leftover], "test", "class")
        os.unlink(os.path.join(self.dir, "removed_later"))
        self.assertEqual(self.judge.judge_held("class", "class"), [])
        self.assertEqual(record.leaks, [])

    def test_a_replaced_entry_is_noted_and_left_alone(self):
        record = TestRecord("t.replaced")
        leftover = self.candidate("swapped", record)
        path = os.path.join(self.dir, "swapped")
        with open(path + ".new", "w") as handle:  # made while the old one exists: another inode
            handle.write("theirs")
        os.replace(path + ".new", path)  # another entry took its name
        self.assertEqual(existing([leftover]), [])
        self.assertEqual(record.notes, ["%s: replaced by another entry since it was seen; "
                                        "left alone" % path])
        self.assertEqual(self.judge.judge(self.judge.settle([leftover]), "test", None), [])
        self.judge.remove_judged()
        with open(path) as handle:
            self.assertEqual(handle.read(), "theirs")

    def test_outside_without_evidence_is_unattributed_with_the_hint(self):
        hinted, plain = TestRecord("t.hinted"), TestRecord("t.plain")
        entries = [self.candidate("foreign1", hinted, where="outside"),
                   self.candidate("foreign2", plain, where="outside"),
                   self.candidate("ours", plain, where="outside", origin={"file": "t.py"})]
        confirmed = self.judge.judge(entries, "test", None)
        self.assertEqual([os.path.basename(leak.path) for _r, leaks in confirmed
                          for leak in leaks], ["ours"])
        self.assertEqual(hinted.unattributed[0].origin, {"children_alive": [4242]})
        self.assertIsNone(plain.unattributed[0].origin)
        self.judge.remove_judged()  # only sandbox entries are removed by the judge
        self.assertEqual(sorted(os.listdir(self.dir)), ["foreign1", "foreign2", "ours"])
        strict = Judge(settings.Settings(outside="strict", environ={}))
        record = TestRecord("t.strict")
        strict.judge([self.candidate("private", record, where="outside")], "test", None)
        self.assertEqual([os.path.basename(leak.path) for leak in record.leaks], ["private"])

    def test_an_entry_an_object_will_remove_at_exit_waits_for_exit(self):
        record = TestRecord("t.owned")
        handle = tempfile.NamedTemporaryFile(dir=self.dir)
        self.addCleanup(handle.close)
        owned = self.candidate(os.path.basename(handle.name), record, make=False)
        self.assertEqual(self.judge.judge([owned], "test", None), [])
        self.assertTrue(self.judge.waits_for_exit())
        self.assertEqual(self.judge.waiting_for_exit(), [(owned, False)])
        self.assertEqual(self.judge.waiting_for_exit(), [(owned, False)])  # not taken

    def test_the_cwd_is_never_removed_until_exit(self):
        record = TestRecord("t.cwd")
        here = self.candidate("here", record, kind="dir")
        path = os.path.join(self.dir, "here")
        previous = os.getcwd()
        os.chdir(path)
        try:
            self.assertTrue(holds_cwd(path))
            self.judge.judge([here], "test", None)
            self.judge.remove_judged()
            self.assertTrue(os.path.isdir(path))
            self.assertEqual(self.judge.waiting_for_exit(), [(here, True)])
        finally:
            os.chdir(previous)
        late, owned = self.judge.judge_exit()
        self.assertEqual((late, owned), ([], False))
        self.assertFalse(os.path.exists(path))

    def test_what_could_not_be_copied_is_moved_into_its_kept_dir(self):
        record = TestRecord("t.kept")
        leftover = self.candidate("big", record)
        kept = os.path.join(support.scratch_dir(self), "kept")
        os.mkdir(kept)
        st = os.lstat(kept)
        self.judge.keeper.keep_when_confirmed(leftover, (kept, (st.st_dev, st.st_ino)))
        self.assertEqual(self.judge.pending_move(leftover), (kept, (st.st_dev, st.st_ino)))
        self.judge.judge([leftover], "test", None)
        self.judge.remove_judged()
        self.assertEqual(os.listdir(kept), ["big"])
        self.assertEqual(os.listdir(self.dir), [])


    def test_a_leftover_gone_before_its_move_leaves_no_empty_kept_dir(self):
        """A failed test's leftover that its owner removed before it could be kept gave
        an empty kept dir, named in the report, and the run root stayed (send2trash)."""
        record = TestRecord("t.gone")
        leftover = self.candidate("vanishing", record)
        kept = os.path.join(support.scratch_dir(self), "t.gone")
        os.mkdir(kept)
        record.kept = kept
        st = os.lstat(kept)
        self.judge.keeper.keep_when_confirmed(leftover, (kept, (st.st_dev, st.st_ino)))
        self.judge.judge([leftover], "test", None)
        os.unlink(os.path.join(self.dir, "vanishing"))  # its owner removes it meanwhile
        self.judge.remove_judged()
        self.assertFalse(os.path.exists(kept))
        self.assertIsNone(record.kept)
        self.assertEqual(record.cleanup_errors, [])

    def test_nothing_is_copied_of_what_is_gone_and_nothing_is_said_missing(self):
        target = os.path.join(support.scratch_dir(self), "copy")
        self.assertEqual(copying.copy_entry(os.path.join(self.dir, "never-was"), target), [])
        self.assertFalse(os.path.lexists(target))


if __name__ == "__main__":
    unittest.main()
