"""Started by s2i as root (python -I chroot_exec.py SPEC): waits for s2i's go, enters the build's root, drops to its user, execs.

Standard library only, and nothing imported from s2i: it runs before the build, between fork and exec.
"""

import ctypes
import json
import os
import sys

PR_SET_NO_NEW_PRIVS = 38


def main() -> None:
    spec = json.loads(sys.argv[1])
    if os.read(spec["block_fd"], 2) != b"go":  # s2i gave up before the limits were in place
        sys.exit(125)
    os.close(spec["block_fd"])
    os.chroot(spec["root"])
    os.chdir(spec["workdir"])
    if spec["uid"] is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])  # from root to an ordinary uid: every capability goes with it
    # setuid programs in the builder (su, passwd) gain nothing, so the build cannot get root back
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        sys.exit(f"s2i: could not set no_new_privs: {os.strerror(ctypes.get_errno())}")
    try:
        os.execvpe(spec["command"][0], spec["command"], os.environ)
    except OSError as exc:
        sys.exit(f"s2i: cannot run {spec['command'][0]}: {exc.strerror}")


if __name__ == "__main__":
    main()
