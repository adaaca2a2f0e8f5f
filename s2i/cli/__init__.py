"""The `s2i` command line: parses options, calls one function, turns errors into exit codes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from s2i import __version__
from s2i.cli.options import (GivenPath, check_output_file, env_flags, given, key_values, os_error, parse_layer_arg, parse_owner,
                             parse_secrets, registry_options, split_command)
from s2i.cli.publish import finish, output_options, publish_options, repo_destination, with_schema
from s2i.errors import EXIT_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED, S2IError


def emit(result, as_json: bool, text: str, key: str = "items") -> None:
    """The result on stdout: text, or with --json the result and its schema version (a list under `key`)."""
    click.echo(json.dumps(with_schema(result, key), indent=2) if as_json else text)


def platform_given() -> bool:
    """Whether --platform was on the command line: copy and inspect then want one image, not a whole index."""
    from click.core import ParameterSource

    return click.get_current_context().get_parameter_source("platforms") is not ParameterSource.DEFAULT


@click.group()
@click.version_option(__version__)
def cli() -> None:
    """Build small, reproducible OCI images without Docker."""
    from s2i.progress import NORMAL, set_verbosity

    set_verbosity(NORMAL)  # -q/-v of this command line only


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
@click.option("--annotation", multiple=True, metavar="K=V", help="Manifest annotation (repeatable).")
@click.option("--port", multiple=True, metavar="N[/PROTO]")
@click.option("--owner", default="0:0", show_default=True, metavar="UID[:GID]", help="Owner of the files in the new layers.")
@click.option("--compression", type=click.Choice(["gzip", "zstd"]), default="gzip", show_default=True)
@publish_options
@output_options
@registry_options
def append(base, target, layers, entrypoint, cmd, env, workdir, user, label, annotation, port, owner, compression, tags, digest_file,
           as_json, context):
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
        annotations=dict(key_values(annotation, "--annotation")),
    )
    layer_dirs = [parse_layer_arg(arg) for arg in layers]
    published = run_append(base, target, layer_dirs, changes, parse_owner(owner), compression, context, tags)
    finish(published, digest_file)
    emit(published.to_json(), as_json, published.reference)


@cli.command()
@click.argument("source")
@click.argument("destination")
@publish_options
@output_options
@registry_options
def copy(source, destination, tags, digest_file, as_json, context):
    """Copy an image between registries, OCI layouts and docker archives: an index whole, unless --platform picks one."""
    from s2i.commands.image import copy as run_copy

    published = run_copy(source, destination, context, tags, platform_given())
    finish(published, digest_file)
    emit(published.to_json(), as_json, published.reference)


@cli.command()
@click.argument("reference")
@click.option("--layers", "show_layers", is_flag=True, help="List each layer: size, what created it, files, bytes later layers waste.")
@click.option("--files", "show_files", is_flag=False, flag_value="all", default=None, metavar="[LAYER]",
              help="List the files of every layer (or of LAYER: its number or a digest prefix), marking those a later layer replaces or deletes.")
@output_options
@registry_options
def inspect(reference, show_layers, show_files, as_json, context):
    """Show an image's digest, config and layers (an index: its platforms, unless --platform picks one)."""
    from s2i.commands.image import format_summary, inspect as run_inspect

    if show_layers or show_files:
        from s2i.commands.image import explore_image

        result, text = explore_image(reference, show_files, context)
        emit(result, as_json, text)
        return
    summary = run_inspect(reference, context, platform_given())
    emit(summary, as_json, format_summary(summary))


@cli.command()
@click.argument("image")
@click.argument("destination", required=False, callback=given)
@click.option("--run-image", help="The base to move onto: a registry image, or a base of the image's stack (default: that base as the stack has it now).")
@publish_options
@output_options
@registry_options
def rebase(image, destination, run_image, tags, digest_file, as_json, context):
    """Move IMAGE's app layers onto a newer run base, without building; push to DESTINATION (default: IMAGE)."""
    from s2i.commands.rebase import rebase as run_rebase

    published = run_rebase(image, destination, run_image, context, tags)
    finish(published, digest_file)
    emit(published.to_json(), as_json, published.reference)


@cli.command()
@click.argument("image")
@click.option("--format", "fmt", type=click.Choice(["spdx", "cyclonedx"]), default="spdx", show_default=True)
@output_options
@registry_options
def sbom(image, fmt, as_json, context):
    """Print the SBOM s2i pushed beside IMAGE (an OCI referrer), checked against its digests."""
    from s2i.commands.sbom import fetch_sbom

    click.echo(fetch_sbom(image, fmt, context).decode())


