"""The run root of a run whose children outlive it, removed once they have exited.

Pool workers, servers and daemons that a test started may still run when the
run ends. Their dirs cannot be removed while they may write there, and
leaving the root to a later run's pruning leaves it for good on a machine
where tempguard does not run again. So the run's last step hands the root
to a small process of its own, detached in a session of its own, that
waits for those processes to exit and then removes the root as the run
would have (RunRoot.close). It inherits the root's descriptors and their
flock, so the run stays live to other runs and to the monitor until it is
done, and it holds nothing else: not the terminal, not the caller's pipes.
"""

import gc
import signal
import time
import warnings

from .children import INHERITED_WAIT_SECONDS
from .real import os
from . import capabilities as _capabilities

__all__ = ["remove_when_free"]

_POLL_SECONDS = 0.25


def remove_when_free(root, scopes, keep_runs):
    """Hand *root* over to a detached process that removes it (RunRoot.close with
    *keep_runs*) once no process uses any of *scopes* (see ChildDir.user).

    None if that process started; else the root is left, marked finished, for
    a later run or the monitor to prune, and the note that says so is returned.
    Either way this process no longer holds the root.
    """
    if not _capabilities.FORK:
        return _left(root, "this platform has no fork")
    try:
        keep = root.descriptors()
        with warnings.catch_warnings():
            # 3.12+ warns of fork in a threaded process: the reaper only sleeps and removes.
            warnings.simplefilter("ignore", DeprecationWarning)
            first = os.fork()
    except (OSError, RuntimeError) as error:
        # HandleLostError included: the root is no longer at hand; RuntimeError: 3.12
        # refuses to fork in atexit handlers ("can't fork at interpreter shutdown").
        return _left(root, error)
    if first == 0:
        started = False
        try:
            os.setsid()
            if os.fork() == 0:
                _reap(root, scopes, keep_runs, keep)
            started = True
        finally:
            os._exit(0 if started else 1)
    try:
        _, status = os.waitpid(first, 0)
    except ChildProcessError:  # a test set SIGCHLD to SIG_IGN: children are not waited for
        status = 0
    if status != 0:
        return _left(root, "it could not fork")
    root.let_go()
    return None


def _left(root, why):
    root.leave()
    return ("%s: no process could be started to remove the run root once the run's "
            "children have exited (%s); left for a later run or the monitor to prune"
            % (root.path, why))


def _reap(root, scopes, keep_runs, keep):
    """In the detached process: wait until *scopes* are free, then remove *root*. Never
    returns, whatever happens."""
    try:
        gc.disable()  # a finalizer of the parent's objects could close a descriptor of ours
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        _close_all_but(set(keep) | {0, 1, 2})
        os.chdir("/")
        root.adopt()
        inherited_until = time.monotonic() + INHERITED_WAIT_SECONDS
        while True:
            busy = [scope for scope in scopes if scope.user() is not None]
            if not busy or (time.monotonic() > inherited_until
                            and not any(scope.holder() for scope in busy)):
                break
            time.sleep(_POLL_SECONDS)
        root.close(keep_runs)
    finally:
        os._exit(0)


def _close_all_but(keep):
    """Close every descriptor of this process but *keep*."""
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: every number up to the limit
        open_fds = range(os.sysconf("SC_OPEN_MAX"))
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
