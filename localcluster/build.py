"""Builds the pinned binaries from source through the Go module proxy, cached by version.

The cache key covers the versions and the wrapper modules, so a second `up` on a machine builds nothing.
"""

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from localcluster import paths, versions
from localcluster.errors import EXIT_BUILD, ClusterError


def _tree_hash(h, dirs: tuple[str, ...]) -> None:
    for f in sorted(paths.GOBUILD.rglob("*")):
        if f.is_file() and f.relative_to(paths.GOBUILD).parts[0] in dirs:
            h.update(f.name.encode() + f.read_bytes())


def k8s_wrapper() -> Path:
    """The wrapper module of the selected release (gobuild/kubernetes-<minor>: go.mod and go.sum)."""
    return paths.GOBUILD / f"kubernetes-{versions.RELEASE.minor}"


def coredns_wrapper() -> Path:
    """gobuild/coredns-<minor>: a main.go naming plugins, or none (the module's own main package: every
    plugin of that version's plugin.cfg, as upstream's image)."""
    return paths.GOBUILD / f"coredns-{versions.RELEASE.minor}"


def _key() -> str:
    h = hashlib.sha256()
    _tree_hash(h, (coredns_wrapper().name, k8s_wrapper().name))
    h.update(repr((versions.KUBERNETES, versions.COREDNS)).encode())
    return h.hexdigest()[:12]


def bin_dir() -> Path:
    return paths.CACHE / "bin" / f"{versions.KUBERNETES}-{_key()}"


def _version_ldflags() -> str:
    v = versions.KUBERNETES
    major, minor = v[1:].split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={v}", f"-X {pkg}.gitMajor={major}", f"-X {pkg}.gitMinor={minor}",
                  f"-X {pkg}.gitTreeState=clean", f"-X {pkg}.buildDate=2026-01-01T00:00:00Z"]
    return " ".join(flags)


HEARTBEAT_S = 30      # a long build says how far it got at this interval: a silent 6 minutes looks hung


def _run(cmd: list[str], cwd: Path, log: Path, what: str, say=None, cgo: bool = False) -> str:
    env = dict(os.environ, CGO_ENABLED="1" if cgo else "0", GOFLAGS="-mod=mod")
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        start = log.stat().st_size
        t0 = time.monotonic()
        with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=out, text=True) as proc:
            while True:
                try:
                    stdout, _ = proc.communicate(timeout=HEARTBEAT_S)
                    break
                except subprocess.TimeoutExpired:
                    if say:
                        say(f"  still building {what}: {_progress(log, start)} after {time.monotonic() - t0:.0f}s")
    if proc.returncode != 0:
        raise ClusterError(f"build of {what} failed (exit {proc.returncode})", EXIT_BUILD, str(log))
    return stdout


def _progress(log: Path, start: int) -> str:
    """What `go build -v` wrote since the build started: packages compiled and the latest one."""
    with log.open("rb") as f:
        f.seek(start)
        lines = [line for line in f.read().decode(errors="replace").splitlines()
                 if line and not line.startswith(("go: downloading", "$ "))]
    return f"{len(lines)} packages compiled, latest {lines[-1][:80]}" if lines else "downloading modules"


def _pause_source(log: Path) -> Path:
    mod_dir = _run(["go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes"],
                   k8s_wrapper(), log, "k8s.io/kubernetes module lookup").strip()
    return Path(mod_dir) / "build" / "pause" / "linux" / "pause.c"


@contextlib.contextmanager
def _staged(out: Path, what: str):
    """Build into `<out>.partial` and move it to `out` only when the build finished: an interrupted or
    failed build never leaves a cache entry that looks complete. Yields (staging dir, build log)."""
    if not shutil.which("go"):
        raise ClusterError(f"the Go toolchain is missing (needed to build {what})", EXIT_BUILD)
    paths.CACHE.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    yield tmp, paths.CACHE / "build.log"
    shutil.rmtree(tmp / "src", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _patched_module(module: str, gobuild: Path, patch: str, dest: Path, log: Path) -> Path:
    """A writable copy of the published `module` (path@version) with our patch from `gobuild` applied."""
    found = _run(["go", "mod", "download", "-json", module], gobuild, log, f"{module} download")
    shutil.copytree(json.loads(found)["Dir"], dest)
    for f in dest.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)      # the module cache is read-only
    _run(["patch", "-p1", "--forward", "-i", str(gobuild / patch)], dest, log, f"{module} patch")
    return dest


def ensure_binaries(say=print) -> Path:
    """Return the directory of built binaries, building what is missing."""
    out = bin_dir()
    wanted = list(versions.K8S_COMMANDS) + ["coredns", "pause"]
    if all((out / name).exists() for name in wanted):
        return out
    with _staged(out, "the cluster from source") as (tmp, log):
        _build_release(tmp, log, say)
    return out


