"""``python -m tempguard.report``: the JSON reports of separate runs (CI shards, several
machines) merged into one, and any report's section shown as its run printed it."""

import argparse
import collections
import sys

from .real import os
from . import output as _output
from .baseline import Entry
from .inputs import check_output_file
from .jsonreport import (REPORT_VERSION, joined_baselines, read_report, summed_totals,
                         write_json)
from .records import TestRecord

__all__ = ["main", "merge"]

PROG = "python -m tempguard.report"


def merge(reports, names):
    """One report of *reports* (each of a separate run: a CI shard, a machine), named by
    *names*: totals summed, tests and fixtures concatenated, each entry with its "shard"
    name. A test id in two shards is kept in both and listed under "duplicates"."""
    merged = {"version": REPORT_VERSION, "tests": [], "fixtures": [], "shards": list(names)}
    for key, default in (("origins", None), ("leaks", "warn")):
        values = sorted(set(str(report.get(key, default)) for report in reports))
        merged[key] = values[0] if len(values) == 1 else "mixed: " + "; ".join(values)
    shards_of = collections.OrderedDict()
    for report, name in zip(reports, names):
        for key in ("tests", "fixtures"):
            merged[key] += [dict(entry, shard=name) for entry in report[key]]
        for entry in report["tests"]:
            shards_of.setdefault(entry.get("id"), []).append(name)
    merged["totals"] = summed_totals(report["totals"] for report in reports)
    merged["duplicates"] = [{"id": test_id, "shards": shards}
                            for test_id, shards in shards_of.items() if len(shards) > 1]
    baselines = [report["baseline"] for report in reports if report.get("baseline")]
    if baselines:
        merged["baseline"] = joined_baselines(baselines)
    return merged


def _show(path, report, all_leaks, stream):
    """Write the report's section as its run wrote it after unittest's summary. Raises
    ValueError, before writing anything, for a report whose entries are not a run's."""
    baseline = report.get("baseline") or {}
    try:
        records = [TestRecord.from_json(entry) for entry in report["tests"]]
        fixture_records = [TestRecord.from_json(entry) for entry in report["fixtures"]]
        fixed = [Entry(**entry) for entry in baseline.get("fixed", ())]
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError("%s: not a tempguard report (%s: %s)"
                         % (path, type(error).__name__, error))
    settings = _ShownSettings(path, report, all_leaks, baseline.get("path"))
    _output.write_section(stream, records, fixture_records, report["totals"], settings,
                          fixed=fixed)
    for duplicate in report.get("duplicates", ()):
        stream.write("tempguard: %s ran in more than one shard: %s\n" % (
            _output.display(duplicate["id"]), _shards(duplicate["shards"])))


class _ShownSettings(object):
    """What the section of a shown report needs of a run's settings. A report of
    before 0.2.0 says no leak policy: its leaks are shown."""

    def __init__(self, path, report, all_leaks, baseline_path):
        self.report = path
        self.origins_mode = report.get("origins", "off")
        self.leaks = report.get("leaks", "warn")
        self.all_leaks = all_leaks
        self.baseline = _ShownBaseline(baseline_path) if baseline_path else None


class _ShownBaseline(object):
    def __init__(self, path):
        self.path = path


def main(argv=None):
    """``python -m tempguard.report merge -o OUT IN...`` or ``show FILE``."""
    parser = argparse.ArgumentParser(prog=PROG, description="Merge and show tempguard's "
                                     "JSON reports (of CI shards, of several machines).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True  # 3.6 takes no required= argument
    merging = commands.add_parser("merge", help="merge reports of separate runs into one")
    merging.add_argument("-o", "--output", required=True, metavar="OUT",
                         help="where the merged report is written")
    merging.add_argument("inputs", nargs="+", metavar="IN", help="a report to merge")
    showing = commands.add_parser("show", help="print a report's section, as its run did")
    showing.add_argument("file", metavar="FILE", help="a report (one run's, or merged)")
    showing.add_argument("--all-leaks", action="store_true",
                         help="list every leaked path, not a few of each place")
    options = parser.parse_args(argv)
    try:
        if options.command == "show":
            report = read_report(options.file)
            _show(os.path.abspath(options.file), report, options.all_leaks, sys.stdout)
            return 0
        output = check_output_file(options.output, "-o")
        reports = [read_report(path) for path in options.inputs]
    except (ValueError, OSError) as error:
        parser.error(_output.display(str(error)))
    merged = merge(reports, options.inputs)
    write_json(output, merged)
    for duplicate in merged["duplicates"]:
        sys.stderr.write("%s: warning: %s is in more than one report: %s\n"
                         % (PROG, _output.display(duplicate["id"]),
                            _shards(duplicate["shards"])))
    print("%s: %d reports merged into %s: %d tests" % (
        PROG, len(reports), _output.display(output), len(merged["tests"])))
    return 0


def _shards(names):
    """Shard names (input paths) for a line: escaped, as every name printed is, so none
    can start a line of its own (``::error`` in the CI job that merges)."""
    return ", ".join(_output.display(name) for name in names)


if __name__ == "__main__":
    sys.exit(_output.command(main))
