"""The `s2i` command line: parses options, calls one function, turns errors into exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from s2i import __version__
from s2i.cli.options import (GivenPath, check_log_file, env_flags, given, key_values, os_error, parse_layer_arg, parse_owner, parse_secrets,
                             registry_options, split_command)
from s2i.errors import S2IError


def emit(result, as_json: bool, text: str) -> None:
    click.echo(json.dumps(result, indent=2) if as_json else text)


@click.group()
@click.version_option(__version__)
def cli() -> None:
    """Build small, reproducible OCI images without Docker."""


@cli.command()
@click.argument("base")
@click.argument("target")
@click.option("--layer", "layers", multiple=True, required=True, metavar="DIR[:DEST]", help="Directory to add as one layer (at DEST, default /).")
@click.option("--entrypoint", help="Entrypoint, split like a shell command line.")
@click.option("--cmd", help="Default arguments, split like a shell command line.")
@click.option("--env", multiple=True, metavar="K=V")
@click.option("--workdir")
@click.option("--user")
@click.option("--label", multiple=True, metavar="K=V")
@click.option("--port", multiple=True, metavar="N[/PROTO]")
@click.option("--owner", default="0:0", show_default=True, metavar="UID[:GID]", help="Owner of the files in the new layers.")
@click.option("--compression", type=click.Choice(["gzip", "zstd"]), default="gzip", show_default=True)
@registry_options
def append(base, target, layers, entrypoint, cmd, env, workdir, user, label, port, owner, compression, as_json, context):
    """Append each --layer DIR to BASE and write the result to TARGET."""
    from s2i.build.config import parse_port, parse_user
    from s2i.commands.image import append as run_append
    from s2i.oci.mutate import ConfigChanges

    changes = ConfigChanges(
        entrypoint=split_command(entrypoint),
        cmd=split_command(cmd),
        env=env_flags(env),
        workdir=workdir,
        user=parse_user(user, "--user") if user is not None else None,
        labels=key_values(label, "--label"),
        ports=tuple(parse_port(p, "--port") for p in port),
        created_by="s2i append",
    )
    layer_dirs = [parse_layer_arg(arg) for arg in layers]
    published = run_append(base, target, layer_dirs, changes, parse_owner(owner), compression, context)
    emit(published.to_json(), as_json, published.reference)


@cli.command()
@click.argument("source")
@click.argument("destination")
@registry_options
def copy(source, destination, as_json, context):
    """Copy an image between registries, OCI layouts and docker archives."""
    from s2i.commands.image import copy as run_copy

    published = run_copy(source, destination, context)
    emit(published.to_json(), as_json, published.reference)


@cli.command()
@click.argument("reference")
@registry_options
def inspect(reference, as_json, context):
    """Show an image's digest, config and layers."""
    from s2i.commands.image import format_summary, inspect as run_inspect

    summary = run_inspect(reference, context)
    emit(summary, as_json, format_summary(summary))


def _app_flags(run_image, stack_name, entrypoint, cmd, env, port, user):
    from s2i.build.config import AppConfig, parse_port, parse_user

    return AppConfig(
        run_image=run_image,
        stack=stack_name,
        entrypoint=split_command(entrypoint),
        cmd=split_command(cmd),
        env=env_flags(env),
        ports=tuple(parse_port(p, "--port") for p in port),
        user=parse_user(user, "--user") if user is not None else None,
    )


