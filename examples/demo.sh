#!/bin/sh
# Demo: `s2i build` turns examples/c-hello into an image, pushes it to a throwaway local
# registry, and the image is checked with skopeo and run with umoci + runc. No Docker anywhere.
# The first run also builds the default stack from Debian packages (a few minutes, once).
set -eu
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { kill "$registry_pid" 2>/dev/null || true; runc delete -f "s2i-demo-$port" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null; do sleep 0.2; done

# the first build also builds the stack from the committed lock; if Debian has replaced some of
# its package versions since, s2i says which and resolves the stack afresh
echo "+ s2i build examples/c-hello 127.0.0.1:$port/demo/hello:1" >&2
s2i build examples/c-hello "127.0.0.1:$port/demo/hello:1"
skopeo inspect --tls-verify=false "docker://127.0.0.1:$port/demo/hello:1" >&2

skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$port/demo/hello:1" "oci:$work/layout:hello"
umoci unpack --image "$work/layout:hello" "$work/bundle" >/dev/null
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"].pop("rlimits", None)  # runc here cannot raise RLIMIT_NPROC
config["process"]["terminal"] = False
json.dump(config, open(path, "w"))
PY
echo "+ runc run (umoci-unpacked bundle):" >&2
runc run -b "$work/bundle" "s2i-demo-$port"
