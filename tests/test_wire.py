"""What crosses processes comes back unchanged (tempguard.wire, tempguard.handoff), and the
JSON report is UTF-8."""

import base64
import json
import os
import pickle
import unittest

from tempguard import handoff, jsonreport as report, wire
from tempguard.children import ChildDir
from tempguard.records import Leak, TestRecord
from tempguard.settings import Settings


def _record(test_id, leaks=(), unattributed=()):
    record = TestRecord(test_id)
    record.outcome, record.created, record.cleaned, record.bytes = "failed", 3, 2, 40
    record.leaks, record.unattributed = list(leaks), list(unattributed)
    record.kept, record.not_kept = "/tmp/tgx/kept/t", ["/tmp/tgx/t/fifo: a FIFO"]
    record.cleanup_errors, record.notes = ["/tmp/x: busy"], ["a note"]
    record.cleanup_seconds = 0.25
    return record


def _fields(record):
    return {name: getattr(record, name) for name in TestRecord.__slots__}


class WireTest(unittest.TestCase):

    def test_records_survive_the_trip_through_json(self):
        line = {"file": "/src/t.py", "line": 5, "function": "test_x", "stack": []}
        leaks = [Leak("/tmp/tgx/t/a%d" % number, "file", "sandbox", "test", "t.T.test_x", line)
                 for number in range(3)]
        leaks.append(Leak(os.fsdecode(b"/tmp/tgx/t/\xff"), "dir", "sandbox", "exit", None,
                          {"forked": 42}))
        unattributed = [Leak("/tmp/foreign", "file", "outside", "test", "t.T.test_x", None)]
        records = [_record("t.T.test_x", leaks, unattributed), _record("t.T.test_y")]
        fixtures = [_record("setUpModule (t)")]
        payload = json.loads(json.dumps(wire.dump(records, fixtures)))
        self.assertEqual(len(payload["origins"]), 2)  # the line's, written once; the fork's
        loaded, loaded_fixtures = wire.load(payload)
        self.assertEqual([_fields(record) for record in loaded],
                         [_fields(record) for record in records])
        self.assertEqual([_fields(record) for record in loaded_fixtures],
                         [_fields(record) for record in fixtures])
        origins = {id(leak.origin) for leak in loaded[0].leaks[:3]}
        self.assertEqual(len(origins), 1)  # one object again, as in the test process

    def test_records_survive_django_s_pickling_and_xdist_s_json(self):
        records = [_record("t.T.test_x", [Leak("/tmp/tgx/t/a", "file", "sandbox", "test",
                                               "t.T.test_x", {"file": "/src/t.py"})])]
        for trip in (lambda data: pickle.loads(pickle.dumps(data)),
                     lambda data: json.loads(json.dumps(data))):
            loaded, _fixtures = wire.load(trip(wire.dump(records)))
            self.assertEqual([_fields(record) for record in loaded],
                             [_fields(record) for record in records])

    def test_late_failures_travel_with_the_records(self):
        """Django's workers send the leaks they confirmed after a test's line, in fail mode;
        the key was written and read outside wire, where no version covered it."""
        late = [("setUpClass (t.T)", "left 1 temporary entry behind")]
        payload = json.loads(json.dumps(wire.dump([_record("t.T.test_x")], (), late)))
        self.assertEqual(wire.late_failures(payload), late)
        loaded, _fixtures = wire.load(payload)
        self.assertEqual([record.id for record in loaded], ["t.T.test_x"])
        self.assertEqual(wire.late_failures(wire.dump([])), [])

    def test_a_payload_of_another_version_is_refused(self):
        payload = wire.dump([_record("t.T.test_x")])
        payload["version"] = wire.VERSION + 1
        with self.assertRaisesRegex(ValueError, "wire version %d, not %d"
                                    % (wire.VERSION + 1, wire.VERSION)):
            wire.load(payload)
        with self.assertRaisesRegex(ValueError, "wire version None"):
            wire.load({"records": []})


