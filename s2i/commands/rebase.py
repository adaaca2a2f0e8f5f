"""`s2i rebase`: put an image's app layers on a newer run base without building; only a config and manifest are new."""

from __future__ import annotations

import copy

from s2i.errors import S2IError, UsageError
from s2i.oci.image import Image
from s2i.oci.reference import RegistryLocation, parse_destination, parse_location
from s2i.oci.types import (
    ANNOTATION_BASE_DIGEST,
    ANNOTATION_BASE_LAYERS,
    ANNOTATION_BASE_NAME,
    canonical_json,
    sha256_digest,
)
from s2i.progress import log
from s2i.stack.build import LABEL_LIBC, LABEL_PYTHON
from s2i.transports import (
    Context,
    Published,
    prepare_destination,
    read_image,
    write_image,
)

LABEL_STACK, LABEL_STACK_IMAGE = "io.s2i.stack", "io.s2i.stack.image"
BASE_LABEL_PREFIX = "io.s2i.stack"
REBUILD = "rebuild the app on that base instead: s2i build APP --run-image BASE"


def base_layer_count(image: Image) -> int:
    """How many bottom layers are the old base, as the build recorded it; never guessed."""
    text = (image.manifest.get("annotations") or {}).get(ANNOTATION_BASE_LAYERS, "")
    if not text.isdigit() or not 0 < int(text) <= len(image.layers):
        raise UsageError(f"the image does not record which of its {len(image.layers)} layers are its base ({ANNOTATION_BASE_LAYERS})",
                         "rebase images built by this s2i; rebuild older ones once")
    return int(text)


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def check_compatible(app: dict[str, str], base: dict[str, str], base_name: str) -> None:
    """Refuse a base from another stack family, or whose glibc is older or CPython other than the app was built on."""
    if app.get(LABEL_STACK) and base.get(LABEL_STACK) != app[LABEL_STACK]:
        raise UsageError(f"{base_name} is from stack {base.get(LABEL_STACK) or '(none)'}, the app was built on {app[LABEL_STACK]}", REBUILD)
    if app.get(LABEL_STACK_IMAGE) and base.get(LABEL_STACK_IMAGE) != app[LABEL_STACK_IMAGE]:
        raise UsageError(f"{base_name} is stack image {base.get(LABEL_STACK_IMAGE)}, the app was built on {app[LABEL_STACK_IMAGE]}", REBUILD)
    if app.get(LABEL_LIBC) and _numbers(base.get(LABEL_LIBC, "0")) < _numbers(app[LABEL_LIBC]):
        raise UsageError(f"{base_name} has glibc {base.get(LABEL_LIBC, '(none)')}, older than the {app[LABEL_LIBC]} the app was built against", REBUILD)
    if app.get(LABEL_PYTHON) and base.get(LABEL_PYTHON) != app[LABEL_PYTHON]:
        raise UsageError(f"{base_name} has CPython {base.get(LABEL_PYTHON, '(none)')}, the app's packages were built for {app[LABEL_PYTHON]}", REBUILD)


def _own_history(history: list, base_layers: int) -> list:
    """The history entries after the base's: those past the base's `base_layers` non-empty entries."""
    seen = 0
    for index, entry in enumerate(history):
        if seen == base_layers:
            return history[index:]
        seen += not (isinstance(entry, dict) and entry.get("empty_layer"))
    return []


def rebased(app: Image, old_count: int, base: Image, base_name: str | None) -> Image:
    """The app's own layers on `base`: its config kept but for the base's diff_ids, history and stack labels."""
    config = copy.deepcopy(app.config)
    own_diff_ids = config["rootfs"]["diff_ids"][old_count:]
    config["rootfs"]["diff_ids"] = [layer.diff_id for layer in base.layers] + own_diff_ids
    config["history"] = list(base.config.get("history") or []) + _own_history(config.get("history") or [], old_count)
    runtime = config.setdefault("config", {})
    kept = {k: v for k, v in (runtime.get("Labels") or {}).items() if not k.startswith(BASE_LABEL_PREFIX)}
    runtime["Labels"] = {**kept, **{k: v for k, v in base.labels.items() if k.startswith(BASE_LABEL_PREFIX)}}
    config_bytes = canonical_json(config)
    manifest = copy.deepcopy(app.manifest)
    manifest["config"] = {**manifest["config"], "digest": sha256_digest(config_bytes), "size": len(config_bytes)}
    manifest["layers"] = list(base.manifest.get("layers", [])) + manifest["layers"][old_count:]
    annotations = {k: v for k, v in (manifest.get("annotations") or {}).items() if k != ANNOTATION_BASE_NAME}
    annotations.update({ANNOTATION_BASE_DIGEST: base.digest, ANNOTATION_BASE_LAYERS: str(len(base.layers))})
    if base_name:
        annotations[ANNOTATION_BASE_NAME] = base_name
    manifest["annotations"] = annotations
    return Image(canonical_json(manifest), config_bytes, base.layers + app.layers[old_count:])


def current_base(app: Image, run_image: str | None, context: Context) -> tuple[Image, str | None, str]:
    """(the new base, the name to record, how to call it): --run-image, else the stack's base today, else the recorded name."""
    from s2i.stack.files import known_stack
    from s2i.stack.images import stack_image

    app_labels, recorded = app.labels, (app.manifest.get("annotations") or {}).get(ANNOTATION_BASE_NAME)
    stack_name, stack_base = known_stack(app_labels.get(LABEL_STACK)), app_labels.get(LABEL_STACK_IMAGE, "").removeprefix("run-")
    if run_image is None and recorded:
        run_image = recorded
    if run_image and ("/" in run_image or ":" in run_image):
        location = parse_location(run_image)
        return read_image(location, context), location.base_name, run_image
    name = run_image or stack_base
    if not stack_name or not name:
        raise UsageError("the image names no run base to rebase onto", "give one: --run-image REGISTRY/BASE:TAG")
    return stack_image(stack_name, name, context), None, f"stack {stack_name} base {name}"


def rebase(reference: str, destination: str | None, run_image: str | None, context: Context, tags: tuple[str, ...] = ()) -> Published:
    source = parse_location(reference)
    if not isinstance(source, RegistryLocation) and destination is None:
        raise UsageError(f"{reference} is not in a registry", "give a DESTINATION to write the rebased image to")
    target = parse_destination(destination or reference, tags)
    prepare_destination(target, context)
    app = read_image(source, context)
    old_count = base_layer_count(app)
    base, base_name, called = current_base(app, run_image, context)
    check_compatible(app.labels, base.labels, called)
    if [l.diff_id for l in base.layers] == [l.diff_id for l in app.layers[:old_count]]:
        log(f"already on {called} ({base.digest}): nothing to change")
    image = rebased(app, old_count, base, base_name)
    if image.config["rootfs"]["diff_ids"] != [l.diff_id for l in image.layers]:
        raise S2IError("the rebased config does not match its layers", "this is a bug in s2i: please report it")
    log(f"rebased onto {called}: {old_count} base layers replaced by {len(base.layers)}, {len(app.layers) - old_count} app layers kept")
    return write_image(target, image, context)
