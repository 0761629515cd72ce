"""Packaging; the metadata is in setup.cfg. The sdist is a source release: the docs, the
tests and their example suites, the benchmarks, the Makefile and the changelog go in
too, so that ``make test`` runs in it (a MANIFEST.in would be one more top-level file)."""

import os

from setuptools import setup
from setuptools.command.sdist import sdist

_SOURCE_DIRS = ("docs", "tests", "benchmarks")
_SOURCE_FILES = ("Makefile", "CHANGELOG.rst", os.path.join(".ci", "run"))


class _SourceRelease(sdist):
    """sdist with the whole source tree the tests need, caches left out."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, list(files) + _source_files())


def _source_files():
    found = [name for name in _SOURCE_FILES if os.path.exists(name)]
    for top in _SOURCE_DIRS:
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(name for name in dirs if name != "__pycache__")
            found += [os.path.join(folder, name) for name in sorted(files)
                      if not name.endswith(".pyc")]
    return found


setup(cmdclass={"sdist": _SourceRelease})
