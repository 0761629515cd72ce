"""Example (data for tests/test_mixin.py): a mixin class whose leaking test it inherits from
a plain TestCase of another module (example_leaky_base)."""

import tempguard
from example_leaky_base import LeakyBase


class Inherited(tempguard.TempGuardMixin, LeakyBase):
    """The mixin around a test written elsewhere."""


del LeakyBase
