"""Fixtures for the adversarial e2e tests: the e2e ones (registries, s2i runners, the built stack)."""

from tests.e2e.conftest import *  # noqa: F401,F403
