"""The CI steps in ci/: valid for their CI system, every reference declared, and an s2i command line s2i accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

CI = Path(__file__).resolve().parents[2] / "ci"
ACTION = CI / "github" / "action.yml"
GITLAB = CI / "gitlab" / "s2i.gitlab-ci.yml"
TEKTON = CI / "tekton" / "s2i-task.yaml"
CHECK_JSONSCHEMA = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))


def load(path: Path):
    return YAML(typ="safe").load(path.read_text())


def validate(schema: str, path: Path) -> None:
    result = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_github_action_validates_against_the_actions_schema():
    validate("vendor.github-actions", ACTION)


def test_the_gitlab_template_validates_as_a_job_against_the_gitlab_ci_schema(tmp_path):
    # a hidden job (.name) is not checked by the schema: check it the way a user's job extends it
    template = load(GITLAB)
    job = tmp_path / "job.yml"
    YAML().dump({"s2i-build": template[".s2i-build"]}, job)
    validate("vendor.gitlab-ci", job)


def test_a_mistyped_key_fails_validation(tmp_path):
    """The validator is not a no-op: a misspelt key in the GitLab job is caught."""
    job = load(GITLAB)[".s2i-build"]
    job["scripts"] = job.pop("script")
    path = tmp_path / "bad.yml"
    YAML().dump({"s2i-build": job}, path)
    with pytest.raises(AssertionError, match="scripts"):
        validate("vendor.gitlab-ci", path)


def test_every_input_the_action_uses_is_declared():
    action = load(ACTION)
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)", ACTION.read_text()))
    assert used and used <= set(action["inputs"]), used - set(action["inputs"])
    step = action["runs"]["steps"][0]
    assert "${{" not in step["run"], "inputs reach the script as environment variables, never spliced into it"


def test_every_param_workspace_and_result_the_task_uses_is_declared():
    task = load(TEKTON)
    assert (task["apiVersion"], task["kind"]) == ("tekton.dev/v1", "Task")
    spec, text = task["spec"], TEKTON.read_text()
    declared = {
        "params": {p["name"] for p in spec["params"]},
        "workspaces": {w["name"] for w in spec["workspaces"]},
        "results": {r["name"] for r in spec["results"]},
    }
    for kind, names in declared.items():
        used = set(re.findall(rf"\$\({kind}\.([\w-]+)", text))
        assert used <= names, f"{kind} used but not declared: {used - names}"
    assert {"s2i-image", "image", "path", "cache"} <= set(re.findall(r"\$\(params\.([\w-]+)\)", text))


SAMPLES = {
    "S2I_APP": ".", "S2I_DESTINATION": "127.0.0.1:5000/team/app:1", "CI_REGISTRY_USER": "ci",
    "params.path": ".", "params.image": "127.0.0.1:5000/team/app:1", "results.digest.path": "/tekton/results/digest",
}


def s2i_argv(path: Path) -> list[str]:
    """The s2i command line a CI file runs, with its variables given sample values."""
    if path == TEKTON:
        step = load(TEKTON)["spec"]["steps"][0]
        words = [*step["command"], *step["args"]]
    else:
        text = path.read_text().replace("\\\n", " ")
        line = next(line for line in text.splitlines()
                    if re.search(r"\bs2i build\b", line) and "description" not in line and not line.lstrip().startswith(("#", "name:")))
        words = shlex.split(line[line.index("s2i build"):])
    words = [w for w in words if w != "${args[@]}"]  # the action's optional flags, built from inputs
    substitute = lambda word: re.sub(r"\$\(([\w.-]+)\)|\$\{?(\w+)\}?", lambda m: SAMPLES[m.group(1) or m.group(2)], word)
    return [substitute(word) for word in words]


@pytest.mark.parametrize("path", [ACTION, GITLAB, TEKTON], ids=["github", "gitlab", "tekton"])
def test_the_command_line_each_ci_file_runs_is_one_s2i_accepts(path):
    from s2i.cli import cli

    argv = s2i_argv(path)
    assert argv[:2] == ["s2i", "build"], argv
    context = cli.make_context("s2i", argv[1:], resilient_parsing=False)
    build = cli.get_command(context, "build")
    parsed = build.make_context("build", argv[2:])
    assert parsed.params["digest_file"], "each CI step hands the digest to the next step"
