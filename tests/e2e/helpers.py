"""Helpers for end-to-end tests: a throwaway registry, skopeo/umoci/runc wrappers and small utilities."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import NamedTuple

# Requests carrying this query marker are our own probes; requests() hides them.
PROBE = "e2e-probe"

# Access-log line (gorilla combined format) written by distribution for every request.
_ACCESS_RE = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) ')


def run_cmd(args, *, timeout=60, **kw) -> subprocess.CompletedProcess:
    """Run a command, raising with its stderr in the message when it fails."""
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port}")
            time.sleep(0.05)


class Request(NamedTuple):
    method: str
    uri: str  # path plus query string, as sent
    status: int

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.uri).query))


class Registry:
    """A CNCF distribution registry on 127.0.0.1 with filesystem storage under `root`."""

    def __init__(self, root: Path, *, tls: bool = False, username=None, password=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.storage = self.root / "storage"
        self.log_path = self.root / "registry.log"
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.username, self.password = username, password
        self.ca_file = self.cert_dir = None
        self.proc = None
        self._probes = 0
        config = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}},
            "http": {"addr": self.host, "secret": "e2e"},
        }
        if tls:
            self.cert_dir, server_cert, server_key = make_tls(self.root / "tls")
            self.ca_file = self.cert_dir / "ca.crt"
            config["http"]["tls"] = {"certificate": str(server_cert), "key": str(server_key)}
        if username is not None:
            htpasswd = run_cmd(["htpasswd", "-Bbn", username, password]).stdout
            (self.root / "htpasswd").write_text(htpasswd)
            config["auth"] = {"htpasswd": {"realm": "e2e", "path": str(self.root / "htpasswd")}}
        # JSON is valid YAML, so no YAML writer is needed.
        self.config_path = self.root / "config.yml"
        self.config_path.write_text(json.dumps(config, indent=1))

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://{self.host}"

    def _probe(self) -> bool:
        """GET /v2/ with a marker; True once the registry answers at all (401 counts)."""
        self._probes += 1
        ctx = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None
        # An empty ProxyHandler keeps http_proxy from the environment out of the way.
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx)
        )
        try:
            opener.open(f"{self.url}/v2/?{PROBE}={self._probes}", timeout=2).close()
        except urllib.error.HTTPError:
            pass
        except OSError:
            return False
        return True

    def start(self, timeout: float = 15) -> None:
        self.storage.mkdir(exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["docker-registry", "serve", str(self.config_path)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while not self._probe():
            if self.proc.poll() is not None:
                raise RuntimeError(f"registry exited early:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise TimeoutError(f"registry did not answer:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def requests(self) -> list[Request]:
        """Requests served so far (across restarts), oldest first, probes left out."""
        if self.running:
            # The access-log line is written after the response may already have
            # reached the client; once our probe is logged, earlier lines are too.
            marker = f"{PROBE}={self._probes + 1} "
            self._probe()
            deadline = time.monotonic() + 5
            while marker not in self.log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.02)
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = _ACCESS_RE.match(line)
            if m and PROBE not in m[2]:
                out.append(Request(m[1], m[2], int(m[3])))
        return out

    def blob_digests(self) -> set[str]:
        base = self.storage / "docker/registry/v2/blobs"
        return {f"{d.parents[2].name}:{d.parent.name}" for d in base.glob("*/*/*/data")}

    def linked_blobs(self, repo: str) -> set[str]:
        """Blobs the registry serves in repo: a blob's data can land before the repository's link to it."""
        layers = self.storage / "docker/registry/v2/repositories" / repo / "_layers"
        return {f"{d.parent.name}:{d.name}" for d in layers.glob("*/*") if (d / "link").exists()}

    def manifest_tags(self, repo: str) -> set[str]:
        """The repository's tags, less the referrers tags (`sha256-<hex>`) that list each image's SBOM."""
        tags = self.storage / "docker/registry/v2/repositories" / repo / "_manifests/tags"
        return {p.parent.parent.name for p in tags.glob("*/current/link") if not p.parent.parent.name.startswith("sha256-")}


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """Create a CA and a server cert for 127.0.0.1/localhost; return (cert_dir, cert, key).

    cert_dir holds only ca.crt, the layout skopeo's --cert-dir expects.
    """
    d = Path(directory)
    cert_dir = d / "certs"
    cert_dir.mkdir(parents=True, exist_ok=True)
    ca_crt, ca_key = cert_dir / "ca.crt", d / "ca.key"
    key, csr, crt, ext = d / "server.key", d / "server.csr", d / "server.pem", d / "ext.cnf"
    # EC keys: generating RSA keys would dominate the fixture's runtime.
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run_cmd(["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_crt,
             "-days", "2", "-subj", "/CN=s2i e2e CA"])
    run_cmd(["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run_cmd(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
             "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext])
    return cert_dir, crt, key


def _tls_args(prefix, tls_verify, creds, cert_dir) -> list[str]:
    args = [f"--{prefix}tls-verify={'true' if tls_verify else 'false'}"]
    if creds:
        args.append(f"--{prefix}creds={creds}")
    if cert_dir:
        args.append(f"--{prefix}cert-dir={cert_dir}")
    return args


def skopeo_inspect(ref, *, tls_verify=False, raw=False, config=False, creds=None, cert_dir=None) -> dict:
    """`skopeo inspect` of ref ("docker://HOST/repo:tag", "oci:DIR:TAG"), parsed."""
    args = ["skopeo", "inspect", *_tls_args("", tls_verify, creds, cert_dir)]
    if raw:
        args.append("--raw")
    if config:
        args.append("--config")
    return json.loads(run_cmd([*args, ref]).stdout)


def skopeo_copy(src, dest, *extra, tls_verify=False, creds=None, cert_dir=None):
    """Copy src to dest; tls/creds apply to whichever side is docker://."""
    args = ["skopeo", "copy"]
    if str(src).startswith("docker://"):
        args += _tls_args("src-", tls_verify, creds, cert_dir)
    if str(dest).startswith("docker://"):
        args += _tls_args("dest-", tls_verify, creds, cert_dir)
    return run_cmd([*args, *extra, src, dest])


