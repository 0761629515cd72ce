"""What a run tells people (a text section after unittest's summary) and programs (JSON)."""

import collections
import fcntl
import json
import os
import tempfile

from . import origins as _origins

__all__ = ["REPORT_VERSION", "Described", "check_output_file", "display", "leak_message",
           "note_kept", "run_report", "size", "totals", "write_exit_notes",
           "write_invocation_totals", "write_late_section", "write_section", "write_json"]

REPORT_VERSION = 2
_OUTCOMES = ("passed", "failed", "error", "skipped", "expected_failure", "unexpected_success")
_OUTSIDE_NOTE = "outside the sandbox; in parallel runs it may belong to another process"
_UNATTRIBUTED_WHY = ("each appeared while the test named above it ran, but the audit hook "
                     "saw no process of this run make it: another program's, most likely")


class Described(object):
    """Stands for a test or fixture in unittest's failure lists, as its _ErrorHolder does:
    a late leak failure, or a line the supervisor prints for the test process."""

    failureException = AssertionError

    def __init__(self, description):
        self.description = description

    def id(self):
        return self.description

    def shortDescription(self):
        return None

    def __str__(self):
        return self.description


def display(path):
    """A path fit for any terminal: undecodable bytes shown as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _leak_lines(leak, origins):
    """A leak's line, and the line that says where it was made (see origins_mode)."""
    note = "  (%s)" % _OUTSIDE_NOTE if leak.where == "outside" else ""
    lines = ["%-7s %-4s %s%s" % (leak.where, leak.kind, display(leak.path), note)]
    if leak.origin is not None or origins == "on":
        lines.append("  " + display(_origins.describe(leak.origin)))
    return lines


def _unattributed_lines(entry):
    """An unattributed entry's line, and its hint if one of the run's children ran then."""
    lines = ["%-4s %s" % (entry.kind, entry.path)]
    if entry.origin is not None:
        lines.append("  " + _origins.describe(entry.origin))
    return lines


_JUDGED = {"test": "", "class": "at the end of its class", "module": "at the end of its module",
           "run": "at the end of the run", "exit": "after the interpreter exited",
           "child": "once the child processes that could still write it had exited"}


def origins_mode(setting):
    """What a report says of origins: on, off, or why they are unavailable."""
    if setting == "off":
        return "off"
    return "on" if _origins.AVAILABLE else _origins.UNAVAILABLE_REASON


def leak_message(test_id, leaks, origins="off"):
    """The failure message of a test that leaked, in fail mode."""
    judged = _JUDGED[leaks[0].judged] if leaks else ""
    return "\n".join(["tempguard: %s left %d temporary %s behind%s:"
                      % (test_id, len(leaks), "entry" if len(leaks) == 1 else "entries",
                         " (confirmed %s)" % judged if judged else "")]
                     + ["  " + line for leak in leaks for line in _leak_lines(leak, origins)])


def note_kept(result, test, kept):
    """Add where a failed test's files were kept to its failure report in *result*."""
    note = "\ntempguard kept this test's temporary files in: %s\n" % display(kept)
    for reports in (getattr(result, "failures", []), getattr(result, "errors", [])):
        if not isinstance(reports, list):
            continue  # a result that keeps no reports (Django's RemoteTestResult)
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


