"""The real ``os``, ``os.path`` and ``tempfile.mkstemp`` tempguard calls, bound as it is
imported: a test's doubles never see tempguard's own calls.

Tests replace file-system functions: ``mock.patch("os.lstat")`` in a class's
setUpClass, ``shutil.rmtree`` mocks asserting call counts, pyfakefs's fake
``os`` put in every module that imported ``os``. tempguard's modules import
``os`` from here instead: a copy of the module taken now, under another name
(pyfakefs fakes a module attribute only when it is the module named ``os``),
whose ``path`` functions are rebound to call this copy. What tempguard must
observe as the test changed it (``os.environ``, ``tempfile.tempdir``,
``tempfile.gettempdir()``) is read where it lives.
"""

import os as _os
import tempfile as _tempfile
import types as _types

__all__ = ["mkstemp", "os"]


class _Snapshot(_types.ModuleType):
    """A module's attributes as they are now; ``environ`` as it is when read (a test
    may replace ``os.environ`` itself, and the sandbox's TMPDIR must follow it)."""

    @property
    def environ(self):
        return _os.environ


def _rebound(namespace, replacements):
    """The Python functions of *namespace* (a module's dict), each a copy whose globals
    are a copy of its module's in which *replacements* (names: objects) stand, and so
    do the copies of the other functions of *namespace*."""
    copied_globals, rebound = {}, {}
    for name, function in namespace.items():
        if not isinstance(function, _types.FunctionType):
            continue
        globals_ = copied_globals.get(id(function.__globals__))
        if globals_ is None:
            globals_ = copied_globals[id(function.__globals__)] = dict(function.__globals__)
        copy = _types.FunctionType(function.__code__, globals_, function.__name__,
                                   function.__defaults__, function.__closure__)
        copy.__kwdefaults__ = function.__kwdefaults__
        copy.__qualname__, copy.__doc__ = function.__qualname__, function.__doc__
        rebound[name] = copy
    for globals_ in copied_globals.values():
        globals_.update((name, copy) for name, copy in rebound.items() if name in globals_)
        globals_.update(replacements)
    return rebound


def _snapshot(module, name, replacements):
    copy = _Snapshot(name, module.__doc__)
    copy.__dict__.update((key, value) for key, value in vars(module).items()
                         if key not in ("__name__", "environ"))
    copy.__dict__.update(_rebound(vars(module), replacements))
    return copy


os = _snapshot(_os, "tempguard.real.os", {})
os.path = _snapshot(_os.path, "tempguard.real.path", {"os": os})
os.makedirs.__globals__["path"] = os.path  # os.py's own functions (walk, makedirs) too

# tempfile's own file making over the real os; tempguard always gives dir=, so the
# copy of tempfile.tempdir in its globals is never read.
mkstemp = _rebound(vars(_tempfile), {"_os": os})["mkstemp"]
