"""A run's settings, and the one checker of every policy, wherever it is set.

Options, TEMPGUARD_* environment variables, class attributes and pytest
markers all go through it, with one message that names where a bad value
came from; a bad value is an error before anything is created.
"""

import argparse
import collections
import difflib
import re
import urllib.parse

from .real import os
from . import origins as _origins
from . import keep as _keep
from .inputs import check_output_file
from .invocation import INVOCATION_ENV
from .options import (ANNOTATIONS_SETTINGS, KEEP_POLICIES, LEAK_POLICIES, OPTIONS,
                      ORIGINS_SETTINGS, OUTSIDE_SETTINGS, SETTING_NAMES)

__all__ = ["ANNOTATIONS_SETTINGS", "LEAK_POLICIES", "KEEP_POLICIES", "OPTIONS",
           "ORIGINS_SETTINGS", "OUTSIDE_SETTINGS", "SETTING_NAMES", "Settings", "byte_count",
           "checked_policy", "class_policy", "directory_argument", "exit_code", "origins_mode",
           "whole_number"]

DEFAULT_KEEP_RUNS = 3


class Settings(object):
    """Run settings: explicit arguments win over TEMPGUARD_* environment variables."""

    def __init__(self, leaks=None, keep=None, keep_runs=None, report=None, watch=None,
                 origins=None, outside=None, all_leaks=None, baseline=None,
                 update_baseline=None, leaks_exit_code=None, annotations=None, keep_dir=None,
                 keep_max_bytes=None, environ=None):
        environ = os.environ if environ is None else environ
        _check_names(environ)
        self.leaks = _choice("leaks", leaks, environ.get("TEMPGUARD_LEAKS"), LEAK_POLICIES, "warn")
        self.origins = _choice("origins", origins, environ.get("TEMPGUARD_ORIGINS"),
                               ORIGINS_SETTINGS, "on")
        self.keep = _choice("keep", keep, environ.get("TEMPGUARD_KEEP"), KEEP_POLICIES, "failed")
        self.outside = _choice("outside", outside, environ.get("TEMPGUARD_OUTSIDE"),
                               OUTSIDE_SETTINGS, "evidence")
        self.keep_runs = _count_setting("keep_runs", keep_runs, environ.get("TEMPGUARD_KEEP_RUNS"),
                                        DEFAULT_KEEP_RUNS)
        self.all_leaks = _flag("all_leaks", all_leaks, environ.get("TEMPGUARD_ALL_LEAKS"))
        self.annotations = _choice("annotations", annotations,
                                   environ.get("TEMPGUARD_ANNOTATIONS"), ANNOTATIONS_SETTINGS,
                                   "github" if environ.get("GITHUB_ACTIONS") == "true" else "none")
        self.github = GitHub.of(environ)
        self.leaks_exit_code = _exit_code_setting(leaks_exit_code,
                                                  environ.get("TEMPGUARD_LEAKS_EXIT_CODE"))
        self.keep_max_bytes = _bytes_setting(keep_max_bytes,
                                             environ.get("TEMPGUARD_KEEP_MAX_BYTES"))
        keep_dir = keep_dir if keep_dir is not None else environ.get("TEMPGUARD_KEEP_DIR") or None
        self.keep_dir = None if keep_dir is None else _keep.checked(keep_dir)
        self.baseline_path, self.update_baseline = self._baseline(baseline, update_baseline,
                                                                  environ)
        self.baseline = None  # loaded where the run starts (see baseline.resolve)
        report = report if report is not None else environ.get("TEMPGUARD_REPORT") or None
        self.report = None if report is None else check_output_file(report, "report")
        self.origins_mode = origins_mode(self.origins)
        given = [os.path.abspath(os.fspath(path)) for path in (watch or ())]
        for path in given:
            if not os.path.isdir(path):
                raise NotADirectoryError("--watch %s: not a directory" % path)
        # Resolved once: a directory is held by its fd, and a link cannot be held.
        self.watch = [os.path.realpath(path) for path in given]
        self.linked = [(path, real) for path, real in zip(given, self.watch) if path != real]

    @staticmethod
    def _baseline(path, update, environ):
        """(the baseline's path or None, whether to rewrite it); --update-baseline needs
        --baseline, and a file it may write (checked before anything runs)."""
        update = _flag("update_baseline", update, environ.get("TEMPGUARD_UPDATE_BASELINE"))
        path = path if path is not None else environ.get("TEMPGUARD_BASELINE") or None
        if path is None:
            if update:
                raise ValueError("update_baseline needs a baseline file (--baseline FILE)")
            return None, False
        return (check_output_file(path, "baseline") if update else os.path.abspath(path)), update