def _app_flags(run_image, stack_name, entrypoint, cmd, env, port, user, process=None, read_only_app=None):
    from s2i.build.config import AppConfig, parse_port, parse_process, parse_user

    return AppConfig(
        run_image=run_image,
        stack=stack_name,
        entrypoint=split_command(entrypoint),
        cmd=split_command(cmd),
        env=env_flags(env),
        ports=tuple(parse_port(p, "--port") for p in port),
        user=parse_user(user, "--user") if user is not None else None,
        process=parse_process(process, "--process") if process is not None else None,
        read_only_app=read_only_app,
    )


@cli.command()
@click.argument("app", type=GivenPath(file_okay=False, path_type=Path))
@click.option("--buildpack", help="Skip detection and use this buildpack.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@output_options
def detect(app, buildpack, as_json):
    """Say which buildpack would build APP, and why."""
    from s2i.build.pipeline import detect_app

    detection, runtime = detect_app(app, buildpack)
    text = f"{detection.buildpack.name}: {'; '.join(detection.reasons)}" + (f"\nruntime: {runtime.describe()}" if runtime else "")
    emit({**detection.to_json(), **({"runtime": runtime.to_json()} if runtime else {})}, as_json, text)


@cli.command()
@click.argument("app", type=GivenPath(file_okay=False, path_type=Path))
@click.argument("destination", required=False, callback=given)
@click.option("--buildpack", help="Skip detection and use this buildpack.")
@click.option("--run-image", help="Run base: a stack base (static, scratch, base, python, alpine) or a registry image.")
@click.option("--stack", "stack_name", help="Stack to build with (default debian-trixie, or the stack that has the runtime version the app asks for).")
@click.option("--entrypoint", help="Override the entrypoint.")
@click.option("--cmd", help="Default arguments.")
@click.option("--env", multiple=True, metavar="K=V", help="Runtime environment.")
@click.option("--port", multiple=True, metavar="N[/PROTO]")
@click.option("--user", help="Run as this user (default 65532 on bases that have it).")
@click.option("--process", metavar="NAME", help="Run the Procfile's NAME: line instead of web:.")
@click.option("--read-only-app/--writable-app", "read_only_app", default=None,
              help="Keep /app root's and read-only for the run user (default: writable by it).")
@click.option("--log", "log_file", type=GivenPath(dir_okay=False, path_type=Path), callback=check_output_file, help="Also write the build output here.")
@click.option("--compression", type=click.Choice(["gzip", "zstd"]), default="gzip", show_default=True)
@click.option("--secret", "secrets", multiple=True, metavar="id=NAME,src=FILE",
              help="Mount FILE read-only at /run/secrets/NAME during the build only; never in the image.")
@click.option("--network", type=click.Choice(["default", "host", "none"]), default="default", show_default=True,
              help="default: outbound only, never this machine's own services; host: share this machine's network; none: offline.")
@click.option("--sbom", "sbom_file", type=GivenPath(dir_okay=False, path_type=Path), callback=check_output_file, help="Also write the image's SBOM here.")
@click.option("--sbom-format", type=click.Choice(["spdx", "cyclonedx"]), default="spdx", show_default=True, help="SPDX 2.3 or CycloneDX 1.5 JSON.")
@click.option("--build-timeout", type=click.IntRange(min=1), default=1800, show_default=True, metavar="SECONDS",
              help="Stop the build, and every process it started, after this long.")
@click.option("--build-package", "build_packages", multiple=True, metavar="NAME", help="Debian package to add to the build (adds to [build] packages).")
@click.option("--run-package", "run_packages", multiple=True, metavar="NAME", help="Debian package to add to the image (adds to [run] packages).")
@click.option("--isolation", type=click.Choice(["auto", "bwrap", "chroot", "none"]), default="auto", show_default=True,
              envvar="S2I_ISOLATION", help="auto: bwrap, else the strongest that works here, said on stderr; none: a root chroot, "
              "only when asked.")
@click.option("--cache", "cache_repo", envvar="S2I_CACHE", metavar="REPO",
              help="Registry repository shared by runners: reusable layers and build caches are read before the build, written after.")
@click.option("--label", multiple=True, metavar="K=V", help="Image label (repeatable); wins over s2i's own.")
@click.option("--annotation", multiple=True, metavar="K=V", help="Manifest annotation (repeatable); wins over s2i's own.")
@publish_options
@output_options
@registry_options
def build(app, destination, buildpack, run_image, stack_name, entrypoint, cmd, env, port, user, process, read_only_app, log_file, compression,
          secrets, network, build_timeout, sbom_file, sbom_format, build_packages, run_packages, isolation, cache_repo, label, annotation, tags,
          digest_file, as_json, context):
    """Build APP's source into an image and push it to DESTINATION (default: S2I_REPO/<app>, else the local store)."""
    from dataclasses import replace

    from s2i.build.config import buildpack_name, package_names
    from s2i.build.pipeline import BuildOptions, build as run_build
    from s2i.build.platforms import parse_platforms

    flags = replace(_app_flags(run_image, stack_name, entrypoint, cmd, env, port, user, process, read_only_app),
                    build_packages=package_names(list(build_packages), "--build-package"),
                    run_packages=package_names(list(run_packages), "--run-package"))
    buildpack = buildpack_name(buildpack, "--buildpack")
    given = click.get_current_context().params.get("platforms") or ()  # a registry option: see options.py
    platforms = parse_platforms(given) if given else ()  # none given: s2i.toml's, else the host's
    options = BuildOptions(app, destination or repo_destination(app, dict(os.environ)), flags, buildpack, compression, log_file,
                           parse_secrets(secrets), network, build_timeout, cache=cache_repo, sbom_file=sbom_file, sbom_format=sbom_format,
                           tags=tags, labels=key_values(label, "--label"), annotations=key_values(annotation, "--annotation"), isolation=isolation,
                           platforms=platforms)
    published = run_build(options, context)
    finish(published, digest_file)
    emit(published.to_json(), as_json, published.reference)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("image")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--debug", is_flag=True, help="Instead, a busybox shell over the image's files and env (for images with no shell); ARGS run in it.")
@output_options
@registry_options
def run(image, args, debug, as_json, context):
    """Run IMAGE's entrypoint in bubblewrap (host network): s2i run IMAGE [-- ARGS]."""
    if debug:
        from s2i.commands.debug import debug as debug_image

        sys.exit(debug_image(image, args, context))
    from s2i.commands.run import run as run_image

    sys.exit(run_image(image, args, context))


@cli.group()
def stack() -> None:
    """Build and list stacks: the builder and run base images."""


def _platforms_given() -> str | None:
    """--platform as typed (a comma list), None when left at its default: the registry options' flag."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    name = "platforms" if "platforms" in ctx.params else "platform"
    if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
        return None
    given = ctx.params[name]
    return ",".join([given] if isinstance(given, str) else given)


@stack.command("build")
@click.argument("name", required=False)
@click.option("--push", "push_prefix", metavar="PREFIX", help="Also push the images to PREFIX/builder, PREFIX/run-static, ...")
@click.option("--update", is_flag=True, help="Resolve the newest package versions and rewrite the lock file.")
@click.option("--write-stack", type=GivenPath(dir_okay=False, path_type=Path), metavar="FILE",
              help="With --push: write a stack file naming the pushed images by digest, usable with --stack FILE without mmdebstrap.")
@output_options
@registry_options
def stack_build(name, push_prefix, update, write_stack, as_json, context):
    """Build stack NAME (default debian-trixie) from Debian packages into the local store.

    --platform linux/arm64 builds another architecture's run bases (the builder stays the host's); default: the
    builder's architecture, and with --update every architecture the stack serves.
    """
    from s2i.commands.stack import build as build_stack

    results = build_stack(name, push_prefix, update, context, write_stack, _platforms_given())
    text = "\n".join(r.get("reference") or f"{r['image']}@{r['digest']}" for r in results)
    emit(results, as_json, text, key="images")


@stack.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@output_options
def stack_list(as_json):
    """Show the stacks, their images, digests and sizes."""
    from s2i.commands.stack import format_stacks, list_stacks

    stacks = list_stacks()
    emit(stacks, as_json, format_stacks(stacks), key="stacks")


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except S2IError as exc:
        click.echo(f"s2i: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # disk full, a path too long, ...: one line, not a traceback
        click.echo(f"s2i: error: {os_error(exc).one_line()}", err=True)
        sys.exit(EXIT_FAILED)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("s2i: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:  # click's own usage errors, as one line like ours
        context = getattr(exc, "ctx", None)
        hint = f" (see {context.command_path} --help)" if context else ""
        click.echo(f"s2i: error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: where it happened, not its text (which may hold anything, secrets included)
        click.echo(f"s2i: internal error: {internal_error(exc)}", err=True)
        sys.exit(EXIT_INTERNAL)


def internal_error(exc: Exception) -> str:
    """One line naming the exception and the s2i line it came from; -v prints the whole traceback first."""
    import traceback

    from s2i.progress import VERBOSE, verbosity

    if verbosity() >= VERBOSE:
        traceback.print_exception(exc)
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if "/s2i/" in frame.filename]
    where = f" at s2i/{frames[-1].filename.rpartition('/s2i/')[2]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where} (a bug in s2i: rerun with -v for the traceback, and report it)"
