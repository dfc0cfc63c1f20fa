"""A small application declared the way the platform declares its models, for the
``platform_contract`` command's tests (``--source tests --metadata platform_fixture.db:Base``).
It is never imported as ``tests.platform_fixture``."""
