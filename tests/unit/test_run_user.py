"""`s2i run` reads the image's own /etc/passwd and /etc/group, never the host's, and never prints them."""

import os

import pytest

from s2i.commands.run import resolve_user
from s2i.errors import UsageError


def rootfs_with(tmp_path, passwd: str | None = None, group: str | None = None):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    if passwd is not None:
        (root / "etc" / "passwd").write_text(passwd)
    if group is not None:
        (root / "etc" / "group").write_text(group)
    return root


def test_names_resolve_from_the_images_files(tmp_path):
    root = rootfs_with(tmp_path, "app:x:1000:1001::/home/app:/bin/sh\n", "staff:x:50:\n")
    assert resolve_user(root, "app") == (1000, 1001)
    assert resolve_user(root, "app:staff") == (1000, 50)
    assert resolve_user(root, "7:8") == (7, 8) and resolve_user(root, "") == (0, 0)


@pytest.mark.parametrize("link", ["{host}", "../../../../../../..{host}", "/etc/../../..{host}"])
def test_a_passwd_symlink_never_reads_the_host_file(tmp_path, link):
    host = tmp_path / "host-passwd"
    host.write_text("hostonly:x:4242:4242::/:/bin/sh\n")
    root = rootfs_with(tmp_path)
    os.symlink(link.format(host=host), root / "etc" / "passwd")
    with pytest.raises(UsageError) as caught:
        resolve_user(root, "hostonly")
    assert caught.value.message == "the image has no user 'hostonly' in /etc/passwd"


def test_a_link_inside_the_image_is_followed_inside_it(tmp_path):
    root = rootfs_with(tmp_path)
    (root / "usr" / "share").mkdir(parents=True)
    (root / "usr" / "share" / "passwd").write_text("app:x:1000:1000::/:/bin/sh\n")
    os.symlink("/usr/share/passwd", root / "etc" / "passwd")
    assert resolve_user(root, "app") == (1000, 1000)


def test_garbage_in_passwd_is_one_line_without_its_contents(tmp_path):
    root = rootfs_with(tmp_path, "app:x:SECRET-TOKEN:also-secret\n", "grp:x:TOPSECRET:\n")
    for user in ("app", "0:grp"):
        with pytest.raises(UsageError) as caught:
            resolve_user(root, user)
        assert "SECRET" not in caught.value.one_line()


def test_a_passwd_that_is_a_directory_or_fifo_is_no_user(tmp_path):
    root = rootfs_with(tmp_path)
    os.mkfifo(root / "etc" / "passwd")
    (root / "etc" / "group").mkdir()
    with pytest.raises(UsageError):
        resolve_user(root, "app")
    with pytest.raises(UsageError):
        resolve_user(root, "0:staff")