class HandoffTest(unittest.TestCase):

    def test_the_hand_off_survives_the_trip_through_json(self):
        quiet, busy, fixture = _record("t.T.quiet"), _record("t.T.busy"), _record("setUpClass")
        quiet.leaks = quiet.unattributed = quiet.not_kept = quiet.notes = []
        quiet.cleanup_errors, quiet.kept, quiet.outcome = [], None, "passed"
        busy.leaks = [Leak("/tmp/tgx/t/left", "file", "sandbox", "test", "t.T.busy", None)]
        waiting = [handoff.Waiting("sandbox", "/tmp/tgx/t", "late", (1, 2), "file", "t.T.busy",
                                   busy, False, {"file": "/src/t.py", "line": 3},
                                   ["/tmp/tgx/kept/t.T.busy", [1, 9]]),
                   handoff.Waiting("outside", "/tmp", "cwd", (1, 3), "dir", "setUpClass",
                                   fixture, True, None, None)]
        child = ChildDir("ab1", "/tmp/tgx/ab1", None)
        child.owner, child.record = "t.T.quiet", quiet
        child.processes, child.names_at_end = [(["python3", "w.py"], 77)], frozenset(["x"])
        for complete in (True, False):
            with self.subTest(complete=complete):
                payload = handoff.dump([quiet, busy], [fixture], waiting, [child],
                                       counts={"run": 2}, tail="OK\n", complete=complete)
                loaded = handoff.load(json.loads(json.dumps(payload)))
                every = loaded.records + loaded.fixture_records
                self.assertEqual([entry._replace(record=entry.record.id)
                                  for entry in loaded.waiting],
                                 [entry._replace(record=entry.record.id,
                                                 kept=entry.kept and list(entry.kept))
                                  for entry in waiting])
                self.assertTrue(all(entry.record in every for entry in loaded.waiting))
                (lingering,) = loaded.children_running
                self.assertEqual((lingering.path, lingering.owner, lingering.record.id,
                                  lingering.processes, lingering.names_at_end),
                                 ("/tmp/tgx/ab1", "t.T.quiet", "t.T.quiet",
                                  [(["python3", "w.py"], 77)], frozenset(["x"])))
                self.assertEqual((loaded.counts, loaded.tail, loaded.reported,
                                  loaded.usage_error),
                                 ({"run": 2, "passed": 1}, "OK\n", frozenset(["left"]), None))
                self.assertEqual(sum(record.created for record in every), 9)  # totals kept
        self.assertEqual(handoff.load(handoff.refusal("bad -k")).usage_error, "bad -k")

    def test_a_hand_off_of_another_version_is_refused(self):
        for payload in (dict(handoff.dump([], [], [], []), version=wire.VERSION + 1),
                        dict(handoff.refusal("x"), version=wire.VERSION + 1)):
            with self.assertRaises(ValueError):
                handoff.load(payload)


class ReportEncodingTest(unittest.TestCase):

    def test_every_string_of_the_report_is_utf_8_and_names_keep_their_bytes(self):
        leak = Leak(os.fsdecode(b"/tmp/tgx/t/bad-\xff\xfe"), "file", "sandbox", "test",
                    "t.T.test_\udcff", None)
        document = report._valid_utf8(report.run_report([_record("t.T.test_\udcff", [leak])],
                                                        [], Settings(environ={})))
        text = json.dumps(document, ensure_ascii=False)
        text.encode("utf-8")  # a lone surrogate would raise here
        (entry,) = document["tests"][0]["leaks"]
        self.assertEqual(entry["path"], "/tmp/tgx/t/bad-\\xff\\xfe")
        self.assertEqual(base64.b64decode(entry["path_bytes"]), os.fsencode(leak.path))
        self.assertEqual(document["tests"][0]["id"], "t.T.test_\\xff")


if __name__ == "__main__":
    unittest.main()