@cli.command()
@click.argument("app", type=GivenPath(file_okay=False, path_type=Path))
@click.option("--buildpack", help="Skip detection and use this buildpack.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def detect(app, buildpack, as_json):
    """Say which buildpack would build APP, and why."""
    from s2i.build.detect import detect as run_detect

    from s2i.build.config import load_app_config
    from s2i.build.runtime import choose_runtime
    from s2i.buildpacks import check_settings

    config = load_app_config(app)
    detection = run_detect(app, buildpack or config.buildpack, "--buildpack" if buildpack else "s2i.toml buildpack")
    _, runtime = choose_runtime(detection.buildpack, app, check_settings(detection.buildpack, config.settings), config.stack)
    text = f"{detection.buildpack.name}: {'; '.join(detection.reasons)}" + (f"\nruntime: {runtime.describe()}" if runtime else "")
    emit({**detection.to_json(), **({"runtime": runtime.to_json()} if runtime else {})}, as_json, text)


@cli.command()
@click.argument("app", type=GivenPath(file_okay=False, path_type=Path))
@click.argument("destination", required=False, callback=given)
@click.option("--buildpack", help="Skip detection and use this buildpack.")
@click.option("--run-image", help="Run base: a stack base (static, scratch, base, python, alpine) or a registry image.")
@click.option("--stack", "stack_name", help="Stack to build with (default debian-bookworm).")
@click.option("--entrypoint", help="Override the entrypoint.")
@click.option("--cmd", help="Default arguments.")
@click.option("--env", multiple=True, metavar="K=V", help="Runtime environment.")
@click.option("--port", multiple=True, metavar="N[/PROTO]")
@click.option("--user", help="Run as this user (default 65532 on bases that have it).")
@click.option("--log", "log_file", type=GivenPath(dir_okay=False, path_type=Path), callback=check_log_file, help="Also write the build output here.")
@click.option("--compression", type=click.Choice(["gzip", "zstd"]), default="gzip", show_default=True)
@click.option("--secret", "secrets", multiple=True, metavar="id=NAME,src=FILE",
              help="Mount FILE read-only at /run/secrets/NAME during the build only; never in the image.")
@click.option("--network", type=click.Choice(["default", "host", "none"]), default="default", show_default=True,
              help="default: outbound only, never this machine's own services; host: share this machine's network; none: offline.")
@click.option("--build-timeout", type=click.IntRange(min=1), default=1800, show_default=True, metavar="SECONDS",
              help="Stop the build, and every process it started, after this long.")
@click.option("--build-package", "build_packages", multiple=True, metavar="NAME", help="Debian package to add to the build (adds to [build] packages).")
@click.option("--run-package", "run_packages", multiple=True, metavar="NAME", help="Debian package to add to the image (adds to [run] packages).")
@click.option("--isolation", type=click.Choice(["auto", "bwrap", "chroot", "none"]), default="auto", show_default=True,
              envvar="S2I_ISOLATION", help="auto: bwrap, else the strongest that works here, said on stderr; none: a root chroot, "
              "only when asked.")
@registry_options
def build(app, destination, buildpack, run_image, stack_name, entrypoint, cmd, env, port, user, log_file, compression, secrets, network,
          build_timeout, build_packages, run_packages, isolation, as_json, context):
    """Build APP's source into an image and push it to DESTINATION (default: the local store)."""
    from dataclasses import replace

    from s2i.build.config import buildpack_name, package_names
    from s2i.build.pipeline import BuildOptions, build as run_build

    flags = replace(_app_flags(run_image, stack_name, entrypoint, cmd, env, port, user),
                    build_packages=package_names(list(build_packages), "--build-package"),
                    run_packages=package_names(list(run_packages), "--run-package"))
    buildpack = buildpack_name(buildpack, "--buildpack")
    options = BuildOptions(app, destination, flags, buildpack, compression, log_file, parse_secrets(secrets), network, build_timeout,
                           isolation)
    published = run_build(options, context)
    emit(published.to_json(), as_json, published.reference)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("image")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@registry_options
def run(image, args, as_json, context):
    """Run IMAGE's entrypoint in bubblewrap (host network): s2i run IMAGE [-- ARGS]."""
    from s2i.commands.run import run as run_image

    sys.exit(run_image(image, args, context))


@cli.group()
def stack() -> None:
    """Build and list stacks: the builder and run base images."""


@stack.command("build")
@click.argument("name", required=False)
@click.option("--push", "push_prefix", metavar="PREFIX", help="Also push the images to PREFIX/builder, PREFIX/run-static, ...")
@click.option("--update", is_flag=True, help="Resolve the newest package versions and rewrite the lock file.")
@registry_options
def stack_build(name, push_prefix, update, as_json, context):
    """Build stack NAME (default debian-bookworm) from Debian packages into the local store."""
    from s2i.commands.stack import build as build_stack

    results = build_stack(name, push_prefix, update, context)
    text = "\n".join(r.get("reference") or f"{r['image']}@{r['digest']}" for r in results)
    emit(results, as_json, text)


@stack.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def stack_list(as_json):
    """Show the stacks, their images, digests and sizes."""
    from s2i.commands.stack import format_stacks, list_stacks

    stacks = list_stacks()
    emit(stacks, as_json, format_stacks(stacks))


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except S2IError as exc:
        click.echo(f"s2i: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # disk full, a path too long, ...: one line, not a traceback
        click.echo(f"s2i: error: {os_error(exc).one_line()}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("s2i: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:  # click's own usage errors, as one line like ours
        context = getattr(exc, "ctx", None)
        hint = f" (see {context.command_path} --help)" if context else ""
        click.echo(f"s2i: error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
