"""An image's SBOM: each layer scanned once (results kept in the store by the layer's diff_id), then one document."""

from __future__ import annotations

import json
from dataclasses import asdict

from s2i.files import atomic_write, read_small
from s2i.oci.image import Image
from s2i.oci.types import canonical_json
from s2i.sbom.documents import FORMATS, document
from s2i.sbom.scan import Component, deb_component, scan_layer, unique
from s2i.stack.build import LABEL_PACKAGES
from s2i.store import Store

SCAN_VERSION = "3"  # bump when scanning finds more, so older cached results are not reused


def layer_components(store: Store, layer, look_for_programs: bool) -> list[Component]:
    cache = store.root / "sbom" / f"{layer.diff_id.replace(':', '-')}-{int(look_for_programs)}-v{SCAN_VERSION}.json"
    try:
        return [Component(**entry) for entry in json.loads(read_small(cache, 16 << 20))]
    except (OSError, ValueError, TypeError):
        pass  # not scanned yet, or a damaged entry: scan again
    found = scan_layer(layer, look_for_programs)
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cache, json.dumps([asdict(c) for c in found]).encode())
    return found


def labelled_base(image: Image) -> list[Component]:
    """The packages an s2i stack's run base lists in its label: what its layers' status.d holds, without reading them."""
    text = image.labels.get(LABEL_PACKAGES)
    if text is None:
        return []
    arch = str(image.config.get("architecture", ""))
    stanzas = (f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n" for name, _, version in (w.partition("=") for w in text.split()))
    return [c for c in (deb_component(stanza, f"label {LABEL_PACKAGES}") for stanza in stanzas) if c]


def image_sbom(image: Image, app_layers_from: int, fmt: str, image_name: str, store: Store) -> tuple[str, bytes]:
    """(media type, document bytes) of the image; programs are looked into in the layers s2i added.

    A run base from an s2i stack is known by its label, so its layers (mounted on push, never pulled) are not read."""
    found = labelled_base(image)
    for index, layer in enumerate(image.layers):
        if index < app_layers_from and found:
            continue
        found += layer_components(store, layer, index >= app_layers_from)
    created = image.config.get("created") or "1970-01-01T00:00:00Z"
    return FORMATS[fmt], canonical_json(document(fmt, unique(found), image_name, image.digest, created))
