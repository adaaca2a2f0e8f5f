"""Debian packages an app adds: names checked against the stack's index, a run layer of .debs, the builder extended.

Both kinds are cached by what they hold (each package's name, version and the SHA256 s2i computed of its
.deb, which must match the archive's index): the run layer as a keyed layer, the extended builder as its
own rootfs in the store, made beside the stack's builder rootfs (hard links; files are replaced, never
written through) and renamed into place whole.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from s2i.build.closure import library_owners, missing_packages, names_in
from s2i.errors import S2IError, UsageError
from s2i.oci.image import Image, Layer
from s2i.progress import log
from s2i.stack.build import PRUNED, layer_from_tree, prune
from s2i.stack.debian import AptArchive, extract_deb
from s2i.stack.files import Stack
from s2i.stack.images import deb_cache
from s2i.stack.packages import Package, check_known, describe, parse_index, resolve
from s2i.stack.rootfs import unpack_image
from s2i.store import Store, remove_tree

BUILD_LABEL = "io.s2i.build.packages"
RUN_LABEL = "io.s2i.run.packages"


@dataclass
class PackageIndex:
    """The stack's suites as apt sees them today, read once per build and only when an app asks for packages."""

    stack: Stack
    store: Store
    _index: dict[str, Package] | None = field(default=None, repr=False)

    @property
    def archive(self) -> AptArchive:
        return AptArchive(deb_cache(self.store), self.stack.architecture, self.stack.suite, self.stack.extra_suites)

    @property
    def suites(self) -> str:
        return f"stack {self.stack.name} ({'+'.join((self.stack.suite, *self.stack.extra_suites))})"

    @property
    def index(self) -> dict[str, Package]:
        if self._index is None:
            archive = self.archive
            if not archive.ready:
                log(f"reading the Debian package index ({self.suites})")
                archive.update()
            self._index = parse_index(archive.available())
        return self._index

    def check(self, names: tuple[str, ...], setting: str) -> None:
        if names:
            check_known(names, self.index, setting, self.suites)

    def download(self, packages: list[Package]) -> list[Path]:
        """The .debs, each checked against the SHA256 of the archive's (signed) index before use."""
        archive = self.archive
        archive.records({p.name: p.version for p in packages})  # one apt-cache call for all
        return [archive.download(p.name, p.version) for p in packages]


def installed_packages(root: Path) -> dict[str, str]:
    """name -> version from an image's dpkg database: `status` (full installs) and `status.d/` (distroless style)."""
    texts = []
    status = root / "var/lib/dpkg/status"
    if status.is_file() and not status.is_symlink():
        texts.append(status.read_text(errors="replace"))
    status_d = root / "var/lib/dpkg/status.d"
    if status_d.is_dir() and not status_d.is_symlink():
        texts += [p.read_text(errors="replace") for p in sorted(status_d.iterdir()) if p.is_file() and not p.is_symlink()]
    found = {}
    for stanza in "\n\n".join(texts).split("\n\n"):
        fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith(" "))
        status_field = fields.get("Status", " installed").split()
        if "Package" in fields and "Version" in fields and status_field[-1:] == ["installed"]:
            found[fields["Package"].strip()] = fields["Version"].strip()
    return found


def content_key(kind: str, packages: list[Package], *parts: str) -> str:
    digest = hashlib.sha256(kind.encode() + b"\0")
    for part in (*parts, *(f"{p.name} {p.version} {p.sha256}" for p in packages)):
        digest.update(part.encode() + b"\0")
    return "sha256:" + digest.hexdigest()


def run_layer(packages: list[Package], index: PackageIndex, store: Store, mtime: int, compression: str) -> Layer:
    """The packages' files as one layer, extracted without maintainer scripts as the stack's run bases are."""
    key = content_key("run-packages", packages, str(mtime), compression)
    cached = store.keyed_layer(key)
    if cached:
        descriptor, diff_id, _ = cached
        log(f"reusing the run packages layer: {describe(packages)}")
        return Layer(descriptor, diff_id, store.blob(descriptor))
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".run-packages-") as temp:
        root = Path(temp) / "rootfs"
        (root / "var/lib/dpkg/status.d").mkdir(parents=True)
        for package, deb in zip(packages, index.download(packages)):
            (root / "var/lib/dpkg/status.d" / package.name).write_text(extract_deb(deb, root))
        prune(root, PRUNED)
        layer = layer_from_tree(root, store, mtime, compression)
    store.remember_keyed_layer(key, layer.descriptor, layer.diff_id, {})
    return layer


