"""Builds a stack's images from Debian packages: the builder with mmdebstrap, run bases by extraction."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from s2i.archive.layer import write_layer
from s2i.archive.tarwriter import TarOptions, source_date_epoch
from s2i.errors import S2IError
from s2i.oci.image import Image, Layer, empty_image
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.types import layer_media_type
from s2i.progress import log
from s2i.stack.debian import AptArchive, extract_deb, write_sources
from s2i.stack.files import TRIPLETS, RunBase, Stack
from s2i.stack.lock import Lock, check_against_archive, read_lock, write_lock
from s2i.stack.lock import changes as lock_changes
from s2i.store import Store

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"
NONROOT = 65532
LABEL_LIBC = "io.s2i.stack.libc"
LABEL_PYTHON = "io.s2i.stack.python"
LABEL_PACKAGES = "io.s2i.stack.packages"
PRUNED = ["usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian", "usr/share/bug",
          "usr/share/linda", "usr/lib/{triplet}/gconv", "usr/share/zoneinfo/right"]
VOLATILE = ["var/log", "var/cache/apt", "var/lib/apt/lists", "var/cache/ldconfig", "var/cache/debconf/config.dat-old",
            "var/cache/debconf/templates.dat-old", "var/lib/dpkg/status-old", "var/lib/dpkg/diversions-old", "etc/machine-id"]
SKELETON = {
    "etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
                  f"nonroot:x:{NONROOT}:{NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n",
    "etc/group": f"root:x:0:\nnobody:x:65534:\nnonroot:x:{NONROOT}:\n",
    # as container runtimes would inject: Go's pure resolver looks `localhost` up here, not in DNS
    "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n",
}


def store_ref(stack: Stack, image_name: str) -> str:
    return f"stacks/{stack.name}/{image_name}"


def image_name(base: str) -> str:
    return "builder" if base == "builder" else f"run-{base}"


def pruned(architecture: str) -> list[str]:
    return [path.format(triplet=TRIPLETS[architecture]) for path in PRUNED]


def prune(root: Path, paths: list[str]) -> None:
    for rel in paths:
        target = root / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    docs = root / "usr/share/doc"
    if docs.is_dir():  # licences stay, as distroless keeps them
        for path in sorted(docs.rglob("*"), reverse=True):
            if path.is_symlink() or (path.is_file() and path.name != "copyright"):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def add_skeleton(root: Path) -> None:
    """Users, groups and the directories a distroless-style base needs without running any script."""
    for rel, text in SKELETON.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        (root / rel).chmod(0o644)
    for rel, mode, owner in (("tmp", 0o1777, 0), ("root", 0o700, 0), ("home/nonroot", 0o700, NONROOT)):
        (root / rel).mkdir(parents=True, exist_ok=True)
        (root / rel).chmod(mode)
        if os.geteuid() == 0:
            os.chown(root / rel, owner, owner)


def write_ca_bundle(root: Path) -> None:
    """What update-ca-certificates would have made: every Mozilla certificate, in a fixed order."""
    certs = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    if not certs:
        return
    bundle = root / CA_BUNDLE
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_bytes(b"".join(cert.read_bytes().rstrip(b"\n") + b"\n" for cert in certs))
    bundle.chmod(0o644)


def base_layer_tree(base: RunBase, versions: dict[str, str], archive: AptArchive, root: Path) -> None:
    status_dir = root / "var/lib/dpkg/status.d"
    status_dir.mkdir(parents=True, exist_ok=True)
    for package in base.packages:
        control = extract_deb(archive.download(package, versions[package]), root)
        (status_dir / package).write_text(control)
    if base.extends is None:
        add_skeleton(root)
    write_ca_bundle(root)
    prune(root, pruned(archive.architecture))


def layer_from_tree(root: Path, store: Store, mtime: int, compression: str = "gzip") -> Layer:
    """Run bases use gzip so every runtime takes them; the large builder uses zstd for speed."""
    options = TarOptions(mtime=mtime, keep_modes=True, keep_owners=True)
    blob = write_layer(root, store, layer_media_type("oci", compression), compression, options)
    return Layer(blob.descriptor, blob.diff_id, store.blob(blob.descriptor))


def stack_labels(stack: Stack, name: str, lock: Lock) -> tuple[tuple[str, str], ...]:
    return (("io.s2i.stack", stack.name), ("io.s2i.stack.image", name), ("io.s2i.stack.lock", lock.digest()))


def abi_labels(stack: Stack, base: RunBase, lock: Lock) -> tuple[tuple[str, str], ...]:
    """The glibc and CPython a run base carries (so `s2i rebase` can refuse a base older than an app was built on), and
    every package in it (so an SBOM needs no download of a base that is mounted, never pulled)."""
    packages = {p for link in stack.base_chain(base.name) for p in link.packages}
    labels = [(LABEL_PACKAGES, " ".join(f"{p}={lock.run[p]}" for p in sorted(packages)))]
    if "libc6" in packages:
        labels.append((LABEL_LIBC, upstream_version(lock.run["libc6"])))
    pythons = sorted(p.removeprefix("python").removesuffix("-minimal") for p in packages if re.fullmatch(r"python3\.\d+-minimal", p))
    if pythons:
        labels.append((LABEL_PYTHON, pythons[-1]))
    return tuple(labels)


def upstream_version(debian_version: str) -> str:
    """2.36 from 2.36-9+deb12u14, 1.2.13 from 1:1.2.13.dfsg-1: the part that names the ABI."""
    upstream = debian_version.partition(":")[2] or debian_version
    return re.match(r"[0-9.]*", upstream.rsplit("-", 1)[0]).group(0).rstrip(".")


def build_run_base(stack: Stack, base: RunBase, parent: Image, lock: Lock, archive: AptArchive, store: Store, mtime: int) -> Image:
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".stack-") as temp:
        root = Path(temp) / "rootfs"
        root.mkdir()
        base_layer_tree(base, lock.run, archive, root)
        layer = layer_from_tree(root, store, mtime)
    env = (("PATH", PATH), ("SSL_CERT_FILE", "/" + CA_BUNDLE), *base.env)
    labels = stack_labels(stack, image_name(base.name), lock) + abi_labels(stack, base, lock)
    changes = ConfigChanges(env=env, labels=labels, created_by=f"s2i stack build: {base.name}")
    return append_layers(parent, [layer], changes, created=mtime)


def build_run_bases(stack: Stack, lock: Lock, archive: AptArchive, store: Store, mtime: int, images: dict[str, Image] | None = None) -> dict[str, Image]:
    """Every package-built run base for the archive's architecture, each on top of the base it extends."""
    images = dict(images or {})
    for base in sorted(stack.bases.values(), key=lambda b: len(stack.base_chain(b.name))):
        if base.kind == "packages":
            parent = images[image_name(base.extends)] if base.extends else empty_image(architecture=archive.architecture)
            log(f"building run base {base.name}" + ("" if archive.architecture == stack.architecture else f" ({archive.architecture})"))
            images[image_name(base.name)] = build_run_base(stack, base, parent, lock, archive, store, mtime)
    return images


