"""tempguard: unittest suites that leave no temporary files behind.

The modules in layers, lowest first; each imports only from its own layer and those
before it (tests/test_packaging.py checks; docs/architecture.rst says what each module
does, and in which order to read them):

* base: real, capabilities, errors, options, cleanup, held, copying, inuse, inputs,
  invocation;
* data: records, wire, handoff;
* detect: tracking, sandbox, children, origins, ownership, watch;
* outputs: output, jsonreport, baseline, github;
* run: reaper, keep, judge, scopes, guard, closing, settings, session;
* drivers: runner, result, program, supervisor, mixin, django, pytest_plugin,
  pytest_guard, pytest_report, pytest_xdist, monitor, scan, report.

The runner's, the mixin's and the results' names are imported when first used, so
that pytest's loading of an installed, inactive plugin costs little and changes
nothing.
"""

import importlib
import sys
from typing import TYPE_CHECKING

# Imported now: the module tracking would otherwise stand where the function does.
from .tracking import (
    ContextStats, TrackingContext, cleanup_all, create_temp_directory,
    create_temp_file, create_temp_tree, current_context, get_stats,
    register_directory, register_file, tracking,
)

__version__ = "0.2.0"

if TYPE_CHECKING:  # what type checkers see; at run time _LAZY imports them when first used
    from .cleanup import CleanupProblem, CleanupResult
    from .errors import TempGuardError, TempLeakWarning, UnsafePathError
    from .mixin import TempGuardMixin
    from .program import TempGuardRunner
    from .result import TempGuardResult

# Each public name imported when first used, and the module that defines it.
_LAZY = {
    "CleanupProblem": "cleanup", "CleanupResult": "cleanup", "TempGuardError": "errors",
    "TempLeakWarning": "errors", "UnsafePathError": "errors",
    "TempGuardMixin": "mixin", "TempGuardRunner": "program", "TempGuardResult": "result",
}

__all__ = [
    "CleanupProblem", "CleanupResult", "ContextStats", "TempGuardError",
    "TempGuardMixin", "TempGuardResult", "TempGuardRunner", "TempLeakWarning",
    "TrackingContext", "UnsafePathError", "cleanup_all",
    "create_temp_directory", "create_temp_file", "create_temp_tree",
    "current_context", "get_stats", "register_directory", "register_file",
    "tracking",
]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


if sys.version_info < (3, 7):  # no module __getattr__ before 3.7 (PEP 562): import now
    for _name in _LAZY:
        __getattr__(_name)
