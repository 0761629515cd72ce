"""``python -m tempguard.runner``: a drop-in for ``python -m unittest`` that guards temp files.

Kept thin on purpose: run with -m this file is ``__main__``, so the classes
live in importable modules (result, program) and exist only once.
"""

from .program import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
