"""Pods mutated by policy (issue 17, item 8): every exec names its container (a sidecar a mesh injects
makes an unnamed exec fail), and the probes write only under the client's writable emptyDir (a
readOnlyRootFilesystem mutation must not break them)."""

import os
import re
import shutil
import subprocess

import pytest

from svc_conformance.cluster import kube, manifests, probe, shell_session
from svc_conformance.dnsview import dnswire
from svc_conformance.dnsview.dnswire import Question
from svc_conformance.proxyview import inspector


class FakeStream:
    """Records the exec call; answers like a finished command."""
    calls: list = []

    def __init__(self, func, pod, namespace, **kwargs):
        FakeStream.calls.append((pod, namespace, kwargs))
        self.returncode = 0
        self._open = True

    def run_forever(self, timeout):
        pass

    def peek_stdout(self):
        return False

    peek_stderr = peek_stdout

    def is_open(self):
        return self._open

    def write_stdin(self, data):
        token = re.search(r"__svc_conformance_done__ (\w+)", data).group(1)
        self._out = f"hello\n{shell_session.MARK} {token} 0\n"

    def update(self, timeout):
        pass

    def read_stdout(self, timeout=None):
        out, self._out = getattr(self, "_out", ""), ""
        return out

    def read_all(self):
        return ""

    def close(self):
        self._open = False


@pytest.fixture
def fake_stream(monkeypatch):
    FakeStream.calls = []
    monkeypatch.setattr(kube, "stream", FakeStream)
    monkeypatch.setattr(shell_session, "stream", FakeStream)
    return FakeStream.calls


def test_exec_kwargs_always_name_the_container():
    kwargs = kube.exec_kwargs(["/bin/sh"], "client", stdin=True)
    assert kwargs["container"] == "client" and kwargs["command"] == ["/bin/sh"] and kwargs["stdin"] is True
    with pytest.raises(ValueError):
        kube.exec_kwargs(["true"], "")


def test_exec_with_status_passes_the_container(fake_stream):
    result = kube.exec_with_status(kube.Cluster(None, "", None), "ns", "pod", ["true"], 5, container="inspector")
    assert result.returncode == 0
    assert fake_stream == [("pod", "ns", {**kube.exec_kwargs(["true"], "inspector")})]


def test_exec_with_status_cannot_be_called_without_a_container():
    with pytest.raises(TypeError):
        kube.exec_with_status(kube.Cluster(None, "", None), "ns", "pod", ["true"], 5)


def test_the_client_shell_session_names_the_client_container(fake_stream):
    pod = probe.ClientPod(kube.Cluster(None, "", None), "ns")
    assert pod.run(["echo", "hello"], timeout_s=5) == "hello"
    ((name, ns, kwargs),) = fake_stream
    assert (name, ns, kwargs["container"]) == ("client", "ns", probe.CONTAINER) and kwargs["stdin"] is True