def hashes_of(archive: AptArchive, versions: dict[str, str]) -> dict[str, str]:
    return {name: record["SHA256"] for name, record in archive.records(versions).items()}


@dataclass(frozen=True)
class BuiltStack:
    images: dict[str, Image]  # image name (builder, run-static, ...) -> image
    lock: Lock


def apt_preferences(versions: dict[str, str]) -> str:
    """Pins that make apt choose exactly the locked versions, without marking anything manually installed."""
    return "".join(f"Package: {name}\nPin: version {version}\nPin-Priority: 1001\n\n" for name, version in sorted(versions.items()))


def mmdebstrap_builder(stack: Stack, lock: Lock | None, root: Path, work: Path) -> None:
    """A full Debian install of the builder packages; the lock, when there is one, pins every version."""
    command = [
        "mmdebstrap", "--mode=root", "--variant=apt", "--format=directory", f"--architectures={stack.architecture}",
        "--include=" + ",".join(stack.builder.packages),
        "--customize-hook=chroot \"$1\" dpkg-query -W -f='${Package}=${Version}\\n' > " + str(work / "versions"),
    ]
    if lock and lock.builder:
        (work / "lock.pref").write_text(apt_preferences(lock.builder))
        command += [
            f"--setup-hook=mkdir -p \"$1/etc/apt/preferences.d\" && cp {work / 'lock.pref'} \"$1/etc/apt/preferences.d/s2i-lock.pref\"",
            "--customize-hook=rm \"$1/etc/apt/preferences.d/s2i-lock.pref\"",
        ]
    command += [stack.suite, str(root), *map(str, write_sources(work / "sources", stack.suite, stack.extra_suites))]
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(source_date_epoch()))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = [line for line in result.stderr.splitlines() if line.startswith("E:")] or result.stderr.splitlines()[-1:]
        hint = "refresh the lock: s2i stack build --update" if lock else "check the package names and the host's apt sources"
        raise S2IError(f"mmdebstrap failed: {' '.join(tail)[:300]}", hint)


