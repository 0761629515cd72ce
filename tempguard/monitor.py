"""``python -m tempguard.monitor``: see what sits in a temp dir, follow it, clean orphans safely.

Exit codes: 0 done, 1 something could not be removed (listed), 2 usage error.
Kept thin of classes on purpose: run with -m this file is ``__main__``.
"""

import argparse
import contextlib
import datetime
import json
import re
import sys
import tempfile
import time

from .real import os
from . import capabilities as _capabilities
from . import cleanup as _cleanup
from . import inuse as _inuse
from .inputs import check_output_file
from . import output as _output
from . import sandbox as _sandbox
from . import scan as _scan
from . import settings as _settings

__all__ = ["main", "parse_age"]

PROG = "python -m tempguard.monitor"
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Never candidates for --clean, whatever the patterns say.
_PROTECTED_NAMES = ("lost+found",)


def parse_age(text):
    """Seconds in an AGE such as 90s, 30m, 2h or 7d."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            "%r is not an age: use a whole number and a unit, like 90s, 30m, 2h or 7d" % text)
    return int(match.group(1)) * _AGE_UNITS[match.group(2)]


def _log_file(text):
    try:
        return check_output_file(text, "--log")
    except OSError as problem:
        raise argparse.ArgumentTypeError(str(problem))


def _positive(kind):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError("%r is not a number > 0" % text)
        return value
    return convert


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Show what sits in temp directories, follow it over time, "
        "and remove orphans safely. Links are never followed.")
    parser.add_argument("dirs", nargs="*", type=_settings.directory_argument, metavar="DIR",
                        help="directories to look at (default: the system temp dir)")
    parser.add_argument("--pattern", action="append", default=[], metavar="GLOB",
                        help="only entries whose name matches GLOB (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="never count or remove entries whose name matches GLOB")
    parser.add_argument("--top", type=_positive(int), default=5, metavar="N",
                        help="how many oldest and largest entries to show (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--watch", type=_positive(float), metavar="SECONDS",
                        help="scan again every SECONDS and print the change")
    parser.add_argument("--count", type=_positive(int), metavar="N",
                        help="with --watch: stop after N rounds")
    parser.add_argument("--log", type=_log_file, metavar="PATH",
                        help="with --watch: append each round to PATH as a JSON line")
    parser.add_argument("--clean-orphans", action="store_true",
                        help="remove run roots of tempguard runs whose owner is dead "
                        "(this host, this user; never a live run; a dry run unless --yes)")
    parser.add_argument("--clean", action="store_true",
                        help="remove matching entries older than --older-than "
                        "(a dry run unless --yes)")
    parser.add_argument("--older-than", type=parse_age, metavar="AGE",
                        help="with --clean: 90s, 30m, 2h, 7d")
    parser.add_argument("--age-by", choices=_scan.AGE_BY, default="newest",
                        help="which time ages an entry: newest (default: the newest of "
                        "atime, mtime and ctime), mtime, atime or ctime; a directory is as "
                        "young as the youngest thing in it")
    parser.add_argument("--yes", action="store_true",
                        help="with --clean or --clean-orphans: really delete")
    parser.add_argument("--without-in-use-checks", action="store_true",
                        help="with --yes, where no process's open files can be read (no "
                        "/proc: macOS, the BSDs): remove all the same")
    return parser


def _check_combinations(parser, args):
    if args.clean and not args.pattern:
        parser.error("--clean needs at least one --pattern")
    if args.clean and args.older_than is None:
        parser.error("--clean needs --older-than AGE")
    if not args.clean and args.older_than is not None:
        parser.error("--older-than goes with --clean")
    if args.yes and not (args.clean or args.clean_orphans):
        parser.error("--yes goes with --clean or --clean-orphans")
    if args.without_in_use_checks and not args.yes:
        parser.error("--without-in-use-checks goes with --yes")
    if args.watch is None and (args.count is not None or args.log is not None):
        parser.error("--count and --log go with --watch")
    if args.watch is not None and (args.clean or args.clean_orphans):
        parser.error("--watch cannot be combined with cleaning")


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    _check_combinations(parser, args)
    dirs = args.dirs or [tempfile.gettempdir()]
    if args.watch is not None:
        return _watch(dirs, args)
    problems = []
    in_use = _in_use() if (args.clean or args.clean_orphans) else None
    if in_use is not None and in_use.blind and args.yes and not args.without_in_use_checks:
        sys.stdout.write("nothing was removed: what live processes use could not be "
                         "checked, and would go; add --without-in-use-checks to remove "
                         "anyway\n")
        return 1
    if args.clean_orphans:
        problems += _clean_orphans(dirs, args.yes, in_use)
    if args.clean:
        problems += _clean_old(dirs, args, in_use)
    if not (args.clean or args.clean_orphans):
        _show(dirs, args)
    elif not args.yes:
        sys.stdout.write("dry run: nothing was removed; add --yes to remove\n")
    for problem in problems:
        sys.stdout.write("could not remove %s: %s\n" % (_output.display(problem.path),
                                                       problem.reason))
    return 1 if problems else 0


def _scan_all(dirs, args):
    return [_scan.scan(path, args.pattern, args.exclude, args.age_by) for path in dirs]


def _show(dirs, args):
    results = _scan_all(dirs, args)
    if args.json:
        json.dump({"version": 1, "directories": [r.as_json(args.top) for r in results]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    now = time.time()
    for result in results:
        sys.stdout.write("%s: %d entries: %d files, %d dirs, %d links, %s, %d skipped\n" % (
            _output.display(result.path), len(result), result.files, result.dirs,
            result.links, _output.size(result.bytes), result.skipped))
        for title, entries in (("oldest", result.oldest(args.top)),
                               ("largest", result.largest(args.top))):
            if entries:
                sys.stdout.write("  %s:\n" % title)
                for entry in entries:
                    sys.stdout.write("    %10s  %9s  %s\n" % (
                        _age_text(now - entry.newest), _output.size(entry.size),
                        _output.display(entry.path)))
        if result.run_roots:
            sys.stdout.write("  tempguard run roots:\n")
            for info in result.run_roots:
                sys.stdout.write("    %-8s  pid %-7s  %s%s\n" % (
                    info.state, info.pid, _output.display(info.path),
                    "  (has kept files)" if info.has_kept else ""))


def _age_text(seconds):
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return "%d%s old" % (seconds // size, unit)
    return "%ds old" % max(0, seconds)


def _clean_orphans(dirs, really, in_use):
    """Remove (or, unless *really*, list) the run roots of ended runs no process uses
    (*in_use*, an InUse)."""
    problems = []
    for directory in dirs:
        below = in_use.reasons_below(directory)
        with _opened(directory) as dir_fd:
            for info in _sandbox.find_run_roots(directory):
                if info.state not in ("orphaned", "finished"):
                    continue
                try:
                    st = os.lstat(info.path)
                except FileNotFoundError:
                    continue
                why = in_use.reason(dir_fd, os.path.basename(info.path), below, "dir",
                                    st.st_dev, st.st_ino)
                if why:
                    sys.stdout.write("left %s run root %s: in use: %s\n" % (
                        info.state, _output.display(info.path), why))
                    continue
                if not really:
                    sys.stdout.write("would remove %s run root %s\n" % (
                        info.state, _output.display(info.path)))
                    continue
                result = _cleanup.remove_paths([info.path])
                problems += result.problems
                if not os.path.lexists(info.path):
                    sys.stdout.write("removed %s run root %s\n" % (
                        info.state, _output.display(info.path)))
    return problems


def _in_use():
    """What live processes use now, read once; says which checks it could not make."""
    in_use = _inuse.InUse()
    for skipped in in_use.skipped:
        sys.stdout.write("not checked: %s\n" % skipped)
    return in_use


@contextlib.contextmanager
def _opened(directory):
    """An fd of a directory given on the command line, for the in-use checks; None where
    there are no fd functions (Windows), and no in-use checks either."""
    if not _capabilities.FD_FUNCTIONS:
        yield None
        return
    fd = os.open(directory, os.O_RDONLY | _capabilities.O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


def _clean_old(dirs, args, in_use):
    """Remove (or, without --yes, list) matching entries of ours older than the age,
    unless a live process is using them (*in_use*, an InUse)."""
    now = time.time()
    problems = []
    uid = _capabilities.euid()
    for result in _scan_all(dirs, args):
        live_roots = set(info.path for info in result.run_roots if info.state == "live")
        device = os.lstat(result.path).st_dev
        below = in_use.reasons_below(result.path)
        with _opened(result.path) as dir_fd:
            for entry in sorted(result.entries, key=lambda entry: entry.path):
                if (entry.uid != uid or now - entry.newest <= args.older_than
                        or entry.path in live_roots or entry.identity[0] != device
                        or os.path.basename(entry.path) in _PROTECTED_NAMES):
                    continue
                why = in_use.reason(dir_fd, os.path.basename(entry.path), below, entry.kind,
                                    entry.identity[0], entry.identity[1])
                if why:
                    sys.stdout.write("left %s: in use: %s\n" % (_output.display(entry.path),
                                                                 why))
                    continue
                if not args.yes:
                    sys.stdout.write("would remove %s (%s, %s)\n" % (
                        _output.display(entry.path), _age_text(now - entry.newest),
                        _output.size(entry.size)))
                    continue
                removal = _cleanup.remove_if_unchanged(entry.path, entry.identity)
                problems += removal.problems
                if removal.ok:
                    sys.stdout.write("removed %s\n" % _output.display(entry.path))
    return problems


def _watch(dirs, args):
    """Scan every --watch seconds and print what changed, until Ctrl-C or --count rounds."""
    previous = None
    rounds = 0
    try:
        while True:
            results = _scan_all(dirs, args)
            names = set(entry.path for result in results for entry in result.entries)
            total = sum(result.bytes for result in results)
            added = sorted(names - previous[0]) if previous else []
            removed = sorted(previous[0] - names) if previous else []
            delta = total - previous[1] if previous else 0
            stamp = datetime.datetime.now().strftime("%H:%M:%S")
            sys.stdout.write("%s  %d entries (+%d -%d)  %s (%+d bytes)\n" % (
                stamp, len(names), len(added), len(removed), _output.size(total), delta))
            sys.stdout.flush()
            if args.log:
                with open(args.log, "a") as log:
                    log.write(json.dumps({"time": time.time(), "entries": len(names),
                                          "bytes": total, "bytes_change": delta,
                                          "added": added, "removed": removed}) + "\n")
            previous = (names, total)
            rounds += 1
            if args.count is not None and rounds >= args.count:
                return 0
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(_output.command(main))
