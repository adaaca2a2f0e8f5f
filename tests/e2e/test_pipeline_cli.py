"""CLI for pipelines against the real registry, bwrap and skopeo: tags, labels, annotations, digest files, S2I_REPO, auth files,
exit codes, -q, proxies reaching the build, and builds on a runner without git."""

from __future__ import annotations

import base64
import gzip
import json
import os
import select
import shutil
import socket
import socketserver
import subprocess
import threading
from pathlib import Path

import pytest

from s2i.errors import EXIT_AUTH, EXIT_BUILD, EXIT_DETECTION, EXIT_USAGE
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import run_image, skopeo_inspect

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"


def digest_file_matches(path: Path, reference: str, **skopeo) -> str:
    digest = path.read_text()
    assert digest == skopeo_inspect(f"docker://{reference}", **skopeo)["Digest"]
    return digest


def test_append_pushes_several_tags_labels_annotations_and_a_digest_file(s2i, registry, static_hello, tmp_path):
    digest_file = tmp_path / "out" / "digest"  # its directory is made, as a CI step expects
    result = s2i("append", "scratch", f"{registry.host}/t/multi:1", "--layer", static_hello, "--entrypoint", "/hello",
                 "--tag", "2", "--tag", "latest", "--label", "org.example.team=ci", "--annotation", "org.example.pipeline=42",
                 "--digest-file", digest_file, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["schema"] == 1 and out["tags"] == [f"{registry.host}/t/multi:{tag}" for tag in ("1", "2", "latest")]
    assert registry.manifest_tags("t/multi") == {"1", "2", "latest"}
    digest = digest_file_matches(digest_file, f"{registry.host}/t/multi:1")
    assert out["digest"] == digest and [p.name for p in digest_file.parent.iterdir()] == ["digest"]  # no temp file left
    for tag in ("2", "latest"):
        assert skopeo_inspect(f"docker://{registry.host}/t/multi:{tag}")["Digest"] == digest
    assert skopeo_inspect(f"docker://{registry.host}/t/multi:2", raw=True)["annotations"] == {"org.example.pipeline": "42"}
    assert skopeo_inspect(f"docker://{registry.host}/t/multi:2")["Labels"] == {"org.example.team": "ci"}
    puts = [(r.method, r.path) for r in registry.requests() if r.method in ("PUT", "PATCH", "POST")]
    first_manifest = next(i for i, (_, path) in enumerate(puts) if "/manifests/" in path)
    assert [path.rsplit("/", 1)[1] for _, path in puts[first_manifest:]] == [digest, "1", "2", "latest"]  # after every blob

    copied_file = tmp_path / "out" / "copied"
    copied = s2i("copy", f"{registry.host}/t/multi:1", f"{registry.host}/prod/multi", "--tag", "v1", "--tag", "stable",
                 "--digest-file", copied_file)
    assert copied.returncode == 0, copied.stderr
    assert registry.manifest_tags("prod/multi") == {"v1", "stable"}  # a destination without a tag gets no `latest`
    assert digest_file_matches(copied_file, f"{registry.host}/prod/multi:stable") == digest


@pytest.mark.parametrize("args, line", [
    (["--tag", "-x"], "--tag '-x' is not a tag"),
    (["--digest-file", "/etc/hostname/out/digest"], "--digest-file /etc/hostname/out/digest: cannot create it in /etc/hostname"),
    (["--annotation", "novalue"], "--annotation 'novalue' is not KEY=VALUE"),
    (["-q", "-v"], "-q and -v do not go together"),
])
def test_bad_pipeline_flags_are_one_line_exit_2_and_push_nothing(s2i, registry, static_hello, args, line):
    result = s2i("append", "scratch", f"{registry.host}/t/bad:1", "--layer", static_hello, "--entrypoint", "/hello", *args)
    assert result.returncode == EXIT_USAGE
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"s2i: error: {line}")
    assert registry.requests() == []  # refused before even asking the registry
    assert registry.manifest_tags("t/bad") == set()


def auth_json(path: Path, host: str, user: str, password: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}))
    return path


