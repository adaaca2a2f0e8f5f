"""C apps shaped like public ones, built with defaults: memcached's autogen.sh that writes what configure.ac includes."""

from __future__ import annotations

import pytest

from tests.e2e.test_cpp import build_and_run

pytestmark = pytest.mark.e2e


def test_autogen_sh_runs_before_configure_ac_when_both_are_there(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "c-autogen")
    assert "$ sh ./autogen.sh" in log and "autoreconf: error" not in log
    assert out == "stamper 2.4.1\n"  # the version autogen.sh wrote into version.m4
    assert config["Entrypoint"] == ["/s2i/launch", "/app/stamper"]
