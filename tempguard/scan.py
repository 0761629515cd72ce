"""Measuring a temp directory: what is there, how big, how old, and which run roots."""

import collections
import fnmatch
import os
import stat

from . import cleanup as _cleanup
from . import sandbox as _sandbox

__all__ = ["AGE_FIELDS", "Entry", "ScanResult", "scan"]

AGE_FIELDS = {"mtime": "st_mtime", "atime": "st_atime", "ctime": "st_ctime"}

Entry = collections.namedtuple("Entry", "path kind size newest uid identity")
Entry.__doc__ = """A top-level entry: kind (file, dir, link, other), bytes within it, the
newest age stamp within it, its owner, and (st_dev, st_ino, st_mtime_ns) to
notice a swap before deleting it."""


class ScanResult(object):
    """Counts over the matching entries of one directory, and the entries themselves."""

    def __init__(self, path):
        self.path = path
        self.files = self.dirs = self.links = self.bytes = self.skipped = 0
        self.entries = []
        self.run_roots = []

    def as_json(self, top):
        def describe(entry):
            return {"path": entry.path, "kind": entry.kind, "bytes": entry.size,
                    "newest": entry.newest}
        return {"path": self.path, "entries": len(self.entries), "files": self.files,
                "dirs": self.dirs, "links": self.links, "bytes": self.bytes,
                "skipped": self.skipped,
                "oldest": [describe(entry) for entry in self.oldest(top)],
                "largest": [describe(entry) for entry in self.largest(top)],
                "run_roots": [dict(info._asdict()) for info in self.run_roots]}

    def oldest(self, count):
        return sorted(self.entries, key=lambda entry: entry.newest)[:count]

    def largest(self, count):
        return sorted(self.entries, key=lambda entry: -entry.size)[:count]


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def scan(directory, patterns=(), excludes=(), age_by="mtime"):
    """Scan *directory*: every top-level entry matching *patterns* (all if none), minus *excludes*.

    Links are counted, never followed; a hard-linked file is counted once;
    entries that vanish or cannot be read are counted as skipped.
    """
    age_field = AGE_FIELDS[age_by]
    result = ScanResult(directory)
    seen_inodes = set()
    with os.scandir(directory) as top_entries:
        listed = list(top_entries)
    for top in listed:
        name = top.name
        if patterns and not _matches(name, patterns):
            continue
        if excludes and _matches(name, excludes):
            continue
        try:
            st = top.stat(follow_symlinks=False)
        except OSError:
            result.skipped += 1
            continue
        totals = [0, getattr(st, age_field)]
        kind = _count(result, st, seen_inodes, totals)
        if kind == "dir":
            _walk(top.path, result, seen_inodes, totals, age_field)
            if name.startswith(_sandbox.RUN_PREFIX):
                info = _sandbox.read_run_root(top.path)
                if info is not None:
                    result.run_roots.append(info)
        result.entries.append(Entry(top.path, kind, totals[0], totals[1], st.st_uid,
                                    _cleanup.identity(st)))
    return result


def _count(result, st, seen_inodes, totals):
    """Count one lstat in the result and the entry's totals; return its kind."""
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        result.dirs += 1
        return "dir"
    if stat.S_ISLNK(mode):
        result.links += 1
        return "link"
    if stat.S_ISREG(mode):
        result.files += 1
        if st.st_nlink > 1:
            inode = (st.st_dev, st.st_ino)
            if inode in seen_inodes:
                return "file"
            seen_inodes.add(inode)
        result.bytes += st.st_size
        totals[0] += st.st_size
        return "file"
    return "other"


def _walk(top, result, seen_inodes, totals, age_field):
    """Count everything below a directory, iteratively, without following links."""
    pending = [top]
    while pending:
        path = pending.pop()
        try:
            with os.scandir(path) as entries:
                listed = list(entries)
        except OSError:
            result.skipped += 1
            continue
        for entry in listed:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                result.skipped += 1
                continue
            stamp = getattr(st, age_field)
            if stamp > totals[1]:
                totals[1] = stamp
            if _count(result, st, seen_inodes, totals) == "dir":
                pending.append(entry.path)
