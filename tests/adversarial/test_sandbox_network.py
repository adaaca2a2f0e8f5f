"""The build sandbox's network: outbound only by default, never the host's own services; host and none on request."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path

import pytest

from tests.adversarial.sandbox_apps import c_app

pytestmark = pytest.mark.e2e

# Runs in the builder: each target is tried over HTTP, then DNS and HTTPS to PyPI; one PROBE line each.
PROBE = r'''
import json, socket, ssl, urllib.request
for name, url in json.load(open("targets.json")):
    try:
        status = urllib.request.urlopen(url, timeout=5).status
        print(f"PROBE {name} reached {status}", flush=True)
    except urllib.error.HTTPError as e:
        print(f"PROBE {name} reached {e.code}", flush=True)
    except Exception as e:
        print(f"PROBE {name} blocked {type(e).__name__}", flush=True)
try:
    context = ssl.create_default_context(cafile="/etc/ssl/certs/ca-certificates.crt")
    status = urllib.request.urlopen("https://pypi.org/simple/six/", timeout=60, context=context).status
    print(f"PROBE pypi reached {status}", flush=True)
except Exception as e:
    print(f"PROBE pypi blocked {type(e).__name__}", flush=True)
'''


def probed(result) -> dict[str, str]:
    """The first PROBE line per target: 'reached' or 'blocked'."""
    outcomes: dict[str, str] = {}
    for line in result.stderr.splitlines():
        words = line.split()
        if "PROBE" in words and len(words) > words.index("PROBE") + 2:
            at = words.index("PROBE")
            outcomes.setdefault(words[at + 1], words[at + 2])
    return outcomes


def probe_app(root: Path, targets: list[tuple[str, str]]) -> Path:
    return c_app(root, "python3 probe.py", files={"probe.py": PROBE, "targets.json": json.dumps(targets)})


def host_address() -> str:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.123", 9))
        return probe.getsockname()[0]


class Daemon:
    """A TCP service on 0.0.0.0 that counts who connects: a daemon reachable on every host address."""

    def __init__(self):
        self.server = socket.create_server(("0.0.0.0", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def daemon():
    service = Daemon()
    yield service
    service.close()


def test_default_network_reaches_pypi_but_not_the_host_registry_or_daemons(builder, registry, daemon, tmp_path):
    address = host_address()
    targets = [("loopback-registry", f"http://{registry.host}/v2/"),
               ("gateway-registry", f"http://10.0.2.2:{registry.port}/v2/"),  # slirp's way to the host's loopback
               ("host-address-daemon", f"http://{address}:{daemon.port}/")]
    before = len(registry.requests())
    result = builder("build", probe_app(tmp_path / "app", targets), timeout=600)
    assert result.returncode == 0, result.stderr
    assert probed(result) == {"loopback-registry": "blocked", "gateway-registry": "blocked",
                              "host-address-daemon": "blocked", "pypi": "reached"}, result.stderr
    assert registry.requests()[before:] == [] and daemon.connections == 0
    assert "network outbound only (slirp4netns" in result.stderr


def test_network_host_is_an_explicit_logged_opt_out_that_reaches_the_host(builder, registry, tmp_path):
    before = len(registry.requests())
    result = builder("build", probe_app(tmp_path / "app", [("loopback-registry", f"http://{registry.host}/v2/")]),
                     "--network", "host", timeout=600)
    assert result.returncode == 0, result.stderr
    assert probed(result)["loopback-registry"] == "reached", result.stderr
    assert any(r.path.startswith("/v2/") for r in registry.requests()[before:])
    assert "network shared with this machine, its services on 127.0.0.1 included" in result.stderr


def test_network_none_is_offline(builder, registry, tmp_path):
    pypi = socket.gethostbyname("pypi.org")
    targets = [("loopback-registry", f"http://{registry.host}/v2/"), ("pypi-address", f"http://{pypi}/")]
    result = builder("build", probe_app(tmp_path / "app", targets), "--network", "none", timeout=600)
    assert result.returncode == 0, result.stderr
    assert probed(result) == {"loopback-registry": "blocked", "pypi-address": "blocked", "pypi": "blocked"}, result.stderr
    assert "no network (--network none)" in result.stderr


def test_unknown_network_is_a_usage_error(builder, tmp_path):
    result = builder("build", c_app(tmp_path / "app"), "--network", "bridge")
    assert result.returncode == 2 and "'bridge' is not one of 'default', 'host', 'none'" in result.stderr


def test_without_slirp4netns_the_build_stops_unless_host_network_was_asked(builder, tmp_path):
    tools = tmp_path / "bin"  # every tool a local build uses, but slirp4netns
    tools.mkdir()
    for tool in ("bwrap", "nsenter", "ip", "git"):
        (tools / tool).symlink_to(shutil.which(tool))
    app = c_app(tmp_path / "no-slirp")  # a name no other test builds into the shared store
    result = builder("build", app, env={"PATH": str(tools)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "s2i: error: the build's network needs slirp4netns, which is not installed (install slirp4netns "
        "(apt-get install slirp4netns) or pass --network host to share this machine's network, or --network none)")
    assert not (builder.cache / "s2i" / "refs" / "builds" / app.name).exists()
    assert builder("build", app, "--network", "host", env={"PATH": str(tools)}).returncode == 0
