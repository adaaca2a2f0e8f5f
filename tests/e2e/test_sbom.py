"""SBOMs: each build pushes one beside the image (an OCI referrer); `s2i sbom` fetches it; independent tools validate it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import run_image, skopeo_inspect
from tests.e2e.test_build import built

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"
APPS = REPO_ROOT / "tests" / "apps"
PYSPDXTOOLS = shutil.which("pyspdxtools") or str(Path(sys.executable).with_name("pyspdxtools"))


def spdx_valid(path: Path) -> None:
    result = subprocess.run([PYSPDXTOOLS, "-i", str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "ERROR" not in result.stdout + result.stderr, result.stdout + result.stderr


def packages(document: dict) -> dict[str, dict]:
    return {p["name"]: p for p in document["packages"]}


def purls(document: dict) -> set[str]:
    return {ref["referenceLocator"] for p in document["packages"] for ref in p.get("externalRefs", [])}


def test_flask_sbom_is_pushed_as_a_referrer_validates_and_lists_the_venv(builder, registry, tmp_path):
    reference = f"{registry.host}/sbom/flask:1"
    local = tmp_path / "local.spdx.json"
    built(builder("build", EXAMPLES / "flask-hello", reference, "--sbom", local))
    fetched = builder("sbom", reference)
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(fetched.stdout) == json.loads(local.read_text())  # the pushed one is the one written
    spdx_valid(local)
    document = json.loads(local.read_text())
    digest = skopeo_inspect(f"docker://{reference}")["Digest"]
    assert document["packages"][0]["versionInfo"] == digest
    frozen = run_image(f"docker://{reference}", args=["/usr/bin/python3", "-c", "print(open('/opt/venv/s2i-requirements.txt').read())"]).stdout
    pinned = dict(line.split("==") for line in frozen.split() if "==" in line)
    listed = packages(document)
    for name, version in pinned.items():  # flask and every dependency, with the version installed
        assert listed[name]["versionInfo"] == version, name
        assert f"pkg:pypi/{name.lower().replace('_', '-')}@{version}" in purls(document)
    assert {"flask", "libc6", "python3.13-minimal"} <= {name.lower() for name in listed}
    # the fallback tag schema: docker-registry 2.8 has no referrers API
    index = skopeo_inspect(f"docker://{registry.host}/sbom/flask:{digest.replace(':', '-')}", raw=True)
    assert [m["artifactType"] for m in index["manifests"]] == ["application/spdx+json"]


def test_go_and_glibc_c_sboms_name_the_go_version_modules_and_libc(builder, registry, tmp_path):
    go_ref = f"{registry.host}/sbom/go-httpd:1"
    built(builder("build", EXAMPLES / "go-httpd", go_ref))
    go = json.loads(builder("sbom", go_ref).stdout)
    go_version = [p["versionInfo"] for p in go["packages"] if p["name"] == "stdlib"]
    assert go_version and go_version[0].startswith("go1.2")  # the newest Go the default stack has for go.mod's go 1.19
    module = (EXAMPLES / "go-httpd" / "go.mod").read_text().split()[1]
    assert module in packages(go)
    c_ref = f"{registry.host}/sbom/c-zlib:1"
    built(builder("build", APPS / "c-zlib", c_ref, "--run-image", "base", "--sbom-format", "cyclonedx"))
    bom_path = tmp_path / "c.cdx.json"
    bom_path.write_text(builder("sbom", c_ref, "--format", "cyclonedx").stdout)
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(bom_path.read_text()) is None
    names = {c["name"] for c in json.loads(bom_path.read_text())["components"]}
    assert {"libc6", "zlib1g"} <= names
    missing = builder("sbom", c_ref)  # only a CycloneDX one was pushed
    assert missing.returncode != 0 and "has no spdx SBOM" in missing.stderr