def build_builder(stack: Stack, lock: Lock | None, store: Store, mtime: int) -> tuple[Layer, dict[str, str]]:
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".stack-") as temp:
        root = Path(temp) / "rootfs"
        mmdebstrap_builder(stack, lock, root, Path(temp))
        versions = dict(line.split("=", 1) for line in (Path(temp) / "versions").read_text().split() if "=" in line)
        if lock and lock.builder and versions != lock.builder:
            changed = sorted(set(versions.items()) ^ set(lock.builder.items()))[:3]
            raise S2IError(f"the builder came out different from the lock: {changed}", "refresh the lock: s2i stack build --update")
        prune(root, pruned(stack.architecture) + VOLATILE)
        return layer_from_tree(root, store, mtime, "zstd"), versions


def build_stack(stack: Stack, store: Store, archive: AptArchive, update: bool) -> BuiltStack:
    """Run-base packages are resolved and fetched first, so a stale lock fails before the long builder build."""
    mtime = source_date_epoch()
    previous = read_lock(stack.lock_path)
    lock = None if update else previous
    if lock is None or not archive.ready:
        log(f"reading the Debian package index ({stack.suite}, from the host's mirrors)")
        archive.update()
    run_packages = sorted({p for base in stack.bases.values() for p in base.packages})
    run_versions = lock.run if lock else archive.candidates(run_packages)
    missing = sorted(set(run_packages) - set(run_versions))
    if missing:
        raise S2IError(f"{stack.lock_path.name} has no version for {', '.join(missing)}", f"refresh it: s2i stack build {stack.name} --update")
    run_versions = {p: run_versions[p] for p in run_packages}
    if lock:
        check_against_archive(stack.lock_path.name, run_versions, lock.run_sha256, archive.records(run_versions))
        if lock.builder and not stack.builder.image:
            check_against_archive(stack.lock_path.name, lock.builder, lock.builder_sha256, archive.records(lock.builder))
    for package in run_packages:
        archive.download(package, run_versions[package])
    builder_layer, builder_versions = None, {}
    if not stack.builder.image:
        log("building the builder with mmdebstrap")
        builder_layer, builder_versions = build_builder(stack, lock, store, mtime)
    lock = Lock(run_versions, builder_versions, hashes_of(archive, run_versions), hashes_of(archive, builder_versions),
                previous.foreign_run if previous else {}, previous.foreign_sha256 if previous else {})
    if update and previous:
        changed = lock_changes({**previous.builder, **previous.run}, {**lock.builder, **lock.run})
        log(f"{stack.lock_path.name}: {len(changed)} package versions changed" + (": " + "; ".join(changed[:20]) if changed else ""))
    images: dict[str, Image] = {}
    if builder_layer:
        changes = ConfigChanges(env=(("PATH", PATH), *stack.builder.env), labels=stack_labels(stack, "builder", lock), created_by="s2i stack build: builder")
        images["builder"] = append_layers(empty_image(architecture=stack.architecture), [builder_layer], changes, created=mtime)
    images.update(build_run_bases(stack, lock, archive, store, mtime, images))
    if update or not stack.lock_path.exists():
        write_lock(stack.lock_path, lock)
    return BuiltStack(images, lock)