def _prepare_bundle(src, work: Path, args, env, tls_verify, creds, cert_dir) -> Path:
    """Pull src into an OCI layout, unpack it with umoci and make the bundle runnable here."""
    layout = work / "layout"
    # umoci 0.4.7 cannot unpack zstd layers; forcing gzip makes skopeo recompress them.
    skopeo_copy(src, f"oci:{layout}:run", "--dest-compress", "--dest-compress-format", "gzip",
                tls_verify=tls_verify, creds=creds, cert_dir=cert_dir)
    manifest = skopeo_inspect(f"oci:{layout}:run", raw=True)
    bad = [l["mediaType"] for l in manifest.get("layers", []) if "zstd" in l["mediaType"]]
    assert not bad, f"skopeo left zstd layers in place: {bad}"
    bundle = work / "bundle"
    run_cmd(["umoci", "unpack", "--image", f"{layout}:run", bundle])
    cfg_path = bundle / "config.json"
    cfg = json.loads(cfg_path.read_text())
    proc = cfg["process"]
    # The default RLIMIT_NOFILE and a private network namespace get in the way:
    # servers in the container must be reachable on the host's 127.0.0.1.
    proc.pop("rlimits", None)
    proc["terminal"] = False
    ns = cfg["linux"]["namespaces"]
    cfg["linux"]["namespaces"] = [n for n in ns if n["type"] != "network"]
    if args is not None:
        proc["args"] = list(args)
    if env:
        proc["env"] = proc.get("env", []) + [f"{k}={v}" for k, v in env.items()]
    cfg_path.write_text(json.dumps(cfg))
    return bundle


def _container_id() -> str:
    return f"s2i-e2e-{uuid.uuid4().hex[:12]}"


def _runc_cleanup(cid: str, work: Path) -> None:
    subprocess.run(["runc", "delete", "-f", cid], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)