class GitHub(collections.namedtuple("GitHub", "workspace step_summary commit_url")):
    """What GitHub Actions tells a run in its environment, read as the run starts (a test
    may change os.environ and the cwd): the repository's directory (else the cwd), the
    step summary file, and the URL of the commit's tree, if it names one."""

    __slots__ = ()

    @classmethod
    def of(cls, environ):
        server, repository, commit = (environ.get(name) for name in (
            "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
        commit_url = ("%s/%s/blob/%s" % (server, urllib.parse.quote(repository),
                                         urllib.parse.quote(commit))
                      if server and repository and commit else None)
        summary = environ.get("GITHUB_STEP_SUMMARY")
        return cls(os.path.abspath(environ.get("GITHUB_WORKSPACE") or os.getcwd()),
                   os.path.abspath(summary) if summary else None, commit_url)


def origins_mode(setting):
    """What a report says of origins: on, off, or why they are unavailable."""
    if setting == "off":
        return "off"
    return "on" if _origins.AVAILABLE else _origins.UNAVAILABLE_REASON


# The TEMPGUARD_* variables a run reads: one per setting (TEMPGUARD_WATCH aside: --watch
# takes several), and the invocation id.
_ENVIRONMENT = frozenset(["TEMPGUARD_" + name.upper() for name in SETTING_NAMES
                          if name != "watch"] + [INVOCATION_ENV])


def _check_names(environ):
    """A TEMPGUARD_* variable that is none of tempguard's is a misspelling: TEMPGUARD_LEAK
    would be ignored without a word. ValueError names it, and the nearest known one."""
    for name in sorted(environ):
        if name.startswith("TEMPGUARD_") and name not in _ENVIRONMENT:
            near = difflib.get_close_matches(name, sorted(_ENVIRONMENT), n=1)
            raise ValueError("%s is not a tempguard setting%s" % (
                name, "; did you mean %s?" % near[0] if near else
                " (see docs/runner.rst for the TEMPGUARD_* variables)"))


def _choice(name, value, env_value, choices, default):
    source = name if value is not None else "TEMPGUARD_" + name.upper()
    return _checked(value if value is not None else env_value or default, choices, source)


def _checked(value, choices, source):
    if not isinstance(value, str) or value not in choices:
        raise ValueError("%s must be one of %s, not %r" % (source, ", ".join(choices), value))
    return value


def checked_policy(name, value, source):
    """*value* as the "leaks" or "keep" policy that *source* (a class attribute, a
    marker) sets, or None if it sets none. Raises ValueError naming *source* and the
    value, as bad options and environment variables do (see Settings)."""
    if value is None:
        return None
    return _checked(value, LEAK_POLICIES if name == "leaks" else KEEP_POLICIES, source)


def class_policy(cls, name):
    """The "leaks" or "keep" policy a test class sets (tempguard_leaks, tempguard_keep),
    or None; checked (see checked_policy)."""
    return checked_policy(name, getattr(cls, "tempguard_" + name, None),
                          "%s.%s.tempguard_%s" % (cls.__module__, cls.__qualname__, name))


def _flag(name, value, env_value):
    source = name if value is not None else "TEMPGUARD_" + name.upper()
    value = value if value is not None else env_value or "0"
    if isinstance(value, bool):
        return value
    if value not in ("0", "1"):
        raise ValueError("%s must be 1 or 0, not %r" % (source, value))
    return value == "1"


def _count_setting(name, value, env_value, default):
    return _parsed(name, value, env_value, default, whole_number, "a whole number >= 0")


def _exit_code_setting(value, env_value):
    return _parsed("leaks_exit_code", value, env_value, None, exit_code,
                   "an exit status from 1 to 255 other than 2 (a usage error's)")


def _bytes_setting(value, env_value):
    return _parsed("keep_max_bytes", value, env_value, None, byte_count,
                   "a number of bytes (such as 500000, 64K, 10M or 2G)")


def _parsed(name, value, env_value, default, parse, what):
    """*value*, else *env_value*, through *parse* (None for a bad value: an error that
    says *what* it must be); *default* if neither is given."""
    source = name if value is not None else "TEMPGUARD_" + name.upper()
    value = value if value is not None else env_value
    if value is None or value == "":
        return default
    parsed = parse(value)
    if parsed is None:
        raise ValueError("%s must be %s, not %r" % (source, what, value))
    return parsed


_DIGITS = re.compile(r"[0-9]+\Z")
_UNITS = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def byte_count(value):
    """*value* (an int, or text such as 500000, 64K, 10M, 2G) as bytes; None if it is not."""
    if isinstance(value, str) and value[-1:].upper() in _UNITS:
        number = whole_number(value[:-1])
        return None if number is None else number * _UNITS[value[-1:].upper()]
    return whole_number(value)


def exit_code(value):
    """*value* (an int, or its text) as an exit status from 1 to 255 but 2, which says a
    usage error (unittest's, argparse's) and would read as one; None if it is not one."""
    number = whole_number(value)
    return number if number is not None and 1 <= number <= 255 and number != 2 else None


def whole_number(value):
    """*value* (an int, or its text) as a whole number >= 0; None if it is not one."""
    if isinstance(value, bool) or (isinstance(value, str) and not _DIGITS.match(value)):
        return None  # int() also takes "٣" (Arabic-Indic), "+3", " 3" and "1_000"
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def directory_argument(text):
    """An argparse type: an existing directory, as an absolute path."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError("%s does not exist" % text)
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError("%s is not a directory" % text)
    return os.path.abspath(text)
