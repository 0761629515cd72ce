"""The records cross processes unchanged (tempguard.wire), and the JSON report is UTF-8."""

import base64
import json
import os
import unittest

from tempguard import report, wire
from tempguard.records import Leak, TestRecord


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

    def test_a_payload_of_another_version_is_refused(self):
        payload = wire.dump([_record("t.T.test_x")])
        payload["version"] = wire.VERSION + 1
        with self.assertRaisesRegex(ValueError, "wire version %d, not %d"
                                    % (wire.VERSION + 1, wire.VERSION)):
            wire.load(payload)
        with self.assertRaisesRegex(ValueError, "wire version None"):
            wire.load({"records": []})


class ReportEncodingTest(unittest.TestCase):

    def test_every_string_of_the_report_is_utf_8_and_names_keep_their_bytes(self):
        leak = Leak(os.fsdecode(b"/tmp/tgx/t/bad-\xff\xfe"), "file", "sandbox", "test",
                    "t.T.test_\udcff", None)
        document = report._valid_utf8(report.run_report([_record("t.T.test_\udcff", [leak])],
                                                        []))
        text = json.dumps(document, ensure_ascii=False)
        text.encode("utf-8")  # a lone surrogate would raise here
        (entry,) = document["tests"][0]["leaks"]
        self.assertEqual(entry["path"], "/tmp/tgx/t/bad-\\xff\\xfe")
        self.assertEqual(base64.b64decode(entry["path_bytes"]), os.fsencode(leak.path))
        self.assertEqual(document["tests"][0]["id"], "t.T.test_\\xff")


if __name__ == "__main__":
    unittest.main()
