"""tempguard: unittest suites that leave no temporary files behind."""

from .cleanup import CleanupProblem, CleanupResult
from .errors import TempGuardError, TempLeakWarning, UnsafePathError
from .mixin import TempGuardMixin
from .program import TempGuardRunner
from .result import TempGuardResult
from .tracking import (
    ContextStats, TrackingContext, cleanup_all, create_temp_directory,
    create_temp_file, create_temp_tree, current_context, get_stats,
    register_directory, register_file, tracking,
)

__version__ = "0.2.0"

__all__ = [
    "CleanupProblem", "CleanupResult", "ContextStats", "TempGuardError",
    "TempGuardMixin", "TempGuardResult", "TempGuardRunner", "TempLeakWarning",
    "TrackingContext", "UnsafePathError", "cleanup_all",
    "create_temp_directory", "create_temp_file", "create_temp_tree",
    "current_context", "get_stats", "register_directory", "register_file",
    "tracking",
]