def run_image(src, *, args=None, env=None, tls_verify=False, creds=None, cert_dir=None,
              timeout=60) -> subprocess.CompletedProcess:
    """Run image src to completion with runc; stdout/stderr captured as text."""
    work = Path(tempfile.mkdtemp(prefix="s2i-e2e-run-"))
    cid = _container_id()
    try:
        bundle = _prepare_bundle(src, work, args, env, tls_verify, creds, cert_dir)
        return subprocess.run(
            ["runc", "run", "-b", str(bundle), cid],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
    finally:
        _runc_cleanup(cid, work)


class Container:
    """A container started in the background by start_image; stop() tears it down."""

    def __init__(self, cid: str, work: Path, proc: subprocess.Popen):
        self.id, self.work, self.proc = cid, work, proc
        self.stdout_path, self.stderr_path = work / "stdout", work / "stderr"
        self.returncode = None
        self._stdout = self._stderr = None

    def stop(self) -> int:
        """Kill the container, return runc's exit code; output stays readable."""
        if self.returncode is None:
            subprocess.run(["runc", "kill", self.id, "KILL"], capture_output=True)
            try:
                self.returncode = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait()
            self._stdout = self.stdout_path.read_text(errors="replace")
            self._stderr = self.stderr_path.read_text(errors="replace")
            _runc_cleanup(self.id, self.work)
        return self.returncode

    @property
    def stdout(self) -> str:
        return self._stdout if self._stdout is not None else self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self._stderr if self._stderr is not None else self.stderr_path.read_text(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def seconds_to_stop(container: Container) -> float:
    """Send the container SIGTERM through runc; how long it took to end."""
    started = time.monotonic()
    subprocess.run(["runc", "kill", container.id, "TERM"], check=True, timeout=10)
    container.proc.wait(timeout=5)
    return time.monotonic() - started


def start_image(src, *, args=None, env=None, tls_verify=False, creds=None, cert_dir=None,
                wait_for_port=None, timeout=15) -> Container:
    """Start image src in the background (host network); optionally wait for a TCP port."""
    work = Path(tempfile.mkdtemp(prefix="s2i-e2e-run-"))
    cid = _container_id()
    try:
        bundle = _prepare_bundle(src, work, args, env, tls_verify, creds, cert_dir)
        with open(work / "stdout", "wb") as out, open(work / "stderr", "wb") as err:
            proc = subprocess.Popen(["runc", "run", "-b", str(bundle), cid],
                                    stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    except BaseException:
        _runc_cleanup(cid, work)
        raise
    c = Container(cid, work, proc)
    if wait_for_port:
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    socket.create_connection(("127.0.0.1", wait_for_port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        except OSError:
            c.stop()
            raise RuntimeError(
                f"container never listened on {wait_for_port}\n"
                f"stdout: {c.stdout}\nstderr: {c.stderr}"
            )
    return c


class Upload(NamedTuple):
    repo: str
    digest: str
    mounted_from: str | None  # source repo of a cross-repo mount, None for a data upload


_UPLOAD_RE = re.compile(r"^/v2/(.+)/blobs/uploads/")


def registry_uploads(requests) -> tuple[list[Upload], list[Upload]]:
    """Split successful blob uploads into (uploads that sent data, cross-repo mounts).

    A data upload is a 201 PUT closing a session (or a monolithic 201 POST with
    digest=); a mount is a 201 POST with mount=. A refused mount (202) starts an
    ordinary session, which then shows up as a data upload.
    """
    data, mounts = [], []
    for r in requests:
        m = _UPLOAD_RE.match(r.path)
        if not m or r.status != 201:
            continue
        q = r.query
        if r.method == "POST" and "mount" in q:
            mounts.append(Upload(m[1], q["mount"], q.get("from")))
        elif r.method in ("PUT", "POST") and "digest" in q:
            data.append(Upload(m[1], q["digest"], None))
    return data, mounts


def compile_static(source: str, out: Path) -> Path:
    """Compile C source text into a static, stripped binary at out."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.parent.parent / f"{out.name}.c"
    src.write_text(source)
    cc = "musl-gcc" if shutil.which("musl-gcc") else "gcc"
    run_cmd([cc, "-static", "-Os", "-s", "-o", out, src])
    return out


def build_static(directory: Path, greeting: str = "hello from s2i", name: str = "hello") -> Path:
    """Compile a static binary printing greeting into directory/name."""
    source = f"#include <stdio.h>\nint main(void) {{ puts({json.dumps(greeting)}); return 0; }}\n"
    return compile_static(source, Path(directory) / name)


def umoci_image(layout: Path, tag: str, files: dict[str, Path], entrypoint: list[str]) -> str:
    """Build a one-layer image in an OCI layout from host files; return "oci:LAYOUT:TAG".

    files maps a path inside the image (e.g. "/hello") to a host file.
    """
    layout = Path(layout)
    if not (layout / "index.json").exists():
        run_cmd(["umoci", "init", "--layout", layout])
    run_cmd(["umoci", "new", "--image", f"{layout}:{tag}"])
    bundle = Path(tempfile.mkdtemp(prefix="s2i-e2e-umoci-")) / "b"
    try:
        run_cmd(["umoci", "unpack", "--image", f"{layout}:{tag}", bundle])
        for dest, host in files.items():
            target = bundle / "rootfs" / dest.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(host, target)
        run_cmd(["umoci", "repack", "--image", f"{layout}:{tag}", bundle])
    finally:
        shutil.rmtree(bundle.parent, ignore_errors=True)
    cfg = ["umoci", "config", "--image", f"{layout}:{tag}"]
    for arg in entrypoint:
        cfg += ["--config.entrypoint", arg]
    run_cmd(cfg)
    return f"oci:{layout}:{tag}"


def referrer_blobs(host: str, repository: str, digest: str) -> set[str]:
    """The blobs of the artifacts (the SBOM) pushed beside an image, found through its fallback referrers tag."""
    index = skopeo_inspect(f"docker://{host}/{repository}:{digest.replace(':', '-')}", raw=True)
    blobs = set()
    for entry in index.get("manifests", []):
        manifest = skopeo_inspect(f"docker://{host}/{repository}@{entry['digest']}", raw=True)
        blobs |= {manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])}
    return blobs