def totals(records, fixture_records, counts=None):
    """Counts over a run: outcomes of the tests, and what tests and fixtures made and left.

    *counts* are unittest's own outcome counts, where a result has them: they
    include tests that never started (decorator skips on 3.12+) and subTests.
    """
    everything = list(records) + list(fixture_records)
    leaks = [leak for record in everything for leak in record.leaks]
    outcome_counts = {outcome: 0 for outcome in _OUTCOMES}
    for record in records:
        if record.outcome in outcome_counts:
            outcome_counts[record.outcome] += 1
    outcome_counts["tests"] = len(records)
    outcome_counts.update(counts or {})
    outcome_counts.update({
        "created": sum(record.created for record in everything),
        "cleaned": sum(record.cleaned for record in everything),
        "leaked": len(leaks),
        "leaked_files": sum(1 for leak in leaks if leak.kind == "file"),
        "leaked_dirs": sum(1 for leak in leaks if leak.kind == "dir"),
        "unattributed": sum(len(record.unattributed) for record in everything),
        "bytes": sum(record.bytes for record in everything),
        "cleanup_seconds": round(sum(record.cleanup_seconds for record in everything), 6),
        "cleanup_errors": sum(len(record.cleanup_errors) for record in everything),
        "kept": sum(1 for record in records if record.kept),
    })
    return outcome_counts


def run_report(records, fixture_records, counts=None, origins="off"):
    """The JSON document of a run; *origins* is origins_mode()."""
    return {"version": REPORT_VERSION, "origins": origins,
            "tests": [record.as_json() for record in records],
            "fixtures": [record.as_json() for record in fixture_records],
            "totals": totals(records, fixture_records, counts)}


def _leak_blocks(records, origins, judged=None):
    """{owner id: leak lines}: a subTest's leaks under its own id."""
    blocks = collections.OrderedDict()
    for record in records:
        for leak in record.leaks:
            if judged is None or leak.judged == judged:
                blocks.setdefault(leak.owner or record.id, []).extend(_leak_lines(leak, origins))
    return blocks


def _blocks(records, lines_of):
    blocks = collections.OrderedDict()
    for record in records:
        lines = [display(line) for line in lines_of(record)]
        if lines:
            blocks.setdefault(record.id, []).extend(lines)
    return blocks


def write_section(stream, records, fixture_records, counts=None, origins="off"):
    """tempguard's lines after unittest's summary: leaks, kept paths, totals."""
    everything = [record for record in list(records) + list(fixture_records)
                  if record.leaks or record.unattributed or record.kept or record.not_kept
                  or record.cleanup_errors or record.notes]
    blocks = _leak_blocks(everything, origins)
    if blocks and origins not in ("on", "off"):
        blocks["(where each was made)"] = [origins]
    _section(stream, "leaked temporary files", blocks)
    unattributed = _blocks(everything, lambda record: [
        line for entry in record.unattributed for line in _unattributed_lines(entry)])
    if unattributed:
        unattributed["(why)"] = [
            _UNATTRIBUTED_WHY if origins == "on" else
            "origins are %s, so nothing outside the sandbox can be attributed" % origins,
            "never removed, never a failure; --outside strict (for a private temp dir) "
            "makes them leaks"]
    _section(stream, "appeared in the temp dir during the run; nothing shows this run made it",
             unattributed)
    _section(stream, "kept temporary files",
             _blocks(everything, lambda record: ([record.kept] if record.kept else [])
                     + ["not kept: " + item for item in record.not_kept]))
    _section(stream, "could not remove", _blocks(everything, lambda r: r.cleanup_errors))
    _section(stream, "notes", _blocks(everything, lambda r: r.notes))
    stream.write("\ntempguard: %s\n" % _totals_line(totals(records, fixture_records, counts)))
    stream.flush()


def write_invocation_totals(stream, report):
    """The totals of every process of a parallel run that has written its part so far;
    nothing for a report of one part (see write_json)."""
    if len(report.get("invocation", {}).get("parts", ())) < 2:
        return
    stream.write("tempguard: with the other processes of this run so far (%d parts): %s\n"
                 % (len(report["invocation"]["parts"]), _totals_line(report["totals"])))
    stream.flush()


def _totals_line(counts):
    line = "%d created, %d cleaned, %d leaked (%s, %s), %s, %.3fs in cleanup" % (
        counts["created"], counts["cleaned"], counts["leaked"],
        _plural(counts["leaked_files"], "file"), _plural(counts["leaked_dirs"], "dir"),
        size(counts["bytes"]), counts["cleanup_seconds"])
    if counts.get("unattributed"):
        line += ", %d unattributed" % counts["unattributed"]
    return line


