"""Shared by the owner examples: whether the owner forgets to remove what it was handed."""

import os
import shutil

FORGET = os.environ.get("EXAMPLE_FORGET") == "1"


def remove(path):
    """The owner's removal, which it skips when it forgets."""
    if not FORGET:
        shutil.rmtree(path)