def test_docker_config_and_registry_auth_file_log_in(s2i, tls_registry, static_hello, tmp_path):
    def push(tag: str, env: dict):
        return s2i("append", "scratch", f"{tls_registry.host}/t/auth:{tag}", "--layer", static_hello, "--entrypoint", "/hello",
                   "--ca-file", tls_registry.ca_file, env=env)

    host, user, password = tls_registry.host, tls_registry.username, tls_registry.password
    anonymous = push("0", {})
    assert anonymous.returncode == EXIT_AUTH and "REGISTRY_AUTH_FILE" in anonymous.stderr
    docker = auth_json(tmp_path / "docker-dir" / "config.json", host, user, password).parent
    assert push("docker", {"DOCKER_CONFIG": str(docker)}).returncode == 0
    podman = auth_json(tmp_path / "containers" / "auth.json", host, user, password)
    assert push("podman", {"REGISTRY_AUTH_FILE": str(podman)}).returncode == 0
    wrong = auth_json(tmp_path / "wrong" / "auth.json", host, user, "not-the-password")
    refused = push("wrong", {"REGISTRY_AUTH_FILE": str(wrong), "DOCKER_CONFIG": str(docker)})  # the auth file comes first
    assert refused.returncode == EXIT_AUTH and "not-the-password" not in refused.stderr + refused.stdout
    missing = push("missing", {"REGISTRY_AUTH_FILE": str(tmp_path / "gone.json"), "DOCKER_CONFIG": str(docker)})
    assert missing.returncode == EXIT_USAGE and f"REGISTRY_AUTH_FILE={tmp_path / 'gone.json'} is not a file" in missing.stderr
    assert tls_registry.manifest_tags("t/auth") == {"docker", "podman"}
    for secret in (password, base64.b64encode(f"{user}:{password}".encode()).decode()):
        assert secret not in anonymous.stderr + refused.stderr + missing.stderr


