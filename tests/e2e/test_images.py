"""The local images carry exactly what localcluster/image_contents.yaml lists, and what they carry works.

Builds the archives (images.ensure_archives, cached) from the binaries of `python -m localcluster build`
(skips when they are not built), reads each layer as a shell would see it (image_rootfs.executables) and
runs scripts inside the image roots (image_rootfs.run_in_image: chroot + namespaces, no container
runtime), e.g. the node inspector's dump script inside the strict kube-proxy image. Needs no cluster.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from svc_conformance.proxyview import inspector, node_identity, proxyrules
from image_rootfs import entry_of, executables, image_config, layer_members, run_in_image
from localcluster import build, images, versions

pytestmark = pytest.mark.e2e

DOC = images.contents()
SPECS = DOC["images"]
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                reason="running inside an image root needs root and unshare(1)")


@pytest.fixture(scope="module")
def archives() -> dict[str, Path]:
    bins = build.bin_dir()
    wanted = list(versions.K8S_COMMANDS) + ["coredns", "pause"]
    missing = [name for name in wanted if not (bins / name).exists()]
    if missing:
        pytest.skip(f"the binaries are not built ({bins} lacks {', '.join(missing)}; "
                    "run `python -m localcluster build`)")
    found = dict(zip(versions.IMAGES, images.ensure_archives(bins)))
    netpol = build.ensure_netpol(say=lambda _: None)       # its own small build (kube-network-policies)
    found.update({name: images.ensure_optional_archive(name, netpol) for name in versions.OPTIONAL_IMAGES})
    return found


def _jessie(archives: dict[str, Path]) -> Path:
    if "jessie-dnsutils" not in archives:
        pytest.skip(f"Kubernetes {versions.RELEASE.minor}'s e2e no longer uses jessie-dnsutils (not in its image manifest)")
    return archives["jessie-dnsutils"]


def _entrypoint(name: str) -> str | None:
    entry = (SPECS[name].get("config") or {}).get("entrypoint")
    return entry[0] if entry else None


@pytest.mark.parametrize("name", sorted({**versions.IMAGES, **versions.OPTIONAL_IMAGES}))
def test_executables_are_exactly_the_listed_ones(archives, name):
    found = executables(archives[name], DOC["path"], _entrypoint(name))
    expected = set(SPECS[name]["executables"])
    assert not expected - found, f"{name}: listed but not in the image: {sorted(expected - found)}"
    assert not found - expected, f"{name}: in the image but not listed: {sorted(found - expected)}"


@pytest.mark.parametrize("name", sorted({**versions.IMAGES, **versions.OPTIONAL_IMAGES}))
def test_executables_outside_path_are_there(archives, name):
    for entry in SPECS[name].get("outside_path") or []:
        path, _ = images.parse_entry(entry)
        assert entry_of(archives[name], path) == entry


@pytest.mark.parametrize("name", sorted({**versions.IMAGES, **versions.OPTIONAL_IMAGES}))
def test_image_config(archives, name):
    config, spec = image_config(archives[name]), SPECS[name].get("config") or {}
    assert config.get("Entrypoint") == spec.get("entrypoint")
    assert config.get("Cmd") == spec.get("cmd")
    assert config.get("User") == spec.get("user")
    assert config.get("Env") == [images.path_env()]


def test_no_busybox_in_the_kube_proxy_image(archives):
    names = {Path(p).name for p in layer_members(archives["kube-proxy"])}
    assert not {"busybox", "bash", "mktemp", "tr", "head"} & names


def test_archives_are_cached_per_contents_key(archives):
    for archive in archives.values():
        assert archive.parent.name == images.contents_key()


# --- running inside the image roots -----------------------------------------------------------------

@NEEDS_ROOT
def test_kube_proxy_tools_run_in_the_image(archives):
    script = r"""
set -e
iptables-save >/dev/null            # through iptables-wrapper, which picks nft or legacy and relinks
iptables --version                  # no readlink here: the relinked command names its backend
ip6tables-legacy-save >/dev/null
nft -j list ruleset >/dev/null
ipset version
for tool in mktemp tr head busybox conntrack; do
  if command -v $tool >/dev/null 2>&1; then echo "unexpected $tool"; exit 3; fi
done
echo ok
"""
    rc, out, err = run_in_image(archives["kube-proxy"], script)
    assert rc == 0, f"exit {rc}\n{out}\n{err}"
    assert out.split()[-1] == "ok"
    assert "(nf_tables)" in out or "(legacy)" in out, out


@NEEDS_ROOT
def test_agnhost_tools_run_in_the_image(archives):
    script = r"""
set -e
bash -c 'echo "bash $BASH_VERSION"'
dig -v 2>&1
ip -V
iperf -v 2>&1 || true
curl --version
nc -h 2>&1 | head -1
printf 'aGVsbG8=' | base64 -d; echo
timeout 5 sleep 0
/agnhost --help >/dev/null
echo ok
"""
    rc, out, err = run_in_image(archives["agnhost"], script)
    assert rc == 0, f"exit {rc}\n{out}\n{err}"
    for expected in ("bash 5.", "DiG 9.", "iproute2", "iperf version 2.", "curl ", "OpenBSD netcat",
                     "hello"):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert out.split()[-1] == "ok"


@NEEDS_ROOT
def test_jessie_dnsutils_runs_upstream_e2e_probe_loops(archives):
    # The shape of test/e2e/network/dns_common.go's probe commands (sh -c, seq, dig, test, getent, echo).
    script = r"""
echo "127.0.0.1 localhost" >/etc/hosts          # kubelet writes the pod's /etc/hosts
for i in `seq 1 2`; do check="$(dig -v 2>&1)" && test -n "$check" && echo "dig ok $i";
  test -n "$(getent hosts localhost)" && echo "getent ok $i"; sleep 0; done
