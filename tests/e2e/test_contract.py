"""The run-time contract of every built image: $PORT, Procfile commands without a shell, PID 1 duties."""

from __future__ import annotations

import pytest

from tests.e2e.test_build import APPS, app_copy, built, http_get
from tests.e2e.helpers import compile_static, run_image, seconds_to_stop, skopeo_inspect, start_image

pytestmark = pytest.mark.e2e


def test_procfile_app_gets_port_and_defaults_and_stops_on_sigterm(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "py-procfile")
    reference = built(builder("build", app, f"{registry.host}/procfile:1"))
    config = skopeo_inspect(f"docker://{reference}", config=True)["config"]
    assert config["Entrypoint"][0] == "/s2i/launch" and "PORT=8080" in config["Env"]
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/") == "port=8080 workers=2\n"
    with start_image(f"docker://{reference}", env={"PORT": "9191", "WEB_CONCURRENCY": "3"}, wait_for_port=9191, timeout=30) as container:
        assert http_get("http://127.0.0.1:9191/") == "port=9191 workers=3\n"
        # the app is PID 2 under the launcher: SIGTERM reaches it (as PID 1 it would be ignored)
        assert seconds_to_stop(container) < 2


def test_go_app_reads_its_templates_at_run_time_on_port(builder, registry, tmp_path):
    reference = built(builder("build", app_copy(tmp_path, APPS / "go-templates"), f"{registry.host}/greeter:1"))
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/") == "hello from templates\n"
    with start_image(f"docker://{reference}", env={"PORT": "9292"}, wait_for_port=9292, timeout=30):
        assert http_get("http://127.0.0.1:9292/") == "hello from templates\n"


def test_go_main_package_without_go_mod_resolves_localhost(builder, registry, tmp_path):
    reference = built(builder("build", app_copy(tmp_path, APPS / "go-nomod"), f"{registry.host}/nomod:1"))
    assert run_image(f"docker://{reference}").stdout == "hello without a module\nlocalhost: [127.0.0.1 ::1] <nil>\n"


def test_django_with_sqlite_beside_its_code_and_collected_static_files(builder, registry, tmp_path):
    reference = built(builder("build", app_copy(tmp_path, APPS / "py-django"), f"{registry.host}/django:1", timeout=600))
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=60):
        assert http_get("http://127.0.0.1:8080/") == "hello from django, visit 1, body { color: teal }\n"
        assert http_get("http://127.0.0.1:8080/") == "hello from django, visit 2, body { color: teal }\n"


def test_c_program_reads_its_htdocs_beside_it(builder, registry, tmp_path):
    reference = built(builder("build", app_copy(tmp_path, APPS / "c-htdocs"), f"{registry.host}/htdocs:1"))
    assert run_image(f"docker://{reference}").stdout == "<h1>served from htdocs</h1>\n"


PRINT_NAMES = r"""
#include <netdb.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    char name[256] = "";
    struct addrinfo *found = 0;
    gethostname(name, sizeof name);
    int looked_up = getaddrinfo("localhost", 0, 0, &found);
    printf("hostname %s\nlocalhost %s\nresolv.conf %s\n", name, looked_up == 0 ? "resolves" : "fails",
           access("/etc/resolv.conf", R_OK) == 0 ? "present" : "missing");
    return 0;
}
"""


def test_s2i_run_gives_hosts_resolv_conf_and_a_hostname(s2i, registry, tmp_path):
    compile_static(PRINT_NAMES, tmp_path / "layer" / "names")
    target = f"{registry.host}/names:1"
    pushed = s2i("append", "scratch", target, "--layer", tmp_path / "layer", "--entrypoint", "/names")
    assert pushed.returncode == 0, pushed.stderr
    result = s2i("run", target, timeout=60)
    digest = pushed.stdout.strip().rsplit(":", 1)[1]
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"hostname s2i-{digest[:12]}\nlocalhost resolves\nresolv.conf present\n"
