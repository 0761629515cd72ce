"""A test that plants a link among what the workers hand the xdist controller at exit."""

import os


def test_plants_a_link(request):
    late_dir = request.config.workerinput["tempguard_late_dir"]
    os.symlink(os.path.join(os.path.dirname(os.path.abspath(__file__)), "counts_suite.py"),
               os.path.join(late_dir, "planted.json"))
