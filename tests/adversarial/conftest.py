"""The e2e fixtures (registries, the session's stack, isolated s2i runners) for the adversarial tests."""

from tests.e2e.conftest import *  # noqa: F401,F403
