"""What a run tells people (a text section after unittest's summary) and programs (JSON)."""

import json
import os

__all__ = ["REPORT_VERSION", "display", "leak_message", "note_kept", "run_report",
           "size", "totals", "write_section", "write_json"]

REPORT_VERSION = 1
_OUTCOMES = ("passed", "failed", "error", "skipped", "expected_failure", "unexpected_success")
_OUTSIDE_NOTE = "outside the sandbox; in parallel runs it may belong to another process"


def display(path):
    """A path fit for any terminal: undecodable bytes shown as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _leak_line(where, kind, path):
    note = "  (%s)" % _OUTSIDE_NOTE if where == "outside" else ""
    return "%-7s %-4s %s%s" % (where, kind, display(path), note)


def leak_message(test_id, leaks):
    """The failure message of a test that leaked, in fail mode."""
    return "\n".join(["tempguard: %s left %d temporary %s behind:"
                      % (test_id, len(leaks), "entry" if len(leaks) == 1 else "entries")]
                     + ["  " + _leak_line(leak.where, leak.kind, leak.path) for leak in leaks])


def note_kept(result, test, kept):
    """Add where a failed test's files were kept to its failure report in *result*."""
    note = "\ntempguard kept this test's temporary files in: %s\n" % display(kept)
    for reports in (getattr(result, "failures", []), getattr(result, "errors", [])):
        for index, (failed_test, text) in enumerate(reports):
            if failed_test is test:
                reports[index] = (failed_test, text + note)


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def size(nbytes):
    """Bytes for people: 512 B, 4.0 KiB, 1.5 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (nbytes, unit)
        nbytes /= 1024.0


def totals(records, fixture_records):
    """Counts over a run: outcomes of the tests, and what tests and fixtures made and left."""
    everything = list(records) + list(fixture_records)
    leaks = [leak for record in everything for leak in record.leaks]
    counts = {outcome: 0 for outcome in _OUTCOMES}
    for record in records:
        if record.outcome in counts:
            counts[record.outcome] += 1
    counts.update({
        "tests": len(records),
        "created": sum(record.created for record in everything),
        "cleaned": sum(record.cleaned for record in everything),
        "leaked": len(leaks),
        "leaked_files": sum(1 for leak in leaks if leak.kind == "file"),
        "leaked_dirs": sum(1 for leak in leaks if leak.kind == "dir"),
        "bytes": sum(record.bytes for record in everything),
        "cleanup_seconds": round(sum(record.cleanup_seconds for record in everything), 6),
        "cleanup_errors": sum(len(record.cleanup_errors) for record in everything),
        "kept": sum(1 for record in records if record.kept),
    })
    return counts


def run_report(records, fixture_records):
    """The JSON document of a run."""
    return {"version": REPORT_VERSION,
            "tests": [record.as_json() for record in records],
            "fixtures": [record.as_json() for record in fixture_records],
            "totals": totals(records, fixture_records)}


def write_section(stream, records, fixture_records):
    """tempguard's lines after unittest's summary: leaks, kept paths, totals."""
    everything = list(records) + list(fixture_records)
    _section(stream, "leaked temporary files", [r for r in everything if r.leaks],
             lambda record: [_leak_line(leak.where, leak.kind, leak.path)
                             for leak in record.leaks])
    _section(stream, "kept temporary files", [r for r in everything if r.kept],
             lambda record: [display(record.kept)])
    _section(stream, "could not remove", [r for r in everything if r.cleanup_errors],
             lambda record: [display(problem) for problem in record.cleanup_errors])
    counts = totals(records, fixture_records)
    stream.write("\ntempguard: %d created, %d cleaned, %d leaked (%s, %s), "
                 "%s, %.3fs in cleanup\n" % (
                     counts["created"], counts["cleaned"], counts["leaked"],
                     _plural(counts["leaked_files"], "file"),
                     _plural(counts["leaked_dirs"], "dir"), size(counts["bytes"]),
                     counts["cleanup_seconds"]))
    stream.flush()


def _section(stream, title, records, lines_of):
    """A titled block: each record's id, then its lines, indented."""
    if not records:
        return
    stream.write("\ntempguard: %s\n" % title)
    for record in records:
        stream.write("%s\n" % record.id)
        for line in lines_of(record):
            stream.write("  %s\n" % line)


def write_json(path, report):
    """Write the report atomically, so a reader never sees half of it."""
    path = os.path.abspath(path)
    partial = path + ".partial"
    with open(partial, "w") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    os.replace(partial, path)
