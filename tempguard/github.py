"""Leaks where GitHub Actions shows results: workflow commands, one per leak group, and
the step summary.

Each owner's new leaks (not known to the baseline) made at one line become
one ``::warning`` (or ``::error``, when the run fails tests for leaks) at
that line, written to stdout, where the Actions runner reads workflow
commands. Escaped as the Actions documentation says: ``%``, CR and LF in the
message; also ``:`` and ``,`` in property values. GitHub shows only the first
10 annotations of a kind in a step, so past 10 groups the tenth annotation
says how many more there are and where they are listed. The step summary
(the Markdown file GitHub names in GITHUB_STEP_SUMMARY and shows on the run's
page) lists them all, each at a link to its line.
"""

import collections
import re
import stat
import urllib.parse

from .real import os
from . import capabilities as _capabilities
from .output import display, plural
from .records import by_owner

__all__ = ["append_step_summary", "github_commands", "step_summary", "write_github"]

# How many paths one annotation or row names; the JSON report has them all.
_NAMED = 3
# Warning (or error) annotations GitHub shows from one step; it drops the rest unsaid.
_SHOWN = 10
# Rows of the step summary's table, and their bytes: GitHub takes at most 1 MiB of
# summary a step (and drops all of it past that), so half is left to the step's others.
_ROWS = 200
_SUMMARY_BYTES = 512 * 1024


def github_commands(records, fixture_records, settings):
    """The workflow command lines of the run's new leaks, in the order of the report."""
    command = "error" if settings.leaks == "fail" else "warning"
    groups = _groups(records, fixture_records, settings.github.workspace)
    if len(groups) <= _SHOWN:
        return [_command(command, *group) for group in groups]
    lines = [_command(command, *group) for group in groups[:_SHOWN - 1]]
    rest = groups[_SHOWN - 1:]
    entries = sum(len(group) for _, _, group in rest)
    title = "tempguard: %d more leak groups" % len(rest)
    message = ("GitHub shows %d annotations of a kind from a step; %d more groups (a test and"
               " a line) left %s, listed in tempguard's section of the log and in its JSON"
               " report" % (_SHOWN, len(rest), plural(entries, "entry", "entries")))
    lines.append("::%s title=%s::%s" % (command, _property(title), _data(message)))
    return lines


def step_summary(records, fixture_records, fixed, github, late=False):
    """The run's Markdown for the step summary: a table of every group of new leaks (up to
    _ROWS), each at a link to its line in the commit; then how many were known, and the
    baseline's entries the run shows *fixed*. *github* is the run's GitHub. With *late*,
    only what was judged at interpreter exit, after the run's own summary was written."""
    groups = _groups(records, fixture_records, github.workspace, "exit" if late else None)
    entries = sum(len(group) for _, _, group in groups)
    lines = ["### tempguard: %s%s" % (
        plural(entries, "new leaked temporary entry", "new leaked temporary entries")
        if entries else "no new leaked temporary entries",
        ", judged at interpreter exit" if late else "")]
    if groups:
        lines += ["", "| test | made at | leaked |", "| --- | --- | --- |"]
        rows, size = 0, 0
        for owner, place, group in groups[:_ROWS]:
            row = "| %s | %s | %s |" % (_markdown(display(owner)), _line_link(place, github),
                                        _names(group, _markdown))
            size += len(row.encode("utf-8")) + 1
            if size > _SUMMARY_BYTES:
                break
            lines.append(row)
            rows += 1
        if len(groups) > rows:
            lines += ["", "and %d more groups, listed in tempguard's section of the log and in"
                      " its JSON report" % (len(groups) - rows)]
    known = 0 if late else sum(1 for record in list(records) + list(fixture_records)
                               for leak in record.leaks if leak.known)
    if known:
        lines += ["", "%s (listed in the baseline): not failures" % plural(known, "known leak")]
    if fixed and not late:
        lines += ["", "%s no longer leaked: fixed; remove them with --update-baseline"
                  % plural(len(fixed), "baseline entry", "baseline entries")]
    return "\n".join(lines) + "\n\n"


def append_step_summary(path, text):
    """Append *text* to the step summary GitHub made at *path*: a regular file, never a
    link followed there, never created; ValueError or OSError says why not."""
    # Non-blocking: a FIFO with no reader fails at once instead of hanging the run's end.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | _capabilities.O_NOFOLLOW
                 | _capabilities.O_NONBLOCK | _capabilities.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def write_github(stream, records, fixture_records, settings):
    """Write github_commands() to *stream*, a line each, after a line break: a command
    must start a line, and a test may have left one unterminated (``progress 100%``)."""
    lines = github_commands(records, fixture_records, settings)
    if lines:
        stream.write("\n" + "".join(line + "\n" for line in lines))
    stream.flush()


def _groups(records, fixture_records, root, judged=None):
    """[(owner, place, leaks)] of the run's new leaks (those *judged* at that level, if
    given): each owner's made at one place (see _place), in the order of the report."""
    pairs = [(record, leak) for record in list(records) + list(fixture_records)
             for leak in record.leaks
             if not leak.known and judged in (None, leak.judged)]
    return [(owner, place, group) for owner, leaks in by_owner(pairs).items()
            for place, group in _by_place(leaks, root).items()]


def _by_place(leaks, root):
    """*leaks* grouped by _place(), in the order they came."""
    groups = collections.OrderedDict()
    for leak in leaks:
        groups.setdefault(_place(leak.origin, root), []).append(leak)
    return groups


def _command(command, owner, place, group):
    """The workflow command for *owner*'s *group* of leaks made at *place*."""
    filename, line = place
    properties = []
    if filename is not None:
        properties += ["file=" + _property(filename), "line=%d" % line]
    properties.append("title=" + _property("tempguard: " + plural(
        len(group), "leaked temporary entry", "leaked temporary entries")))
    message = "%s left %s" % (display(owner), _names(group))
    return "::%s %s::%s" % (command, ",".join(properties), _data(message))


def _names(group, escape=str):
    """The first _NAMED paths of *group*, and how many more."""
    names = ", ".join(escape(display(leak.path)) for leak in group[:_NAMED])
    return names + (" and %d more" % (len(group) - _NAMED) if len(group) > _NAMED else "")


def _line_link(place, github):
    """*place* as Markdown: a link to the line in the commit when it is the repository's
    and GitHub names the commit, else the text; a dash where nothing shows it."""
    filename, line = place
    if filename is None:
        return "-"
    text = _markdown("%s:%d" % (display(filename), line))
    if github.commit_url is None or os.path.isabs(filename):
        return text
    return "[%s](%s/%s#L%d)" % (text, github.commit_url, urllib.parse.quote(filename), line)


def _markdown(text):
    """*text* as literal Markdown: every ASCII punctuation mark backslash-escaped, which
    CommonMark allows for any of them (so no name makes a link, a tag or a new cell)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def _place(origin, root):
    """(file relative to *root*, line) of the innermost frame inside *root* (the
    repository) that made the leak, else (file, line) of the innermost frame; (None,
    None) where nothing shows where it was made."""
    if not (isinstance(origin, dict) and "file" in origin):
        return None, None
    frames = [origin] + list(origin.get("stack", ()))
    inside = root.rstrip(os.sep) + os.sep
    for frame in frames:
        filename = os.path.abspath(frame["file"])
        if filename.startswith(inside):
            return os.path.relpath(filename, root), frame["line"]
    return frames[0]["file"], frames[0]["line"]


def _data(text):
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text):
    return _data(text).replace(":", "%3A").replace(",", "%2C")
