"""The end of a guarded run, the same under every runner: what people and CI get from it.

The process that reports for the run (the runner's supervisor, a runner in
process, pytest's session or xdist's controller, Django's parent) writes
tempguard's section, then the rewritten baseline, the kept manifest, GitHub's
step summary, the JSON report and GitHub annotations, and tells the exit
status (leaked_status).
The section comes first: whatever fails after it, the user has read it.
"""

import sys

from . import github as _github
from . import invocation as _invocation
from . import output as _output
from .keep import KeepDir

__all__ = ["close_run", "conclude", "fixed_entries", "has_new_leaks", "leaked_status"]


def close_run(stream, records, fixture_records, counts, settings, write_report, heading=None):
    """Write the run's section to *stream* (see output.write_section), then what CI reads
    (see conclude); GitHub annotations go to stdout, where the Actions runner reads them."""
    fixed = fixed_entries(records, fixture_records, settings)
    _output.write_section(stream, records, fixture_records, counts, settings, heading, fixed)
    lines = conclude(records, fixture_records, settings, write_report, fixed)
    if settings.annotations == "github":
        _github.write_github(sys.stdout, records, fixture_records, settings)
    for line in lines:
        stream.write(line + "\n")
    stream.flush()


def fixed_entries(records, fixture_records, settings):
    """The baseline's entries this run shows fixed (none while it is rewritten)."""
    baseline = settings.baseline
    if baseline is None or baseline.update:
        return []
    return baseline.fixed(records, fixture_records)


def conclude(records, fixture_records, settings, write_report, fixed, late=False):
    """Rewrite the baseline, write the kept manifest, GitHub's step summary and the JSON
    report; the lines that tell what was written, and what could not be. *late* when
    this concludes again after exit judged more: the step summary, appended to, gets
    only what that added.

    *write_report(baseline)* writes the JSON report with *baseline*, what
    the run did with its baseline, and returns what was written or None.
    """
    baseline, summary, lines, problems = settings.baseline, None, [], []
    if baseline is not None and baseline.update:
        summary = _rewrite(lines, baseline, records, fixture_records, problems)
    elif baseline is not None:
        summary = {"path": baseline.path, "updated": False,
                   "fixed": [dict(entry._asdict()) for entry in fixed]}
    if settings.keep_dir:
        _attempt(problems, "the manifest in %s" % settings.keep_dir,
                 _write_manifest, settings.keep_dir, records, fixture_records)
    github = settings.github
    if settings.annotations == "github" and github.step_summary:
        _attempt(problems, "the step summary %s" % github.step_summary,
                 _github.append_step_summary, github.step_summary,
                 _github.step_summary(records, fixture_records, fixed, github, late))
    written = []
    if _attempt(problems, "the JSON report", lambda: written.append(write_report(summary))):
        if written[0] is not None:
            lines.extend(_output.invocation_totals(written[0]))
    lines.extend("tempguard: could not write %s" % _output.display(problem)
                 for problem in problems)
    return lines


def _rewrite(lines, baseline, records, fixture_records, problems):
    """Rewrite the baseline (see Baseline.rewrite); what the report says of it."""
    entries = []
    if not _attempt(problems, "the baseline %s" % baseline.path,
                    lambda: entries.extend(baseline.rewrite(records, fixture_records))):
        return {"path": baseline.path, "updated": False, "fixed": []}
    before = set(baseline.entries)
    added = sum(1 for entry in entries if entry not in before)
    removed = len(before.difference(entries))
    lines.append("tempguard: baseline %s written: %s (%d added, %d removed)" % (
        _output.display(baseline.path), _output.plural(len(entries), "entry", "entries"),
        added, removed))
    return {"path": baseline.path, "updated": True, "entries": len(entries), "added": added,
            "removed": removed}


def _write_manifest(path, records, fixture_records):
    keep_dir = KeepDir.open(path, _invocation.current_id())  # the run's, so shared
    try:
        keep_dir.write_manifest(records, fixture_records)
    finally:
        keep_dir.close()


def _attempt(problems, what, function, *args):
    """Call *function*; an OSError (or a file changed into one that is not what it was,
    ValueError) becomes a line of *problems*: what, and why."""
    try:
        function(*args)
        return True
    except (OSError, ValueError) as error:
        problems.append("%s: %s" % (what, getattr(error, "strerror", None) or error))
        return False


def has_new_leaks(records, fixture_records):
    """True if the run confirmed a leak its baseline does not know."""
    return any(not leak.known for record in list(records) + list(fixture_records)
               for leak in record.leaks)


def leaked_status(status, records, fixture_records, settings):
    """*status*, or --leaks-exit-code where every test passed (*status* 0) but new leaks
    were confirmed."""
    if (status == 0 and settings.leaks_exit_code and settings.leaks != "ignore"
            and has_new_leaks(records, fixture_records)):
        return settings.leaks_exit_code
    return status
