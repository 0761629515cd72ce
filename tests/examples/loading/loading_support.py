"""A helper of the example suite that makes its output dir when first imported, as
reportlab's tests/utils.py does."""

import os
import tempfile


def output_dir():
    path = os.path.join(tempfile.gettempdir(), "made_at_import")
    if not os.path.isdir(path):
        os.mkdir(path)
    return path


OUTPUT = output_dir()
