"""git_info reads a hostile checkout without running anything its config names, and never fails loudly."""

import os
import subprocess
import time
from pathlib import Path

import pytest

from s2i.build.git import git_info, public_url

COMMIT_TIME = 1_700_000_000


def git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example",
           "GIT_AUTHOR_DATE": f"{COMMIT_TIME} +0000", "GIT_COMMITTER_DATE": f"{COMMIT_TIME} +0000"}
    result = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, timeout=30, check=True)
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    git(app, "init", "-q", "-b", "main")
    (app / "main.c").write_text("int main(void) { return 0; }\n")
    git(app, "add", "main.c")
    git(app, "commit", "-qm", "one")
    return app


def signed_commit(app: Path) -> str:
    """A commit carrying a (fake) signature: `git log` with log.showSignature hands it to gpg.program."""
    tree = git(app, "rev-parse", "HEAD^{tree}")
    text = (f"tree {tree}\nauthor t <t@example> {COMMIT_TIME} +0000\ncommitter t <t@example> {COMMIT_TIME} +0000\n"
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nsigned\n")
    (app.parent / "commit.txt").write_text(text)
    commit = git(app, "hash-object", "-t", "commit", "-w", str(app.parent / "commit.txt"))
    git(app, "update-ref", "refs/heads/main", commit)
    return commit


def test_a_hostile_config_runs_nothing_and_the_facts_still_come_out(repo, tmp_path):
    commit = signed_commit(repo)
    git(repo, "gc", "-q")  # the commit now lives in a pack and main in packed-refs
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\n")
    script.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "post-index-change", "reference-transaction", "fsmonitor-watchman"):
        (hooks / hook).symlink_to(script)
    evil = (f"[core]\n\tfsmonitor = {script}\n\thooksPath = {hooks}\n\tpager = {script}\n\tsshCommand = {script}\n"
            f"[gpg]\n\tprogram = {script}\n[log]\n\tshowSignature = true\n[diff]\n\texternal = {script}\n"
            f"[credential]\n\thelper = !{script}\n[include]\n\tpath = {tmp_path / 'more.cfg'}\n"
            '[remote "origin"]\n\turl = https://deploy:s3cret-token@git.example/team/app.git?private=1\n')
    (tmp_path / "more.cfg").write_text(f"[core]\n\tfsmonitor = {script}\n[remote \"origin\"]\n\turl = https://included.example/x\n")
    with open(repo / ".git" / "config", "a") as handle:
        handle.write(evil)
    info = git_info(repo / ".")
    assert not marker.exists(), marker.read_text()
    assert info == {"source": "https://git.example/team/app.git", "revision": commit, "time": str(COMMIT_TIME)}
    assert git_info(repo / "sub" / "..") == info


def test_a_subdirectory_and_a_worktree_find_their_checkout(repo, tmp_path):
    (repo / "services" / "api").mkdir(parents=True)
    head = git(repo, "rev-parse", "HEAD")
    assert git_info(repo / "services" / "api")["revision"] == head
    git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    (tmp_path / "wt" / "x").write_text("x")
    git(tmp_path / "wt", "add", "x")
    git(tmp_path / "wt", "commit", "-qm", "two")
    info = git_info(tmp_path / "wt")
    assert info["revision"] == git(tmp_path / "wt", "rev-parse", "HEAD") != head and info["time"] == str(COMMIT_TIME)


def test_a_gitdir_file_pointing_at_another_repository_is_not_followed(repo, tmp_path):
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / ".git").write_text(f"gitdir: {repo / '.git'}\n")
    assert git_info(stranger) == {}
    (stranger / ".git").unlink()
    (stranger / ".git").symlink_to(repo / ".git")
    assert git_info(stranger) == {}


@pytest.mark.parametrize("head", ["garbage\n", "ref: ../../../../../../etc/hostname\n", "ref: refs/heads/missing\n", "ref: HEAD\n", ""])
def test_a_broken_checkout_gives_no_git_info(repo, head):
    (repo / ".git" / "HEAD").write_text(head)
    assert git_info(repo) == {}


def test_a_fifo_in_the_git_dir_is_never_waited_on(repo):
    (repo / ".git" / "HEAD").unlink()
    os.mkfifo(repo / ".git" / "HEAD")
    assert git_info(repo) == {}


def test_without_git_the_revision_still_comes_from_the_files(repo, tmp_path, monkeypatch):
    head = git(repo, "rev-parse", "HEAD")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert git_info(repo) == {"source": "", "revision": head, "time": ""}


@pytest.mark.parametrize("url, public", [
    ("https://user:pass@git.example/app.git", "https://git.example/app.git"),
    ("https://ghp_token@github.com/o/r", "https://github.com/o/r"),
    ("ssh://git@git.example:2222/o/r.git", "ssh://git.example:2222/o/r.git"),
    ("https://git.example/o/r?token=x#frag", "https://git.example/o/r"),
    ("git@github.com:o/r.git", "git@github.com:o/r.git"),
    ("user:pass@host:o/r.git", "host:o/r.git"),
    ("https://git.example/o/r\nx", ""),
    ("", ""),
])
def test_public_url_drops_credentials(url, public):
    assert public_url(url) == public


def test_a_fifo_for_a_config_file_is_not_read(repo):
    (repo / ".git" / "config").unlink()
    os.mkfifo(repo / ".git" / "config")
    started = time.monotonic()
    info = git_info(repo)
    assert time.monotonic() - started < 5  # not git's 10 s timeout, waiting on the FIFO
    assert info["source"] == "" and info["revision"] and info["time"] == str(COMMIT_TIME)
