"""What a run tells people: tempguard's section after unittest's summary, and leak messages.

Leaks are grouped by owner (test, subTest, fixture), then by where they were
made: a place that made a few is listed in full, one that made thousands in
one line with the count and a few names, so that any run's section fits on
a screen; the JSON report lists everything. Every name is escaped (see
display): a file name can neither break a line nor forge one.
"""

import collections
import sys

from .real import os
from . import capabilities as _capabilities
from . import jsonreport as _jsonreport
from . import origins as _origins
from . import ownership as _ownership
from .records import by_owner, has_news

__all__ = ["Described", "display", "invocation_totals", "leak_message", "note_kept", "plural",
           "size",
           "write_exit_notes", "write_late_section", "write_section", "write_totals"]

# Names listed of the leaks one place made, when it made more than this.
EXAMPLES = 3
_OUTSIDE_NOTE = ("outside the tests' temp dir: left in place; in parallel runs it may belong "
                 "to another process")
# What became of the leaks listed: said once, after them.
_REMOVED = "those in the tests' temp dir were removed at the end of the run"
_COPIED = "; a failed test's were copied first (see kept temporary files)"
_UNATTRIBUTED_WHY = ("each appeared while the test it is listed under (or names) ran, but "
                     "the audit hook saw no process of this run make it: another program's, "
                     "most likely")
# How each judgement level (see ownership.LEVELS) reads after a leak's line.
_JUDGED = dict(zip(_ownership.LEVELS, (
    "", "at the end of its class", "at the end of its module", "at the end of the run",
    "once the child processes that could still write it had exited",
    "after the interpreter exited")))
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


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


def display(text):
    """*text* (a name, a path, a note) fit for any terminal, on one line.

    Control characters (a newline, an escape sequence), other unprintable
    characters, bytes that are not UTF-8 and backslashes are escaped as
    Python writes them in a string literal, as ``ls -b`` shows names.
    """
    if not isinstance(text, str):
        text = os.fsdecode(text)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escaped(char) for char in text)


def _escaped(char):
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    if 0xdc80 <= code <= 0xdcff:  # a byte that is not UTF-8, as os.fsdecode keeps it
        return "\\x%02x" % (code - 0xdc00)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code if code < 0x10000 \
        else "\\U%08x" % code


def _grouped_lines(leaks, settings):
    """The lines of one owner's *leaks*: in full while a place made few of them; else one
    line per place with the count and kind, EXAMPLES names and where the rest are."""
    groups = collections.OrderedDict()
    for leak in leaks:
        described = (_origins.describe(leak.origin)
                     if leak.origin is not None or settings.origins_mode == "on" else None)
        groups.setdefault((leak.where, leak.kind, described), []).append(leak.path)
    lines = []
    for (where, kind, described), paths in groups.items():
        note = "  (%s)" % _OUTSIDE_NOTE if where == "outside" else ""
        if settings.all_leaks or len(paths) <= EXAMPLES:
            for path in paths:
                lines.append("%-4s %s%s" % (kind, display(path), note))
                if described is not None:
                    lines.append("  " + display(described))
            continue
        lines.append("%s %s%s%s" % (format(len(paths), ","), _plural_kind(kind),
                                    " " + display(described) if described else "", note))
        lines.extend("  " + display(path) for path in paths[:EXAMPLES])
        lines.append("  and %s more (%s)" % (format(len(paths) - EXAMPLES, ","),
                                             _where_the_rest_are(settings)))
    return lines


def _plural_kind(kind):
    return {"file": "files", "dir": "dirs"}.get(kind, "other entries")


def _where_the_rest_are(settings):
    hint = "--all-leaks (TEMPGUARD_ALL_LEAKS=1) lists them here"
    return ("all in the JSON report %s; %s" % (display(settings.report), hint)
            if settings.report else hint)


