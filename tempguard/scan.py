"""Measuring a temp directory: what is there, how big, how old, and which run roots."""

import collections
import fnmatch
import gc
import heapq
import operator
import stat

from .real import os
from . import sandbox as _sandbox
from .cleanup import inode_key, is_link

__all__ = ["AGE_BY", "AGE_FIELDS", "Entry", "ScanResult", "scan"]

# Index of each time in a stat result, in whole seconds: ages are given in s, m, h, d.
AGE_FIELDS = {"atime": stat.ST_ATIME, "mtime": stat.ST_MTIME, "ctime": stat.ST_CTIME}
# What --age-by takes: one of those, or the newest of the three, as systemd-tmpfiles ages.
AGE_BY = sorted(AGE_FIELDS) + ["newest"]
_FORMAT_MASK = 0o170000


class Entry(collections.namedtuple("Entry", "path kind size newest uid identity")):
    """A top-level entry: kind (file, dir, link, other), bytes within it, the
    newest age stamp within it, its owner, and its identity (see
    cleanup.version_key), which tells it apart from a replacement made after the scan."""

    __slots__ = ()


class ScanResult(object):
    """Counts over the matching entries of one directory, and the entries themselves."""

    def __init__(self, path):
        self.path = path
        self.files = self.dirs = self.links = self.bytes = self.skipped = 0
        self.run_roots = []
        # Flat tuples of ints: keeping each stat result, or an Entry per row,
        # costs a fifth of a bare lstat.
        self._rows = []

    @property
    def entries(self):
        """Every matching top-level entry, as Entry."""
        return [_entry(row) for row in self._rows]

    def __len__(self):
        return len(self._rows)

    def as_json(self, top):
        def describe(entry):
            return {"path": entry.path, "kind": entry.kind, "bytes": entry.size,
                    "newest": entry.newest}
        return {"path": self.path, "entries": len(self), "files": self.files,
                "dirs": self.dirs, "links": self.links, "bytes": self.bytes,
                "skipped": self.skipped,
                "oldest": [describe(entry) for entry in self.oldest(top)],
                "largest": [describe(entry) for entry in self.largest(top)],
                "run_roots": [dict(info._asdict()) for info in self.run_roots]}

    def oldest(self, count):
        return [_entry(row)
                for row in heapq.nsmallest(count, self._rows, key=operator.itemgetter(3))]

    def largest(self, count):
        return [_entry(row)
                for row in heapq.nlargest(count, self._rows, key=operator.itemgetter(2))]


def _entry(row):
    path, kind, size, newest, uid, device, inode, mtime_ns = row
    return Entry(path, kind, size, newest, uid, (device, inode, mtime_ns))


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def scan(directory, patterns=(), excludes=(), age_by="newest"):
    """Scan *directory*: every top-level entry matching *patterns* (all if none), minus *excludes*.

    Links are counted, never followed; a hard-linked file is counted once;
    entries that vanish or cannot be read are counted as skipped.
    """
    # The collector would walk the growing list of rows again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _scan(directory, patterns, excludes, age_by)
    finally:
        if collecting:
            gc.enable()


def _scan(directory, patterns, excludes, age_by):
    # This loop runs once per entry of directories with 100,000 entries, so it
    # is kept flat: no call per entry beyond the lstat.
    age_index = AGE_FIELDS.get(age_by)  # None: the newest of atime, mtime and ctime
    atime, mtime, ctime = stat.ST_ATIME, stat.ST_MTIME, stat.ST_CTIME
    regular, directory_type, link = stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK
    result = ScanResult(directory)
    append = result._rows.append
    seen_inodes = set()
    files = dirs = links = total = 0
    with os.scandir(directory) as top_entries:
        for top in top_entries:
            if patterns and not _matches(top.name, patterns):
                continue
            if excludes and _matches(top.name, excludes):
                continue
            try:
                st = top.stat(follow_symlinks=False)
            except OSError:
                result.skipped += 1
                continue
            file_type = st.st_mode & _FORMAT_MASK
            newest = st[age_index] if age_index else max(st[atime], st[mtime], st[ctime])
            size = 0
            if file_type == regular:
                kind = "file"
                files += 1
                if st.st_nlink == 1 or _first_sight(st, seen_inodes):
                    size = st.st_size
                    total += size
            elif file_type == directory_type and not is_link(st):  # a junction is a link
                kind = "dir"
                dirs += 1
                size, newest = _walk(top.path, st.st_dev, result, seen_inodes, newest,
                                     age_index)
                total += size
                if _sandbox.is_run_root_name(top.name):
                    info = _sandbox.read_run_root(top.path)
                    if info is not None:
                        result.run_roots.append(info)
            elif file_type == link or is_link(st):
                kind = "link"
                links += 1
            else:
                kind = "other"
            append((top.path, kind, size, newest, st.st_uid, st.st_dev, st.st_ino,
                    st.st_mtime_ns))
    result.files += files
    result.dirs += dirs
    result.links += links
    result.bytes += total
    return result


def _first_sight(st, seen_inodes):
    """True the first time a hard-linked inode is met."""
    inode = inode_key(st)
    if inode in seen_inodes:
        return False
    seen_inodes.add(inode)
    return True


def _walk(top, device, result, seen_inodes, newest, age_index):
    """Count everything below a directory without following links or entering another
    filesystem on *device*'s tree (a mount of / would be walked whole); return (bytes,
    newest stamp)."""
    atime, mtime, ctime = stat.ST_ATIME, stat.ST_MTIME, stat.ST_CTIME
    size = 0
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
            stamp = st[age_index] if age_index else max(st[atime], st[mtime], st[ctime])
            if stamp > newest:
                newest = stamp
            mode = st.st_mode
            if stat.S_ISREG(mode):
                result.files += 1
                if st.st_nlink == 1 or _first_sight(st, seen_inodes):
                    size += st.st_size
            elif stat.S_ISDIR(mode) and not is_link(st):  # a junction is a link
                result.dirs += 1
                if st.st_dev == device:
                    pending.append(entry.path)
            elif stat.S_ISLNK(mode) or is_link(st):
                result.links += 1
    return size, newest
