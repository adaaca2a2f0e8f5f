"""SPDX 2.3 and CycloneDX 1.5 JSON documents for an image's components: deterministic, no clock (dates are the image's)."""

from __future__ import annotations

import re
import uuid

from s2i import __version__
from s2i.sbom.scan import Component

SPDX_MEDIA_TYPE = "application/spdx+json"
CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
FORMATS = {"spdx": SPDX_MEDIA_TYPE, "cyclonedx": CYCLONEDX_MEDIA_TYPE}
NAMESPACE = uuid.UUID("5f0a3bd6-7e4c-4b53-9a37-2e9b8e0c7d11")  # s2i's, so one image always gets one document name


def _spdx_id(component: Component, n: int) -> str:
    return f"SPDXRef-{component.kind}-{re.sub(r'[^A-Za-z0-9.-]+', '-', component.name)[:80]}-{n}"


def spdx(components: list[Component], image_name: str, image_digest: str, created: str) -> dict:
    image_id = "SPDXRef-Image"
    packages = [{
        "SPDXID": image_id, "name": image_name, "versionInfo": image_digest, "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False, "primaryPackagePurpose": "CONTAINER", "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION",
    }]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": image_id}]
    for n, component in enumerate(components, 1):
        spdx_id = _spdx_id(component, n)
        packages.append({
            "SPDXID": spdx_id, "name": component.name, "versionInfo": component.version, "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False, "licenseConcluded": "NOASSERTION", "licenseDeclared": component.license or "NOASSERTION",
            "copyrightText": "NOASSERTION", "primaryPackagePurpose": "LIBRARY", "sourceInfo": f"found in {component.where}",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": component.purl}],
        })
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": spdx_id})
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": f"{image_name}@{image_digest}",
        "documentNamespace": f"https://spdx.org/spdxdocs/s2i-{uuid.uuid5(NAMESPACE, image_digest)}",
        "creationInfo": {"created": created, "creators": [f"Tool: s2i-{__version__}"]},
        "packages": packages, "relationships": relationships,
    }


def cyclonedx(components: list[Component], image_name: str, image_digest: str, created: str) -> dict:
    entries = []
    for component in components:
        entry = {"type": "library", "bom-ref": component.purl, "name": component.name, "version": component.version, "purl": component.purl}
        if component.license:
            entry["licenses"] = [{"expression": component.license}]
        entries.append(entry)
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": f"urn:uuid:{uuid.uuid5(NAMESPACE, image_digest)}", "version": 1,
        "metadata": {"timestamp": created, "tools": {"components": [{"type": "application", "name": "s2i", "version": __version__}]},
                     "component": {"type": "container", "bom-ref": image_digest, "name": image_name, "version": image_digest}},
        "components": entries,
    }


def document(fmt: str, components: list[Component], image_name: str, image_digest: str, created: str) -> dict:
    return (spdx if fmt == "spdx" else cyclonedx)(components, image_name, image_digest, created)