def _build_release(tmp: Path, log: Path, say) -> None:
    say(f"building Kubernetes {versions.KUBERNETES} components (first time on this machine; log: {log})")
    _run(["go", "build", "-v", "-trimpath", "-ldflags", _version_ldflags(), "-o", str(tmp) + "/",
          *versions.K8S_COMMANDS.values()], k8s_wrapper(), log, "Kubernetes", say)
    say(f"building CoreDNS {versions.COREDNS}")
    target = "." if (coredns_wrapper() / "main.go").exists() else "github.com/coredns/coredns"
    _run(["go", "build", "-v", "-trimpath", "-ldflags", "-s -w", "-o", str(tmp / "coredns"), target],
         coredns_wrapper(), log, "CoreDNS", say)
    say("building pause")
    gcc = subprocess.run(["gcc", "-Os", "-static", "-o", str(tmp / "pause"), str(_pause_source(log))],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if gcc.returncode != 0:
        log.open("a").write(gcc.stdout)
        raise ClusterError("build of pause failed (gcc)", EXIT_BUILD, str(log))


def netpol_dir() -> Path:
    """kube-network-policies has its own cache entry: only `up --network-policy` needs it."""
    h = hashlib.sha256()
    _tree_hash(h, ("kube-network-policies",))
    return paths.CACHE / "bin" / f"kube-network-policies-{versions.KUBE_NETWORK_POLICIES}-{h.hexdigest()[:12]}"


NETPOL_PATCH = "nfqueue-xt-target.patch"


def _patched_netpol_tree(src: Path, log: Path) -> Path:
    """The published module with our one patch applied, and a copy of the wrapper module pointing at it.

    The patch (gobuild/kube-network-policies/nfqueue-xt-target.patch) swaps nft's native `queue` for the
    xtables NFQUEUE target, the same kernel queue: this machine's kernel lacks CONFIG_NFT_QUEUE.
    """
    gobuild = paths.GOBUILD / "kube-network-policies"
    module = _patched_module(f"sigs.k8s.io/kube-network-policies@{versions.KUBE_NETWORK_POLICIES}", gobuild,
                             NETPOL_PATCH, src / "module", log)
    wrapper = src / "wrapper"
    wrapper.mkdir()
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(gobuild / name, wrapper / name)
    _run(["go", "mod", "edit", "-replace", f"sigs.k8s.io/kube-network-policies={module}"], wrapper, log,
         "kube-network-policies wrapper")
    return wrapper


def ensure_netpol(say=print) -> Path:
    """Return the directory holding `netpol` (the binary upstream's image calls /bin/netpol), building it."""
    out = netpol_dir()
    if (out / "netpol").exists():
        return out
    with _staged(out, "kube-network-policies") as (tmp, log):
        say(f"building kube-network-policies {versions.KUBE_NETWORK_POLICIES} (first time on this machine; log: {log})")
        wrapper = _patched_netpol_tree(tmp / "src", log)
        _run(["go", "build", "-v", "-trimpath", "-ldflags", "-s -w", "-o", str(tmp / "netpol"),
              "sigs.k8s.io/kube-network-policies/cmd"], wrapper, log, "kube-network-policies", say)
    return out


def flannel_dir() -> Path:
    h = hashlib.sha256()
    _tree_hash(h, ("flannel",))
    return paths.CACHE / "bin" / f"flannel-{versions.FLANNEL}-{h.hexdigest()[:12]}"


FLANNEL_PATCH = "no-tencentvpc-backend.patch"


def ensure_flannel(say=print) -> Path:
    """Return the directory holding `flanneld`, built as upstream's Makefile builds it (cgo, version
    ldflags) from the published module with one patch (gobuild/flannel/no-tencentvpc-backend.patch): the
    Tencent Cloud VPC backend's SDK is refused by the Go module proxy, and only the vxlan backend is used."""
    out = flannel_dir()
    if (out / "flanneld").exists():
        return out
    with _staged(out, "flannel") as (tmp, log):
        say(f"building flannel {versions.FLANNEL} (first time on this machine; log: {log})")
        module = _patched_module(f"github.com/flannel-io/flannel@{versions.FLANNEL}", paths.GOBUILD / "flannel",
                                 FLANNEL_PATCH, tmp / "src", log)
        _run(["go", "build", "-v", "-trimpath", "-ldflags",
              f"-s -w -X github.com/flannel-io/flannel/pkg/version.Version={versions.FLANNEL}",
              "-o", str(tmp / "flanneld"), "."], module, log, "flannel", say, cgo=True)
    return out


def suite_agnhost_dir() -> Path:
    """The suite's agnhost (versions.SUITE_AGNHOST_TAG), built from the release that defines it."""
    h = hashlib.sha256()
    _tree_hash(h, (f"coredns-{versions.SUITE_AGNHOST_RELEASE}", f"kubernetes-{versions.SUITE_AGNHOST_RELEASE}"))
    return paths.CACHE / "bin" / f"agnhost-{versions.SUITE_AGNHOST_TAG}-{h.hexdigest()[:12]}"


def ensure_suite_agnhost(say=print) -> Path | None:
    """None when the selected release's own agnhost is the suite's; else the directory holding it."""
    if versions.suite_agnhost_image() is None:
        return None
    out = suite_agnhost_dir()
    if (out / "agnhost").exists() and (out / "coredns").exists():
        return out
    with _staged(out, "the suite's agnhost") as (tmp, log):
        say(f"building the suite's agnhost {versions.SUITE_AGNHOST_TAG} (Kubernetes {versions.SUITE_AGNHOST_RELEASE})")
        _run(["go", "build", "-v", "-trimpath", "-ldflags", "-s -w", "-o", str(tmp / "agnhost"),
              versions.K8S_COMMANDS["agnhost"]], paths.GOBUILD / f"kubernetes-{versions.SUITE_AGNHOST_RELEASE}",
             log, "agnhost", say)
        # The agnhost image carries a /coredns too: the one of the release defining that agnhost.
        _run(["go", "build", "-v", "-trimpath", "-ldflags", "-s -w", "-o", str(tmp / "coredns"), "."],
             paths.GOBUILD / f"coredns-{versions.SUITE_AGNHOST_RELEASE}", log, "CoreDNS (for agnhost)", say)
    return out
