"""A glibc C program's SBOM names the Debian packages of the libraries bundled beside it, at the builder's versions."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import run_image, skopeo_inspect
from tests.e2e.test_build import APPS, app_copy, built
from tests.e2e.test_sbom import packages, purls, spdx_valid

pytestmark = pytest.mark.e2e


def test_bundled_libpng_is_listed_as_its_debian_package_and_the_image_is_stable(builder, registry, tmp_path):
    first_ref, sbom = f"{registry.host}/sbom-c/png:1", tmp_path / "png.spdx.json"
    result = builder("build", app_copy(tmp_path / "one", APPS / "c-png"), first_ref, "--sbom", sbom, timeout=600)
    reference = built(result)
    run = run_image(f"docker://{reference}")
    assert run.returncode == 0 and run.stdout.startswith("libpng 1.6.") and run.stdout.endswith(", hello from libgreet\n"), run
    spdx_valid(sbom)
    document = json.loads(sbom.read_text())
    # the builder's versions: what the build packages label records of what was added to it
    labels = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]
    added = dict(word.split("=", 1) for word in labels["io.s2i.build.packages"].split())
    png = [name for name in added if name.startswith("libpng16-16")]  # libpng16-16t64 on trixie
    assert len(png) == 1, added
    listed = packages(document)[png[0]]
    assert listed["versionInfo"] == added[png[0]]
    assert listed["sourceInfo"] == f"found in /var/lib/dpkg/status.d/{png[0]}"  # the libs layer's record, not the base's
    version = added[png[0]].replace(":", "%3A").replace("+", "%2B")
    assert f"pkg:deb/debian/{png[0]}@{version}?arch=amd64" in purls(document)
    assert "libgreet" not in json.dumps(document)  # the project's own library is the app's, not a Debian package
    assert "libpng-dev" not in packages(document)  # headers stay in the build
    assert f"bundled files of Debian packages (recorded in /var/lib/dpkg/status.d): " in result.stderr
    again = builder("build", app_copy(tmp_path / "two", APPS / "c-png"), f"{registry.host}/sbom-c/png:2", timeout=600)
    assert built(again).rsplit("@", 1)[1] == reference.rsplit("@", 1)[1]  # same build, same libs layer, same image
