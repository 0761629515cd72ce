"""What a run tells programs: the JSON report, its totals, and where it may be written."""

import base64
import binascii
import collections
import json

from .real import os
from . import capabilities as _capabilities
from .held import locked_directory
from .inputs import read_text

__all__ = ["REPORT_VERSION", "read_report", "run_report",
           "joined_baselines", "summed_totals", "totals", "write_json", "write_run_report",
           "write_text"]

REPORT_VERSION = 2
_OUTCOMES = ("passed", "failed", "error", "skipped", "expected_failure", "unexpected_success")


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
        "known": sum(1 for leak in leaks if leak.known),
        "leaked_files": sum(1 for leak in leaks if leak.kind == "file"),
        "leaked_dirs": sum(1 for leak in leaks if leak.kind == "dir"),
        "unattributed": sum(len(record.unattributed) for record in everything),
        "bytes": sum(record.bytes for record in everything),
        "cleanup_seconds": round(sum(record.cleanup_seconds for record in everything), 6),
        "cleanup_errors": sum(len(record.cleanup_errors) for record in everything),
        "kept": sum(1 for record in records if record.kept),
    })
    return outcome_counts


def run_report(records, fixture_records, settings, counts=None, baseline=None):
    """The JSON document of a run under *settings* (its origins and leak policy, which
    ``report show`` needs to print the run's section), *baseline* what the run did with
    its baseline, if it had one (see closing)."""
    report = {"version": REPORT_VERSION, "origins": settings.origins_mode,
              "leaks": settings.leaks,
              "tests": [record.as_json() for record in records],
              "fixtures": [record.as_json() for record in fixture_records],
              "totals": totals(records, fixture_records, counts)}
    if baseline is not None:
        report["baseline"] = baseline
    return report


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
    with locked_directory(os.path.dirname(path)):
        report = _joined(_read(path), report, invocation, part)
        _write(path, report)
    return report


def write_run_report(records, fixture_records, settings, counts, baseline, invocation, part):
    """Write the run's report (see run_report) where *settings* asks for one, as this
    process's *part* of *invocation*'s (see write_json); what was written, or None."""
    if not settings.report:
        return None
    return write_json(settings.report, run_report(records, fixture_records, settings, counts,
                                                  baseline), invocation, part)


def _write(path, report):
    write_text(path, json.dumps(_valid_utf8(report), indent=2, allow_nan=False) + "\n")