def leak_message(test_id, leaks, settings):
    """The failure message (or warning) of a test that leaked."""
    judged = _JUDGED[leaks[0].judged] if leaks else ""
    return "\n".join(["tempguard: %s left %s behind%s:"
                      % (display(test_id),
                         plural(len(leaks), "temporary entry", "temporary entries"),
                         " (confirmed %s)" % judged if judged else "")]
                     + ["  " + line for line in _grouped_lines(leaks, settings)])


def note_kept(result, test, kept):
    """Add where a failed test's files were kept to its failure report in *result*."""
    note = "\ntempguard kept this test's temporary files in: %s\n" % display(kept)
    for reports in (getattr(result, "failures", []), getattr(result, "errors", [])):
        if not isinstance(reports, list):
            continue  # a result that keeps no reports (Django's RemoteTestResult)
        for index, (failed_test, text) in enumerate(reports):
            if failed_test is test:
                reports[index] = (failed_test, text + note)


def plural(count, word, words=None):
    """*count* and *word*, or *words* (by default *word* and an s) when it is not 1."""
    return "%d %s" % (count, word if count == 1 else words or word + "s")


def size(nbytes):
    """Bytes for people: 512 B, 4.0 KiB, 1.5 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (nbytes, unit)
        nbytes /= 1024.0


def _leak_blocks(records, settings, judged=None, known=False):
    """{owner id: leak lines}: a subTest's leaks under its own id; the *known* ones (see
    baseline), or the others. A line of code that made the temp-dir leaks of more than
    EXAMPLES owners has one block of its own, listing them (see _shared_block)."""
    owners = by_owner((record, leak) for record in records for leak in record.leaks
                      if (judged is None or leak.judged == judged) and leak.known == known)
    places, by_place = {}, collections.OrderedDict()  # places: id(origin): its place
    for owner, leaks in owners.items():
        for leak in leaks:
            place = places.get(id(leak.origin), False)
            if place is False:
                place = places[id(leak.origin)] = _place(leak.origin)
            if place is not None and leak.where == "sandbox":
                by_place.setdefault(place, collections.OrderedDict()).setdefault(
                    owner, []).append(leak)
    shared = {place: owned for place, owned in by_place.items() if len(owned) > EXAMPLES}
    blocks = collections.OrderedDict()
    for owner, leaks in owners.items():
        own = [leak for leak in leaks
               if leak.where != "sandbox" or places[id(leak.origin)] not in shared]
        if own:
            blocks[owner] = _grouped_lines(own, settings)
    for place, owned in shared.items():
        blocks.update([_shared_block(place, owned, settings)])
    return blocks


def _place(origin):
    """Where the code that made an entry is (its innermost frame), or None."""
    if not isinstance(origin, dict) or "file" not in origin:
        return None
    return _origins.describe(dict(origin, stack=[]))


def _shared_block(place, owned, settings):
    """(title, lines) of one place's leaks in many owners: every owner, a line each with
    its count (the section names every test that leaked); their paths only with
    --all-leaks (the JSON report has them all)."""
    leaks = [leak for group in owned.values() for leak in group]
    kinds = collections.Counter(leak.kind for leak in leaks)
    title = "%s %s, by %s" % (
        " and ".join(plural(count, kind, _plural_kind(kind))
                     for kind, count in sorted(kinds.items())),
        place, plural(len(owned), "test or fixture", "tests or fixtures"))
    lines = []
    for owner, group in owned.items():
        lines.append(display(owner) + (" (%d)" % len(group) if len(group) > 1 else ""))
        if settings.all_leaks:
            lines.extend("  %-4s %s" % (leak.kind, display(leak.path)) for leak in group)
    if not settings.all_leaks:
        lines.append("(their paths: %s)" % _where_the_rest_are(settings))
    return title, lines


def _blocks(records, lines_of):
    blocks = collections.OrderedDict()
    for record in records:
        lines = [display(line) for line in lines_of(record)]
        if lines:
            blocks.setdefault(record.id, []).extend(lines)
    return blocks


def _unattributed_blocks(records, settings):
    """What appeared during the run and is not the run's: by test while there are few;
    past EXAMPLES of them (a busy machine makes thousands), one summary with the count,
    the entries that have a hint (the run's children ran then), a few names, and where
    the rest are."""
    entries = [(record, entry) for record in records for entry in record.unattributed]
    if settings.all_leaks or len(entries) <= EXAMPLES:
        return _blocks(records, lambda record: [
            line for entry in record.unattributed for line in _unattributed_lines(entry)])
    hinted = [pair for pair in entries if pair[1].origin is not None]
    shown = (hinted + [pair for pair in entries if pair[1].origin is None])[:EXAMPLES]
    lines = []
    for record, entry in shown:
        lines.extend(_unattributed_lines(entry, during=record.id))
    lines.append("and %s more (%s)" % (format(len(entries) - len(shown), ","),
                                       _where_the_rest_are(settings)))
    summary = "%s entries, while %s tests and fixtures ran" % (
        format(len(entries), ","), format(len({id(record) for record, _ in entries}), ","))
    return collections.OrderedDict([(summary, [display(line) for line in lines])])


def _unattributed_lines(entry, during=None):
    """An unattributed entry's line, and its hint if one of the run's children ran then."""
    lines = ["%-4s %s%s" % (entry.kind, entry.path,
                            "  (while %s ran)" % during if during else "")]
    if entry.origin is not None:
        lines.append("  " + _origins.describe(entry.origin))
    return lines


def command(main):
    """Run a command's *main*; its exit status. A reader that goes away (``| head``) ends
    it quietly, as a shell command would, not with a BrokenPipeError traceback."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it where a write cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


def write_section(stream, records, fixture_records, counts, settings, heading=None,
                  fixed=()):
    """tempguard's lines after unittest's summary: leaks, kept paths, totals. With
    --leaks ignore, what was removed is told by the totals line alone.

    *heading(title)* writes a subsection's title (pytest draws its own rules);
    by default it is a line "tempguard: TITLE" after a blank one. *fixed* are
    the baseline's entries that no longer happen (see baseline).
    """
    framed = heading is not None  # the caller draws the section's rule
    heading = heading or _default_heading(stream)
    everything = [record for record in list(records) + list(fixture_records)
                  if has_news(record)]
    if settings.leaks != "ignore":
        blocks = _leak_blocks(everything, settings)
        if blocks and settings.origins_mode not in ("on", "off"):
            blocks["(where each was made)"] = [settings.origins_mode]
        removed = [record for record in everything
                   if any(leak.where == "sandbox" and not leak.known for leak in record.leaks)]
        if removed:
            blocks["(where they are now)"] = [
                _REMOVED + (_COPIED if any(record.kept for record in removed) else "")]
        _section(stream, "leaked temporary files", blocks, heading)
        baseline = getattr(settings, "baseline", None)
        where = display(baseline.path) if baseline is not None else "the baseline"
        known = _leak_blocks(everything, settings, known=True)
        if known and not settings.all_leaks:
            count = sum(1 for record in everything for leak in record.leaks if leak.known)
            known = collections.OrderedDict([(
                "%s, made by %s; --all-leaks (TEMPGUARD_ALL_LEAKS=1) lists them"
                % (plural(count, "leak"), plural(len(known), "test or fixture",
                                                 "tests or fixtures")), [])])
        # --update-baseline records this run's leaks: not "known" yet, and none fails.
        _section(stream, ("recorded in %s by --update-baseline: reported, never a failure"
                          if getattr(baseline, "update", False) else
                          "known leaks, in %s: reported, never a failure") % where, known,
                 heading)
        fixed_blocks = collections.OrderedDict()
        for entry in fixed:
            fixed_blocks.setdefault(entry.test, []).append(
                "%-4s %s  (%s)" % (entry.kind, entry.name, entry.where))
        _section(stream, "in %s, no longer leaked: fixed; remove them with --update-baseline"
                 % where, fixed_blocks, heading)
        unattributed = _unattributed_blocks(everything, settings)
        if unattributed:
            unattributed["(why)"] = [
                _UNATTRIBUTED_WHY if settings.origins_mode == "on" else
                "origins are %s, so nothing outside the sandbox can be attributed"
                % settings.origins_mode,
                "never removed, never a failure; --outside strict (for a private temp dir) "
                "makes them leaks"]
        _section(stream, "appeared in the temp dir during the run; nothing shows this run "
                 "made it", unattributed, heading)
    _section(stream, "kept temporary files",
             _blocks(everything, lambda record: ([record.kept] if record.kept else [])
                     + ["not kept: " + item for item in record.not_kept]), heading)
    _section(stream, "could not remove", _blocks(everything, lambda r: r.cleanup_errors),
             heading)
    _section(stream, "notes", _blocks(everything, lambda r: r.notes), heading)
    write_totals(stream, records, fixture_records, counts,
                 "tempguard: " if framed else "\ntempguard: ")


def write_totals(stream, records, fixture_records, counts, prefix="\ntempguard: "):
    """The line of totals that ends tempguard's section; on a reduced platform, the line
    that says what is reduced follows it, once a process (see capabilities)."""
    stream.write("%s%s\n" % (prefix, _totals_line(_jsonreport.totals(records, fixture_records,
                                                                 counts))))
    _capabilities.say_reduced(stream)
    stream.flush()


def invocation_totals(report):
    """[the line of totals of every process of a parallel run that has written its part
    so far]; none for a report of one part (see jsonreport.write_json)."""
    if len(report.get("invocation", {}).get("parts", ())) < 2:
        return []
    return ["tempguard: with the other processes of this run so far (%d parts): %s"
            % (len(report["invocation"]["parts"]), _totals_line(report["totals"]))]


def _totals_line(counts):
    """Leaks first, then what tempguard's helpers made and removed: counts of their own,
    which do not add up with the leaks."""
    line = "%d leaked (%s, %s)" % (counts["leaked"], plural(counts["leaked_files"], "file"),
                                   plural(counts["leaked_dirs"], "dir"))
    if counts.get("known"):
        line += ", %d of them in the baseline" % counts["known"]
    if counts.get("unattributed"):
        line += "; %d unattributed" % counts["unattributed"]
    return line + "; helpers made %d entries (%s) and removed %d in %.3fs" % (
        counts["created"], size(counts["bytes"]), counts["cleaned"], counts["cleanup_seconds"])


def write_late_section(stream, late, settings):
    """What was judged only at interpreter exit, where no runner prints any more."""
    if settings.leaks != "ignore":
        records = [record for record, _leaks in late]
        for known, title in ((False, "leaked temporary files"), (True, "known leaks")):
            _section(stream, "%s (judged at interpreter exit)" % title,
                     _leak_blocks(records, settings, judged="exit", known=known),
                     _default_heading(stream))
    stream.flush()


def write_exit_notes(stream, notes):
    """*notes*, [(record, text)] made at interpreter exit, where no runner prints any more."""
    blocks = collections.OrderedDict()
    for record, text in notes:
        blocks.setdefault(record.id, []).append(display(text))
    _section(stream, "notes (at interpreter exit)", blocks, _default_heading(stream))
    stream.flush()


def _default_heading(stream):
    return lambda title: stream.write("\ntempguard: %s\n" % title)


def _section(stream, title, blocks, heading):
    """A titled block: each test (or fixture) id, then its lines, indented."""
    if not blocks:
        return
    heading(title)
    for name, lines in blocks.items():
        stream.write("%s\n" % display(name))
        for line in lines:
            stream.write("  %s\n" % line)