def copy_app(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_build_into_s2i_repo_with_tags_labels_annotations_and_a_digest_file_quietly(builder, registry, tmp_path):
    app = copy_app(EXAMPLES / "c-hello", tmp_path / "My_Hello App")
    digest_file = tmp_path / "digest"
    result = builder("build", app, "-q", "--tag", "ci-7", "--tag", "main", "--label", "org.example.team=web",
                     "--annotation", "org.opencontainers.image.source=https://example.com/hello", "--digest-file", digest_file,
                     env={"S2I_REPO": f"{registry.host}/team/"}, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # -q: nothing but the result
    assert result.stdout == f"{registry.host}/team/my-hello-app@{digest_file.read_text()}\n"
    sbom_tags = {tag for tag in registry.manifest_tags("team/my-hello-app") if tag.startswith("sha256-")}  # the referrers fallback
    assert registry.manifest_tags("team/my-hello-app") - sbom_tags == {"ci-7", "main"}
    digest_file_matches(digest_file, f"{registry.host}/team/my-hello-app:main")
    manifest = skopeo_inspect(f"docker://{registry.host}/team/my-hello-app:ci-7", raw=True)
    assert manifest["annotations"]["org.opencontainers.image.source"] == "https://example.com/hello"
    labels = skopeo_inspect(f"docker://{registry.host}/team/my-hello-app:ci-7")["Labels"]
    assert labels["org.example.team"] == "web" and labels["io.s2i.buildpack"].startswith("c@")
    assert run_image(f"docker://{registry.host}/team/my-hello-app:main").stdout == "hello world\n"

    verbose = builder("build", app, "-v", "--json", env={"S2I_REPO": f"{registry.host}/team"}, timeout=600)
    assert verbose.returncode == 0, verbose.stderr
    out = json.loads(verbose.stdout)
    assert out["schema"] == 1 and out["tags"] == [f"{registry.host}/team/my-hello-app:latest"]
    assert "s2i: build env: " in verbose.stderr and "s2i: blob sha256:" in verbose.stderr


def no_git_path(tmp_path: Path) -> str:
    """A PATH with every program of this one except git."""
    tools = tmp_path / "no-git-bin"
    tools.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else ():
            if program.name != "git" and not (tools / program.name).exists() and os.access(program, os.X_OK):
                (tools / program.name).symlink_to(program)
    assert shutil.which("git", path=str(tools)) is None and shutil.which("bwrap", path=str(tools))
    return str(tools)


def test_a_runner_without_git_builds_says_so_once_and_a_loopback_proxy_is_named(builder, registry, tmp_path):
    app = copy_app(EXAMPLES / "c-hello", tmp_path / "nogit")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "GIT_COMMITTER_DATE": "2001-01-01T00:00:00Z"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=app, check=True, env={**os.environ, **env}, timeout=30)
    result = builder("build", app, f"{registry.host}/t/nogit:1", timeout=600,
                     env={"PATH": no_git_path(tmp_path), "http_proxy": "http://ci:pr0xy-pass@127.0.0.1:3128", "no_proxy": "127.0.0.1"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    notes = [line for line in result.stderr.splitlines() if "git is not on PATH" in line]
    assert notes == ["s2i: git is not on PATH: the image records the commit but not its time or origin "
                     "(created: SOURCE_DATE_EPOCH, else 0)"]
    assert skopeo_inspect(f"docker://{registry.host}/t/nogit:1")["Created"].startswith("1970-01-01")
    assert "s2i: build proxy: HTTP_PROXY=http://***@127.0.0.1:3128, NO_PROXY=127.0.0.1" in result.stderr.splitlines()
    assert ("s2i: warning: HTTP_PROXY=http://***@127.0.0.1:3128 is on this machine's loopback, which the build's own network "
            "cannot reach (use --network host to reach it)") in result.stderr
    assert "pr0xy-pass" not in result.stderr + result.stdout


def test_exit_codes_name_what_failed(builder, tmp_path):
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    (nothing / "notes.txt").write_text("no source here\n")
    assert builder("build", nothing).returncode == EXIT_DETECTION
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.c").write_text("int main(void) { return missing(); }\n")
    failed = builder("build", broken, timeout=600)
    assert failed.returncode == EXIT_BUILD and failed.stderr.splitlines()[-1].startswith("s2i: error: build c failed")


class RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy on 127.0.0.1 that wants Basic credentials and records each tunnel it opens."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, credentials: str):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.expected = "Basic " + base64.b64encode(credentials.encode()).decode()
        self.tunnels: list[str] = []
        self.refused: list[str] = []


class ProxyHandler(socketserver.StreamRequestHandler):
    timeout = 60

    def handle(self):
        request = self.rfile.readline(4096).decode("latin-1").split()
        headers = {}
        while (line := self.rfile.readline(8192).decode("latin-1").strip()):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        if len(request) < 2 or request[0] != "CONNECT" or headers.get("proxy-authorization") != self.server.expected:
            self.server.refused.append(" ".join(request[:2]))
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = request[1].rpartition(":")
        self.server.tunnels.append(request[1])
        with socket.create_connection((host, int(port)), timeout=30) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            relay(self.connection, upstream)


def relay(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    while True:
        readable, _, _ = select.select(sockets, [], [], 60)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


@pytest.fixture
def recording_proxy():
    proxy = RecordingProxy("ci-user:pr0xy-s3cret")
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_pip_goes_through_the_proxy_with_network_host_and_its_password_is_nowhere(builder, registry, recording_proxy, tmp_path):
    app = tmp_path / "proxied"
    app.mkdir()
    (app / "requirements.txt").write_text("six==1.16.0\n")
    (app / "app.py").write_text('import six\n\nif __name__ == "__main__":\n    print(six.__version__)\n')
    builder.forget_app_caches()  # pip must run: no layer reused from another test
    port = recording_proxy.server_address[1]
    url = f"http://ci-user:pr0xy-s3cret@127.0.0.1:{port}"
    result = builder("build", app, f"{registry.host}/t/proxied:1", "--network", "host", timeout=900,
                     env={"HTTPS_PROXY": url, "HTTP_PROXY": url, "NO_PROXY": "localhost,127.0.0.1"})
    assert result.returncode == 0, result.stderr
    assert {"pypi.org:443", "files.pythonhosted.org:443"} & set(recording_proxy.tunnels), recording_proxy.tunnels
    assert set(recording_proxy.tunnels) <= {"pypi.org:443", "files.pythonhosted.org:443"}  # the registry, on NO_PROXY, directly
    assert recording_proxy.refused == []  # every request came with the credentials
    shown = f"s2i: build proxy: HTTP_PROXY=http://***@127.0.0.1:{port}, HTTPS_PROXY=http://***@127.0.0.1:{port}, NO_PROXY=localhost,127.0.0.1"
    assert shown in result.stderr.splitlines()
    assert "pr0xy-s3cret" not in result.stderr + result.stdout
    for blob in (registry.storage / "docker/registry/v2/blobs").glob("*/*/*/data"):  # nor in the image: config, layers
        data = blob.read_bytes()
        assert b"pr0xy-s3cret" not in (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    assert run_image(f"docker://{registry.host}/t/proxied:1").stdout == "1.16.0\n"
