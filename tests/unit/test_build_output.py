"""The host reads a build's output as hostile data: links it planted are refused, documents are small and typed."""

import io
import json
import os

import pytest

from s2i.archive.tarwriter import write_tree
from s2i.build.layers import _layer_meta
from s2i.build.output import LAUNCH_KEYS, check_keys, read_json, real_dir
from s2i.errors import S2IError, UsageError


@pytest.fixture
def output(tmp_path):
    out = tmp_path / "out"
    (out / "layers" / "app" / "app").mkdir(parents=True)
    (out / "layers" / "app" / "app" / "hello").write_text("hi")
    (out / "meta").mkdir()
    (out / "launch.json").write_text(json.dumps({"entrypoint": ["/app/hello"], "workdir": "/app"}))
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret.json").write_text('{"labels": {"leak": "host-secret"}}')
    return out


def one_line(caught) -> str:
    text = caught.value.one_line()
    assert "\n" not in text
    return text


def test_plain_output_reads_back(output):
    assert read_json(output, "launch.json") == {"entrypoint": ["/app/hello"], "workdir": "/app"}
    assert real_dir(output, "layers/app") == output / "layers" / "app"
    assert real_dir(output, "layers/python") is None and read_json(output, "meta/app.json") is None
    assert _layer_meta(output, "app") == {}
    (output / "meta" / "deps.json").write_text('{"labels": {"io.s2i.python.requirements": "flask==3.0.0"}}')
    assert _layer_meta(output, "deps") == {"labels": {"io.s2i.python.requirements": "flask==3.0.0"}}


@pytest.mark.parametrize("planted, read", [
    ("launch.json", lambda out: read_json(out, "launch.json")),
    ("meta/app.json", lambda out: _layer_meta(out, "app")),
    ("meta", lambda out: _layer_meta(out, "app")),
    ("layers/app", lambda out: real_dir(out, "layers/app")),
    ("layers", lambda out: real_dir(out, "layers/app")),
])
def test_a_planted_symlink_to_the_host_is_refused(output, planted, read):
    path = output / planted
    target = output.parent / "host" / ("secret.json" if planted.endswith(".json") else "")
    if path.is_dir():
        os.rename(path, output.parent / "moved")
    else:
        path.unlink(missing_ok=True)
    os.symlink(target, path)
    with pytest.raises(S2IError) as caught:
        read(output)
    assert f"the build left a symlink" in one_line(caught) and f"at /s2i/out/{planted}: refusing" in one_line(caught)


def test_a_fifo_is_refused_without_waiting(output):
    (output / "launch.json").unlink()
    os.mkfifo(output / "launch.json")
    with pytest.raises(S2IError) as caught:
        read_json(output, "launch.json")
    assert "a symlink or special file at /s2i/out/launch.json" in one_line(caught)


@pytest.mark.parametrize("content, message", [
    (b"[1, 2]", "is not a JSON object"),
    (b"{not json", "is not a JSON object"),
    (b'{"a": "' + b"x" * (1 << 20) + b'"}', "is larger than 1 MiB"),
])
def test_bad_documents_are_one_line(output, content, message):
    (output / "launch.json").write_bytes(content)
    with pytest.raises(S2IError) as caught:
        read_json(output, "launch.json")
    assert message in one_line(caught)


@pytest.mark.parametrize("launch", [
    {"entrypoint": "/app/hello"}, {"entrypoint": ["/app", 1]}, {"env": {"A": 1}}, {"workdir": ["/app"]},
    {"labels": ["x"]}, {"user": "root"},
])
def test_launch_settings_must_have_the_right_types(launch):
    with pytest.raises(S2IError) as caught:
        check_keys(launch, "launch.json", LAUNCH_KEYS)
    assert f"has a bad {next(iter(launch))!r}" in one_line(caught)


def test_bad_meta_labels_are_one_line(output):
    (output / "meta" / "app.json").write_text('{"labels": {"x": 1}}')
    with pytest.raises(S2IError) as caught:
        _layer_meta(output, "app")
    assert "/s2i/out/meta/app.json has a bad 'labels'" in one_line(caught)


def test_the_tar_writer_does_not_follow_a_linked_root(output):
    link = output.parent / "link"
    os.symlink(output.parent / "host", link)
    with pytest.raises(UsageError) as caught:
        write_tree(link, io.BytesIO())
    assert "is a symlink" in one_line(caught)


def test_a_layer_key_never_reads_through_a_link_out_of_the_app(tmp_path):
    from s2i.build.config import AppConfig
    from s2i.build.layers import layer_keys
    from s2i.build.plan import make_plan
    from s2i.buildpacks import get_buildpack
    from s2i.stack.files import find_stack, load_stack

    plan = make_plan(get_buildpack("python"), (), AppConfig(), load_stack(find_stack("debian-bookworm")), {}, 0, {}, {})
    app = tmp_path / "app"
    (app / "reqs").mkdir(parents=True)
    keys = lambda: layer_keys(plan, app, "sha256:builder")["deps"]
    absent = keys()
    (tmp_path / "host.txt").write_text("flask\n")
    os.symlink("../host.txt", app / "requirements.txt")
    assert keys() == absent
    os.unlink(app / "requirements.txt")
    os.mkfifo(app / "requirements.txt")
    assert keys() == absent
    os.unlink(app / "requirements.txt")
    (app / "reqs" / "base.txt").write_text("flask\n")
    os.symlink("reqs/base.txt", app / "requirements.txt")
    linked = keys()
    os.unlink(app / "requirements.txt")
    (app / "requirements.txt").write_text("flask\n")
    assert linked == keys() != absent