def write_late_section(stream, late, origins="off"):
    """What was judged only at interpreter exit, where no runner prints any more."""
    _section(stream, "leaked temporary files (judged at interpreter exit)",
             _leak_blocks([record for record, _leaks in late], origins, judged="exit"))
    stream.flush()


def write_exit_notes(stream, notes):
    """*notes*, [(record, text)] made at interpreter exit, where no runner prints any more."""
    blocks = collections.OrderedDict()
    for record, text in notes:
        blocks.setdefault(record.id, []).append(display(text))
    _section(stream, "notes (at interpreter exit)", blocks)
    stream.flush()


def _section(stream, title, blocks):
    """A titled block: each test (or fixture) id, then its lines, indented."""
    if not blocks:
        return
    stream.write("\ntempguard: %s\n" % title)
    for name, lines in blocks.items():
        stream.write("%s\n" % name)
        for line in lines:
            stream.write("  %s\n" % line)


def check_output_file(path, what):
    """*path* made absolute (tests may chdir), checked before anything runs: it names a
    file in an existing directory we may write in. *what* names it in errors."""
    given = os.fspath(path)
    path = os.path.abspath(given)
    directory = os.path.dirname(path)
    if os.path.isdir(path) or given.endswith(os.sep):
        raise IsADirectoryError("%s %s: names a directory, not a file" % (what, given))
    if not os.path.isdir(directory):
        raise FileNotFoundError("%s %s: no directory %s" % (what, given, directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError("%s %s: directory %s is not writable" % (what, given, directory))
    return path


def write_json(path, report, invocation=None, part=None):
    """Write the report atomically, so a reader never sees half of it; returns what was
    written.

    With *invocation* (see invocation), *report* is one session's *part* of
    the invocation's report: under a lock on the report's directory, it
    replaces that part (written earlier by the same session) and joins the
    parts of the invocation's other processes; a report of another
    invocation is replaced.
    """
    path = os.path.abspath(path)
    if invocation is None:
        _write(path, report)
        return report
    directory = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        report = _joined(_read(path), report, invocation, part)
        _write(path, report)
    finally:
        os.close(directory)  # and with it the lock
    return report


def _write(path, report):
    """Write *report* to a new file beside *path*, then rename it over *path*.

    mkstemp creates the file exclusively, so a link planted at the partial
    file's name (by another user of a shared directory) is never written
    through; the rename replaces a link at *path* itself, never its target.
    """
    directory, name = os.path.split(path)
    fd, partial = tempfile.mkstemp(prefix=name + ".", suffix=".partial", dir=directory)
    try:
        os.fchmod(fd, 0o644)  # not mkstemp's 0600, nor whatever umask a test left
        with open(fd, "w") as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
        os.replace(partial, path)
    except BaseException:
        _unlink_quietly(partial)
        raise


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _read(path):
    """The report at *path*, or None; a link there is not followed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        with open(fd) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _joined(previous, report, invocation, part):
    """*report* as *part* of the invocation's report, with the other parts in *previous*."""
    shared = previous.get("invocation") if isinstance(previous, dict) else None
    if not (isinstance(shared, dict) and shared.get("id") == invocation):
        previous, shared = {"tests": [], "fixtures": []}, {"parts": {}}
    parts = dict(shared["parts"], **{part: report["totals"]})
    joined = dict(report, invocation={"id": invocation, "parts": parts})
    for key in ("tests", "fixtures"):
        joined[key] = ([entry for entry in previous[key] if entry.get("part") != part]
                       + [dict(entry, part=part) for entry in report[key]])
    joined["totals"] = {name: _sum(totals.get(name, 0) for totals in parts.values())
                        for name in report["totals"]}
    return joined


def _sum(numbers):
    total = sum(numbers)
    return round(total, 6) if isinstance(total, float) else total
