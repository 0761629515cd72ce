"""The planted suite under Django's test command: django_planted.py [fork|spawn] [test args]."""

import multiprocessing
import sys

import django
from django.conf import settings

settings.configure(DATABASES={}, INSTALLED_APPS=[], SECRET_KEY="planted",
                   TEST_RUNNER="tempguard.django.TempGuardDiscoverRunner")
django.setup()

if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[1])
    from django.core.management import execute_from_command_line
    execute_from_command_line([sys.argv[0], "test"] + sys.argv[2:])
