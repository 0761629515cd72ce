"""``python -m tempguard``: which command does what (the package itself runs nothing)."""

import sys

from . import __version__

_GUIDE = """tempguard %s: unittest suites that leave no temporary files behind.

  python -m tempguard.runner ARGS     run tests as python -m unittest does (the same
                                      arguments), each guarded: leaks reported and removed
  python -m tempguard.monitor [DIR]   what sits in the temp dir; --watch to follow it,
                                      --clean-orphans and --clean to remove
  python -m tempguard.report show F   a run's JSON report as the run printed it;
                                      merge -o OUT IN... joins CI shards' reports
  pytest --tempguard                  the same under pytest

Each takes --help. The guide is README.rst; the manual is docs/.
"""


def main():
    sys.stdout.write(_GUIDE % __version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
