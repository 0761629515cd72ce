"""Example (data for tests/test_integrations.py): a Django DiscoverRunner with tempguard."""

import os
import sys
import tempfile

import django
from django.conf import settings

if not settings.configured:  # the runner imports this module a second time
    settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                              "NAME": ":memory:"}},
                       INSTALLED_APPS=[], SECRET_KEY="only-for-this-example")
    django.setup()

from django.test import SimpleTestCase, TestCase  # noqa: E402

import tempguard  # noqa: E402
from tempguard.django import TempGuardDiscoverRunner  # noqa: E402


class Views(tempguard.TempGuardMixin, SimpleTestCase):

    def test_upload_is_cleaned(self):
        self.assertTrue(self.temp_file(b"upload", name="upload.bin").exists())


class Models(TestCase):

    def test_leaks_an_export(self):
        handle, _path = tempfile.mkstemp(suffix=".django-export")
        os.close(handle)


if __name__ == "__main__":
    failures = TempGuardDiscoverRunner(verbosity=1).run_tests(["example_django"])
    sys.exit(bool(failures))