def extend_builder(rootfs: Path, packages: list[Package], index: PackageIndex) -> Path:
    """The builder's rootfs plus `packages` (files only; dpkg's status and file lists updated), cached by content."""
    final = rootfs.parent / ("ext-" + content_key("builder", packages, rootfs.name).partition(":")[2])
    if final.is_dir():
        return final
    debs = index.download(packages)
    temp = Path(tempfile.mkdtemp(dir=rootfs.parent, prefix=".tmp-ext-"))
    try:
        result = subprocess.run(["cp", "-al", f"{rootfs}/.", str(temp)], capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise S2IError(f"copying the builder rootfs: {result.stderr.strip()[-200:]}", "free disk space, or check the store's permissions")
        stanzas = []
        for package, deb in zip(packages, debs):
            stanzas.append(_install(deb, temp, package))
        status = temp / "var/lib/dpkg/status"
        text = status.read_text() if status.is_file() else ""
        status.unlink(missing_ok=True)  # a hard link to the stack's rootfs: replaced, never written through
        status.write_text(text.rstrip("\n") + "\n\n" + "\n".join(stanzas))
        os.rename(temp, final)
    except BaseException:
        remove_tree(temp)
        if not final.is_dir():
            raise
    return final


def _install(deb: Path, root: Path, package: Package) -> str:
    """Unpack one .deb over root; record its file list (for `dpkg -S` and the run-time closure) and status."""
    control = extract_deb(deb, root).rstrip("\n")
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True, timeout=120).stdout
    names = listed_paths(listing)
    info = root / "var/lib/dpkg/info" / f"{package.name}.list"
    info.unlink(missing_ok=True)
    info.write_text("".join(f"{name}\n" for name in names))
    lines = [line for line in control.splitlines() if not line.startswith("Status:")]
    return "\n".join([lines[0], "Status: install ok installed", *lines[1:]]) + "\n"


def listed_paths(listing: str) -> list[str]:
    """`dpkg-deb --contents` lines -> the paths, as dpkg's .list files write them (`/.`, `/usr`, ...)."""
    paths = []
    for line in listing.splitlines():
        words = line.split(None, 5)
        if len(words) == 6:
            name = words[5].split(" -> ")[0] if words[0].startswith("l") else words[5]
            paths.append("/" + name.removeprefix("./").rstrip("/") if name not in ("./", ".") else "/.")
    return paths


def with_build_packages(rootfs: Path, names: tuple[str, ...], index: PackageIndex) -> tuple[Path, dict[str, str]]:
    """The builder rootfs to build in, and the label recording what was added to it."""
    installed = installed_packages(rootfs)
    wanted = tuple(name for name in names if name not in installed)
    if wanted != names:
        log(f"build packages the builder already has: {' '.join(name for name in names if name in installed)}")
    if not wanted:
        return rootfs, {}
    added = resolve(wanted, index.index, installed)
    log(f"build packages: {describe(added)} ({len(added) - len(wanted)} of them dependencies the builder lacks)")
    return extend_builder(rootfs, added, index), {BUILD_LABEL: describe(added)}


def native_needs(scans: list[dict], run_root: Path | None, builder: Path) -> list[str]:
    """Packages holding the shared libraries the layers' ELF files need (see closure.layer_scan) and neither the run base nor the build has."""
    needed: dict[str, str] = {}
    provided = names_in(run_root) if run_root else set()
    for scan in scans:
        for soname, user in scan["needed"].items():
            needed.setdefault(soname, user)
        provided.update(scan["libraries"])
    unmet = {soname: user for soname, user in needed.items() if soname not in provided}
    packages, unknown = missing_packages(unmet, provided, library_owners(builder) if unmet else {})  # owners: only when asked
    for package, reasons in sorted(packages.items()):
        log(f"native code needs {', '.join(reasons)}, which the run base lacks: adding {package}")
    for reason in unknown:
        log(f"warning: no Debian package of the builder provides {reason}; the app may fail to load it")
    return sorted(packages)


def extra_run_layers(names: tuple[str, ...], scans: list[dict] | None, run_base: Image, builder: Path, index: PackageIndex,
                     store: Store, mtime: int, compression: str) -> tuple[list[Layer], dict[str, str]]:
    """`[run] packages` and the native closure's packages (scans: None when no closure), with the dependencies the run base
    lacks, as one layer."""
    if not names and scans is None:
        return [], {}
    run_root = unpack_image(run_base, store) if run_base.layers else None
    installed = installed_packages(run_root) if run_root else {}
    if run_root and not installed and names:
        raise UsageError("[run] packages need a Debian run base (this one has no dpkg database)",
                         'use a run base of the stack (run-image = "base", "python", "static" or "scratch")')
    wanted = [*names, *(native_needs(scans, run_root, builder) if scans is not None else [])]
    wanted = tuple(name for name in dict.fromkeys(wanted) if name not in installed)
    if not wanted:
        return [], {}
    chosen = resolve(wanted, index.index, installed, skip_essential=True)
    log(f"run packages: {describe(chosen)} ({len(chosen) - len(wanted)} of them dependencies the run base lacks)")
    return [run_layer(chosen, index, store, mtime, compression)], {RUN_LABEL: describe(chosen)}
