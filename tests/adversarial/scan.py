"""Looking for secrets: in command output, and in every blob a registry stores (layers decompressed)."""

from __future__ import annotations

import base64
import gzip


def secret_forms(user: str, password: str) -> list[str]:
    return [password, base64.b64encode(f"{user}:{password}".encode()).decode()]


def blob_texts(registry) -> list[bytes]:
    """Every blob the registry stores, decompressed when it is a gzip layer."""
    texts = []
    for path in (registry.storage / "docker/registry/v2/blobs").glob("*/*/*/data"):
        data = path.read_bytes()
        texts.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return texts


def assert_nowhere(secrets: list[str], *texts) -> None:
    for text in texts:
        raw = text if isinstance(text, bytes) else text.encode()
        for secret in secrets:
            assert secret.encode() not in raw