def test_the_inspector_dump_names_the_inspector_container(monkeypatch):
    seen = {}

    def fake_exec(cluster, namespace, pod, argv, timeout_s=30.0, *, container):
        seen["container"] = container
        return kube.ExecResult(0, open(os.path.join(os.path.dirname(__file__), "data",
                                                    "inspector_output_iptables_v4.txt")).read(), "")
    monkeypatch.setattr(kube, "exec_with_status", fake_exec)
    inspector.Inspector(None, "ns", {"node-a": "inspector-x"}).dump()
    assert seen["container"] == inspector.CONTAINER == "inspector"
    spec = inspector.daemonset("node-inspector", "img")["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == [inspector.CONTAINER]


def test_client_pod_has_a_read_only_root_and_a_scratch_dir():
    (client,) = manifests.load("_client", {"AGNHOST": "agnhost:2.53"}, "r")
    container = next(c for c in client["spec"]["containers"] if c["name"] == probe.CONTAINER)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == probe.SCRATCH_DIR]
    (volume,) = [v for v in client["spec"]["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume


# -- writes only under the scratch dir -------------------------------------------------------------

# A redirection's target: `>x`, `>>x`, `2>x`, `> "x"`; `>&3`, `2>&1` and `3>&-` are no writes.
REDIRECT = re.compile(r"(?<![<&])\d?>>?\s*(?!&)(\"[^\"]*\"|'[^']*'|[^\s;&|)]+)")


def writes(script: str) -> list[str]:
    return [m.group(1).strip("\"'") for m in REDIRECT.finditer(script)]


def probe_scripts() -> dict[str, str]:
    qs = [Question("web.ns.svc.cluster.local", "A"), Question("web.ns.svc.cluster.local", "A", tcp=True)]
    dns = dnswire.build_batch_command(qs, None, probe.DNS_TIMEOUT_S, scratch_dir=probe.SCRATCH_DIR)
    http = probe.http_batch_command(["http://10.0.0.1:80/hostname", "http://[fd00::1]:80/hostname"])
    return {"dns": dns[2], "http": http[2]}


@pytest.mark.parametrize("name", ["dns", "http"])
def test_every_probe_script_writes_only_under_the_scratch_dir(name):
    script = probe_scripts()[name]
    (mktemp,) = re.findall(r"\$\((mktemp[^)]*)\)", script)
    # An absolute template: busybox mktemp would let $TMPDIR override -p.
    assert mktemp == f"mktemp -d {probe.SCRATCH_DIR}/{name}.XXXXXX"
    targets = writes(script)
    assert targets, "the parser found no writes at all"
    assert all(t == "/dev/null" or t.startswith("$T/") for t in targets), targets
    assert re.findall(r"rm -rf (\S+)", script) == ['"$T"']


def test_the_probe_uses_the_scratch_dir(monkeypatch):
    commands = []
    pod = probe.ClientPod(kube.Cluster(None, "", None), "ns")
    monkeypatch.setattr(pod, "run", lambda argv, timeout_s=60.0: commands.append(argv) or "")
    dnswire.ask(pod, [Question("a.b", "A")])
    pod.http_get(["http://10.0.0.1:80/hostname"])
    assert all(f"mktemp -d {probe.SCRATCH_DIR}/" in argv[2] for argv in commands) and len(commands) == 2


def test_without_a_scratch_dir_the_dns_batch_keeps_mktemps_default():
    script = dnswire.build_batch_command([Question("a.b", "A")], "10.0.0.1")[2]
    assert "T=$(mktemp -d) ||" in script


@pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox not installed")
def test_http_batch_under_busybox_with_a_misleading_tmpdir(tmp_path):
    # alpine's busybox sh and applets; curl faked (the server's answer is the URL's host).
    bindir, scratch = tmp_path / "bin", tmp_path / "scratch"
    bindir.mkdir()
    scratch.mkdir()
    for applet in ("sh", "mktemp", "cat", "tr", "rm", "printf", "echo"):
        os.symlink(shutil.which("busybox"), bindir / applet)
    (bindir / "curl").write_text('#!/bin/sh\nfor a; do u=$a; done\ncase $u in *fail*) echo "refused" >&2; '
                                 'exit 7;; esac\nu=${u#http://}; printf %s "${u%%:*}"\n')
    (bindir / "curl").chmod(0o755)
    argv = probe.http_batch_command(["http://pod-a:80/hostname", "http://fail:80/hostname"], str(scratch))
    proc = subprocess.run([str(bindir / "sh"), "-c", argv[2]], capture_output=True, text=True, timeout=30,
                          env={"PATH": str(bindir), "TMPDIR": str(tmp_path / "missing")})
    assert proc.returncode == 0, proc.stderr
    lines = [line.split("\t") for line in proc.stdout.splitlines()]
    assert lines[0][:2] == ["0", "pod-a"] and lines[1][0] == "1" and "FAILED" in lines[1][2]
    assert list(scratch.iterdir()) == []         # cleaned up


def test_the_write_parser_sees_writes_elsewhere():
    assert writes('a >/etc/x; b 2>"/tmp/y"; c >&3 2>&1 3>&-; d >> z') == ["/etc/x", "/tmp/y", "z"]