awk 'BEGIN { print "awk ok" }'
hostname >/dev/null && echo hostname ok
"""
    rc, out, err = run_in_image(_jessie(archives), script)
    assert rc == 0, f"exit {rc}\n{out}\n{err}"
    for expected in ("dig ok 1", "dig ok 2", "getent ok 2", "awk ok", "hostname ok"):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    rc, out, err = run_in_image(_jessie(archives), "delv -v; echo rc=$?")
    assert "rc=127" in out, out + err          # newer than jessie's BIND: not carried


@NEEDS_ROOT
def test_agnhost_shell_finds_commands_on_path_only(archives):
    # Alpine's ash has no "prefer applets" standalone mode: a busybox applet without a link on PATH is
    # not a command (Debian's busybox-static would run it anyway, a friendlier shell than upstream's).
    rc, out, err = run_in_image(archives["agnhost"], "rm /usr/bin/wget; wget --help; echo rc=$?")
    assert "rc=127" in out, out + err
    rc, out, err = run_in_image(archives["agnhost"], "ip -V")
    assert rc == 0 and "iproute2" in out, out + err        # /sbin/ip is iproute2, not the applet


@NEEDS_ROOT
@pytest.mark.parametrize("host_network", [False, True], ids=["own-netns", "host-netns"])
def test_inspector_dump_script_in_the_strict_kube_proxy_image(archives, host_network):
    # The node inspector runs DUMP_SCRIPT with the kube-proxy image of the cluster's version: it must
    # need nothing but what distroless-iptables holds. In the host's network namespace it reads this
    # machine's real rules (read-only), as the hostNetwork inspector pod does.
    rc, out, err = run_in_image(archives["kube-proxy"], inspector.DUMP_SCRIPT, host_network=host_network)
    assert rc == 0, f"exit {rc}\n{out[-2000:]}\n{err}"
    assert out.rstrip().endswith("==== end ===="), out[-2000:] + err
    sections = proxyrules.split_inspector_output(out)
    statuses = {k: v for k, v in sections.items() if k.endswith(".status")}
    assert statuses, out
    for name, body in statuses.items():
        assert body.split()[0] == "0", f"{name}: {body}"
    state = inspector.NodeState("this-machine", sections)
    assert state.problems() == [], state.problems()
    # This machine's own addresses, as its Node object would list them.
    own = {ipaddress.ip_interface(word).ip for line in subprocess.run(
        ["ip", "-o", "addr"], capture_output=True, text=True).stdout.splitlines()
        for word in line.split()[3:4]}
    why = node_identity.unproven(state, lambda: {a for a in own if not a.is_loopback and not a.is_link_local})
    if host_network:
        assert why is None, why
    else:
        # An empty network namespace (a sandbox, hostNetwork stripped): complete, yet never "no kube-proxy".
        assert state.mode == "none"            # what read as "a kube-proxy replacement" before
        assert why and "not the node's network namespace" in why, why
    if host_network and shutil.which("iptables-save"):
        host = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        if "KUBE-SERVICES" in host:            # a cluster is up on this machine: same rules seen
            assert "KUBE-SERVICES" in sections.get("iptables-save", "")


def test_upstream_lines_are_in_the_pinned_sources():
    # The Go module cache holds the exact sources of the pinned k8s.io/kubernetes and CoreDNS versions
    # (the build downloads them): the quoted lines must be there, verbatim.
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("go") else ""
    quoted = versions.RELEASES[versions.CONTENTS_RELEASE]        # the release the contents file quotes
    roots = {("kubernetes/kubernetes", quoted.kubernetes): f"k8s.io/kubernetes@{quoted.kubernetes}",
             ("coredns/coredns", quoted.coredns): f"github.com/coredns/coredns@{quoted.coredns}"}
    checked = 0
    for name, spec in SPECS.items():
        for source in spec["upstream"]:
            module = roots.get((source["repo"], source["ref"]))
            path = Path(gomodcache, module or "-", source["path"])
            if not gomodcache or not module or not path.exists():
                continue
            lines = path.read_text().splitlines()
            for line in source["lines"]:
                assert line in lines, f"{name}: {source['repo']}@{source['ref']} {source['path']}: {line!r}"
            checked += 1
    if not checked:
        pytest.skip("the pinned sources are not in the Go module cache (run `python -m localcluster build`)")


def test_coredns_carries_every_plugin_of_its_plugin_cfg():
    """CoreDNS as upstream builds it (issue 18): its own main package, so every plugin its plugin.cfg
    lists (a Corefile tuning such as `autopath` must not crash-loop it). 1.33 keeps a subset (main.go)."""
    coredns = build.bin_dir() / "coredns"
    if not coredns.exists():
        pytest.skip(f"the binaries are not built ({coredns}; run `python -m localcluster build`)")
    if (build.coredns_wrapper() / "main.go").exists():
        pytest.skip(f"Kubernetes {versions.RELEASE.minor}'s local CoreDNS names its plugins (a subset)")
    import json
    found = subprocess.run(["go", "mod", "download", "-json", f"github.com/coredns/coredns@{versions.COREDNS}"],
                           capture_output=True, text=True, timeout=300, cwd="/")
    cfg = Path(json.loads(found.stdout)["Dir"]) / "plugin.cfg"
    listed = {line.split(":")[0] for line in cfg.read_text().splitlines() if ":" in line and not line.startswith("#")}
    built = {line.strip() for line in subprocess.run([str(coredns), "-plugins"], capture_output=True, text=True,
                                                     timeout=30).stdout.splitlines() if line.strip()}
    assert listed and built == listed, f"plugin.cfg only: {sorted(listed - built)}; binary only: {sorted(built - listed)}"
