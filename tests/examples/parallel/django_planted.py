"""The planted suite under Django's test command: django_planted.py [fork|spawn] [test args]."""

import multiprocessing
import os
import sys

import django
from django.conf import settings

# PLANTED_PLAIN=1: Django's own runner, to compare with.
settings.configure(DATABASES={}, INSTALLED_APPS=[], SECRET_KEY="planted",
                   TEST_RUNNER="django.test.runner.DiscoverRunner" if os.environ.get(
                       "PLANTED_PLAIN") else "tempguard.django.TempGuardDiscoverRunner")
django.setup()

if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[1])
    from django.core.management import execute_from_command_line
    execute_from_command_line([sys.argv[0], "test"] + sys.argv[2:])
