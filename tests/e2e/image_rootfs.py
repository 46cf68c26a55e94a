"""Look inside the local cluster's image archives, and run a script inside one without a container runtime.

Imported by tests/e2e modules as `image_rootfs` (pytest puts this directory on sys.path).

- `executables(archive, path_dirs, entrypoint)`: what a shell in the image finds on PATH (plus the
  entrypoint), as "PATH" (regular file with an exec bit) or "PATH -> TARGET" (a symlink, TARGET as stored,
  that resolves to one), read from the archive's layer, not from the builder's data;
- `run_in_image(archive, script)`: extract the layer to a temporary directory and run `/bin/sh -c script`
  chrooted into it, in new network (unless host_network=True), mount and PID namespaces with /proc, /sys
  and a minimal /dev mounted, and the image's Env; returns (exit status, stdout, stderr). Only what the image holds is
  there, so a script that works here needs nothing the upstream image lacks. Needs root and unshare(1).
"""

from __future__ import annotations

import json
import os
import posixpath
import shlex
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

MAX_SYMLINKS = 40


def _layer(archive: Path) -> tuple[tarfile.TarFile, tarfile.TarFile]:
    outer = tarfile.open(archive)
    manifest = json.load(outer.extractfile("manifest.json"))
    layers = manifest[0]["Layers"]
    assert len(layers) == 1, f"{archive}: expected a single layer, got {layers}"
    return outer, tarfile.open(fileobj=outer.extractfile(layers[0]))


def image_config(archive: Path) -> dict:
    """The "config" part of the image configuration (Entrypoint, Cmd, Env, User, WorkingDir)."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        return json.load(outer.extractfile(manifest[0]["Config"])).get("config") or {}


def layer_members(archive: Path) -> dict[str, tarfile.TarInfo]:
    """The layer's members by absolute path ("/usr/bin/wc")."""
    outer, layer = _layer(archive)
    with outer, layer:
        return {"/" + posixpath.normpath(m.name).lstrip("./"): m for m in layer.getmembers()
                if posixpath.normpath(m.name) not in (".", "")}


def _resolve(members: dict[str, tarfile.TarInfo], path: str) -> str | None:
    """Follow symlinks (also in directory components) inside the layer; None when dangling or looping."""
    parts = [p for p in path.split("/") if p]
    resolved = "/"
    hops = 0
    while parts:
        name = parts.pop(0)
        candidate = posixpath.normpath(posixpath.join(resolved, name))
        member = members.get(candidate)
        if member is None:
            return None
        if member.issym():
            hops += 1
            if hops > MAX_SYMLINKS:
                return None
            target = member.linkname
            base = "/" if target.startswith("/") else resolved
            parts = [p for p in posixpath.join(base, target).split("/") if p] + parts
            resolved = "/"
            continue
        resolved = candidate
    return resolved


def _entry(members: dict[str, tarfile.TarInfo], path: str) -> str | None:
    """"path" or "path -> target" when path (as a shell names it) is an executable file, else None."""
    parent = _resolve(members, posixpath.dirname(path)) or posixpath.dirname(path)
    member = members.get(posixpath.join(parent, posixpath.basename(path)))
    if member is None:
        return None
    final = _resolve(members, path)
    target = members.get(final) if final else None
    if target is None or not target.isreg() or not target.mode & 0o111:
        return None
    return f"{path} -> {member.linkname}" if member.issym() else path


def executables(archive: Path, path_dirs: list[str], entrypoint: str | None = None) -> set[str]:
    """Executables a shell would find on PATH (each directory's direct entries) plus the entrypoint."""
    members = layer_members(archive)
    found = set()
    for directory in path_dirs:
        real = _resolve(members, directory)
        if real is None or (real != "/" and not members[real].isdir()):
            continue
        prefix = real.rstrip("/") + "/"
        for name in members:
            if name.startswith(prefix) and "/" not in name[len(prefix):]:
                entry = _entry(members, posixpath.join(directory, name[len(prefix):]))
                if entry:
                    found.add(entry)
    if entrypoint:
        entry = _entry(members, entrypoint)
        if entry:
            found.add(entry)
    return found


def entry_of(archive: Path, path: str) -> str | None:
    """"path" / "path -> target" for one executable of the image, None when it is not one."""
    return _entry(layer_members(archive), path)


def extract(archive: Path, dest: Path) -> Path:
    outer, layer = _layer(archive)
    with outer, layer:
        layer.extractall(dest, numeric_owner=True, filter="fully_trusted")   # our own build
    return dest


_RUNNER = r"""
root=$1; script=$2
mount -t proc proc "$root/proc" &&
mount -t sysfs -o ro sysfs "$root/sys" &&
mount -t tmpfs -o mode=0755,size=64k tmpfs "$root/dev" &&
for d in null zero full random urandom tty; do : >"$root/dev/$d" && mount --bind "/dev/$d" "$root/dev/$d" || exit 125; done &&
ln -s /proc/self/fd "$root/dev/fd" &&
exec env -i {env} chroot "$root" /bin/sh -c "$script"
"""


def run_in_image(archive: Path, script: str, timeout_s: float = 120, host_network: bool = False
                 ) -> tuple[int, str, str]:
    """Run `/bin/sh -c script` inside the image's root file system; (exit status, stdout, stderr).

    host_network=True keeps the host's network namespace (like a hostNetwork pod, e.g. the node
    inspector): the script then sees the node's real rules. Only use it with scripts that read."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise RuntimeError("run_in_image needs root and unshare(1)")
    env = dict(e.split("=", 1) for e in image_config(archive).get("Env") or [])
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env["HOME"] = "/root"
    with tempfile.TemporaryDirectory(prefix="image-rootfs-", ignore_cleanup_errors=True) as tmp:
        root = extract(archive, Path(tmp) / "rootfs")
        for d in ("proc", "sys", "dev"):
            (root / d).mkdir(exist_ok=True)
        # The runner is the host's sh (mount, env and chroot are the host's); the script runs in the
        # image with the image's Env only.
        runner = _RUNNER.format(env=" ".join(shlex.quote(f"{k}={v}") for k, v in env.items()))
        cmd = ["unshare", *([] if host_network else ["--net"]), "--mount", "--pid", "--fork", "--kill-child",
               "--propagation", "private", "/bin/sh", "-c", runner, "runner", str(root), script]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})
        return proc.returncode, proc.stdout, proc.stderr
