"""The static files storage: WhiteNoise's hashed and compressed files once ``collectstatic``
has run, the files' own names before."""

from django.contrib.staticfiles.storage import StaticFilesStorage as PlainStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """``collectstatic`` writes hashed, compressed copies and a manifest to STATIC_ROOT, and
    pages link the hashed names, which WhiteNoise serves with far-future cache headers
    (production). Without a manifest (a checkout under runserver, the tests) pages link the
    plain names, which WhiteNoise serves from the apps' folders (WHITENOISE_USE_FINDERS):
    Django's own storage would instead fail every page that links a static file."""

    def url(self, name, force=False):
        if not self.hashed_files and not force:
            return PlainStorage.url(self, name)
        return super().url(name, force)