def write_text(path, text, dir_fd=None):
    """Write *text* (UTF-8) to a new file beside *path*, then rename it over *path*; with
    *dir_fd*, *path* is a name in that directory.

    The partial file is created exclusively (O_EXCL, a random name), so a link
    planted at its name (by another user of a shared directory) is never written
    through; the rename replaces a link at *path* itself, never its target. No
    /proc is needed: macOS and the BSDs have none.
    """
    where = {} if dir_fd is None else {"dir_fd": dir_fd}
    target = os.path.basename(path) if dir_fd is not None else path
    for _attempt in range(100):
        partial = "%s.%s.partial" % (target, binascii.hexlify(os.urandom(6)).decode())
        try:
            fd = os.open(partial, _PARTIAL_FLAGS, 0o644, **where)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError("no unused name beside %s" % path)
    try:
        if hasattr(os, "fchmod"):  # Windows before 3.13 has none
            os.fchmod(fd, 0o644)  # not whatever umask a test left
        with open(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        if dir_fd is None:
            os.replace(partial, target)
        else:
            os.replace(partial, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_quietly(partial, dir_fd)
        raise


def _valid_utf8(value):
    """*value* with every string valid UTF-8, as strict JSON parsers demand.

    A name that is not UTF-8 (os.fsdecode keeps its bytes as lone surrogates)
    is written as text with each such byte as \\xNN; an entry's "path" then
    also gets "path_bytes", its exact bytes in base64, so nothing is lost.
    """
    if isinstance(value, str):
        return _utf8_text(value)
    if isinstance(value, list):
        return [_valid_utf8(item) for item in value]
    if not isinstance(value, dict):
        return value
    valid = {key: _valid_utf8(item) for key, item in value.items()}
    path = value.get("path")
    if isinstance(path, str) and valid["path"] != path:
        try:
            valid["path_bytes"] = base64.b64encode(os.fsencode(path)).decode("ascii")
        except UnicodeEncodeError:
            pass  # not a name from the file system: text is all there is
    return valid


def _utf8_text(text):
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "backslashreplace")
        return raw.decode("utf-8", "backslashreplace")


def _unlink_quietly(path, dir_fd=None):
    try:
        os.unlink(path, **({} if dir_fd is None else {"dir_fd": dir_fd}))
    except OSError:
        pass


def _read(path):
    """The report at *path*, or None; a link there is not followed."""
    try:
        fd = os.open(path, os.O_RDONLY | _capabilities.O_NOFOLLOW | _capabilities.O_CLOEXEC)
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
    joined["totals"] = summed_totals(parts.values())
    baselines = [r["baseline"] for r in (previous, report) if r.get("baseline")]
    if baselines:
        joined["baseline"] = joined_baselines(baselines)
    return joined


def joined_baselines(baselines):
    """One "baseline" of a report, of those of its parts or shards: each ran its own
    tests, so what any showed fixed is fixed; updated if any rewrote it."""
    fixed = collections.OrderedDict()
    for baseline in baselines:
        for entry in baseline.get("fixed", ()):
            fixed.setdefault(json.dumps(entry, sort_keys=True), entry)
    return {"path": baselines[-1].get("path"),
            "updated": any(baseline.get("updated") for baseline in baselines),
            "fixed": list(fixed.values())}


def summed_totals(totals_list):
    """The totals of several runs (or parts of one), each count summed."""
    totals_list = list(totals_list)
    names = collections.OrderedDict.fromkeys(name for totals in totals_list for name in totals)
    summed = {}
    for name in names:
        total = sum(totals.get(name, 0) for totals in totals_list)
        summed[name] = round(total, 6) if isinstance(total, float) else total
    return summed


_PARTIAL_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | _capabilities.O_NOFOLLOW
                  | _capabilities.O_CLOEXEC)
# The largest report read: 20,000 leaks make a few MB.
_MAX_REPORT_BYTES = 1 << 30


def read_report(path):
    """The report at *path*, checked to be one of this version. Raises ValueError (or
    OSError) naming the file and the reason."""
    text = read_text(path, "report", _MAX_REPORT_BYTES)
    try:
        report = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise ValueError("report %s: not a JSON report (%s)" % (path, error))
    if not isinstance(report, dict) or not {"tests", "fixtures", "totals"} <= set(report):
        raise ValueError("report %s: not a tempguard report" % path)
    if report.get("version") != REPORT_VERSION:
        raise ValueError("report %s: a report of version %r; this tempguard reads version %d"
                         % (path, report.get("version"), REPORT_VERSION))
    _check_shape(path, report)
    return report


def _no_constant(name):
    raise ValueError("%s is not JSON (strict parsers reject it)" % name)


def _check_shape(path, report):
    """Raise ValueError naming what is not as a run writes it: merge and show then say
    one line instead of a traceback."""
    for key in ("tests", "fixtures"):
        entries = report[key]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError("report %s: %r is not a list of entries" % (path, key))
        for entry in entries:
            if not isinstance(entry.get("id", ""), str):
                raise ValueError("report %s: an entry of %r has an id that is not a string"
                                 % (path, key))
    totals = report["totals"]
    if not isinstance(totals, dict) or not all(
            isinstance(value, (int, float)) and not isinstance(value, bool)
            for value in totals.values()):
        raise ValueError("report %s: 'totals' is not a map of counts" % path)
    if "baseline" in report and report["baseline"] is not None and not isinstance(
            report["baseline"], dict):
        raise ValueError("report %s: 'baseline' is not a map" % path)
