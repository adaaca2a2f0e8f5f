"""What a build records of the app's git checkout (origin URL, commit, commit time), never running the repo's config."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from s2i.files import open_regular, read_small
from s2i.progress import log

OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
COMMITTER_TIME = re.compile(r"^committer .*> (\d{1,12}) [+-]\d{4}$", re.MULTILINE)
PER_WORKTREE = ("HEAD", "refs/bisect/", "refs/worktree/", "refs/rewritten/")
GIT_TIMEOUT = 10


def git_info(app: Path) -> dict[str, str]:
    """{"source", "revision", "time"} of the checkout holding `app`; {} or fewer keys when git cannot tell."""
    dirs = find_git_dirs(Path(os.path.abspath(app)))
    if dirs is None:
        return {}
    git_dir, common_dir = dirs
    revision = resolve_ref(git_dir, common_dir, "HEAD")
    if revision is None:
        return {}
    if shutil.which("git") is None:  # a slim CI image: the build goes on with what the files say
        log("git is not on PATH: the image records the commit but not its time or origin (created: SOURCE_DATE_EPOCH, else 0)")
    with tempfile.TemporaryDirectory(prefix="s2i-git-") as home:
        env = _clean_env(Path(home), revision, common_dir)
        source = _config(common_dir / "config", "remote.origin.url", env)
        commit = _git(["cat-file", "commit", revision], env)
    time = COMMITTER_TIME.search(commit.partition("\n\n")[0]) if commit else None
    return {"source": public_url(source or ""), "revision": revision, "time": time.group(1) if time else ""}


def find_git_dirs(app: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the nearest `.git` at or above `app`; a `.git` that is a link or odd file is not followed."""
    for directory in (app, *app.parents):
        dotgit = directory / ".git"
        try:
            mode = os.lstat(dotgit).st_mode
        except FileNotFoundError:
            continue
        except OSError:
            return None
        if stat.S_ISDIR(mode):
            git_dir = dotgit
        elif stat.S_ISREG(mode):
            git_dir = _linked_git_dir(dotgit)
        else:
            return None
        if git_dir is None:
            return None
        common = read_small(git_dir / "commondir", 4096)
        return git_dir, (git_dir / common.strip()) if common and common.strip() else git_dir
    return None


def _linked_git_dir(dotgit: Path) -> Path | None:
    """A worktree's or submodule's `gitdir:` file, trusted only when that git dir points back at this checkout."""
    text = read_small(dotgit, 4096) or ""
    if not text.startswith("gitdir: "):
        return None
    git_dir = dotgit.parent / text[len("gitdir: "):].strip()
    back = read_small(git_dir / "gitdir", 4096)  # a worktree's git dir names its .git file
    if back and _same(git_dir / back.strip(), dotgit):
        return git_dir
    with tempfile.TemporaryDirectory(prefix="s2i-git-") as home:  # a submodule's config names its checkout
        worktree = _config(git_dir / "config", "core.worktree", _clean_env(Path(home)))
    return git_dir if worktree and _same(git_dir / worktree, dotgit.parent) else None


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def resolve_ref(git_dir: Path, common_dir: Path, name: str) -> str | None:
    """The object id `name` points to, following at most 5 symbolic refs; loose refs, then packed-refs."""
    for _ in range(5):
        if name != "HEAD" and not _safe_ref_name(name):
            return None
        base = git_dir if name.startswith(PER_WORKTREE) else common_dir
        value = read_small(base / name, 4096)
        value = value.strip() if value is not None else _packed_ref(common_dir, name)
        if value is None:
            return None
        if not value.startswith("ref: "):
            return value if OBJECT_ID.fullmatch(value) else None
        name = value[len("ref: "):].strip()
    return None


def _safe_ref_name(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "refs" and all(part not in ("", ".", "..") for part in parts) and name.isprintable() and "\\" not in name


def _packed_ref(common_dir: Path, name: str) -> str | None:
    try:
        with os.fdopen(open_regular(common_dir / "packed-refs"), "rb") as handle:
            for line in handle:
                value, _, ref = line.decode("utf-8", "replace").strip().partition(" ")
                if ref == name:
                    return value
    except OSError:
        pass
    return None


def _clean_env(home: Path, revision: str = "", common_dir: Path | None = None) -> dict[str, str]:
    """No system, global or repo config and no hooks: git reads a private repo that borrows the app's objects."""
    private = home / "repo.git"
    (private / "objects" / "info").mkdir(parents=True)
    (private / "refs").mkdir()
    (private / "HEAD").write_text((revision or "0" * 40) + "\n")
    sha256 = len(revision) == 64
    (private / "config").write_text(
        f"[core]\n\trepositoryformatversion = {1 if sha256 else 0}\n" + ("[extensions]\n\tobjectformat = sha256\n" if sha256 else ""))
    if common_dir is not None and "\n" not in str(common_dir):
        (private / "objects" / "info" / "alternates").write_text(f"{os.path.abspath(common_dir / 'objects')}\n")
    return {
        "PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "XDG_CONFIG_HOME": str(home), "LC_ALL": "C",
        "GIT_DIR": str(private), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_NO_REPLACE_OBJECTS": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_ATTR_NOSYSTEM": "1",
    }


def _config(path: Path, key: str, env: dict[str, str]) -> str | None:
    """One value of a config file, parsed only: no includes, and nothing in it is run."""
    if os.path.islink(path) or not os.path.isfile(path):  # a FIFO would keep git waiting
        return None
    return _git(["config", "--file", str(path), "--no-includes", "--get", key], env)


def _git(args: list[str], env: dict[str, str]) -> str | None:
    try:
        result = subprocess.run(["git", *args], env=env, cwd=env["HOME"], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=GIT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git: the build records no commit time
    return result.stdout.decode("utf-8", "replace").strip() if result.returncode == 0 else None


def public_url(url: str) -> str:
    """The origin as an image may show it: no user or password, query or fragment; odd values dropped."""
    if not url or len(url) > 2048 or not url.isprintable():
        return ""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    userinfo, at, rest = url.partition("@")
    if at and ":" in userinfo and "/" not in userinfo:  # user:password@host:path
        return rest
    return url
