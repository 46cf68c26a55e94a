"""The in-cluster client: DNS questions (`dnswire.ask`), HTTP requests and TCP connects made from inside a pod."""

import shlex
from dataclasses import dataclass, field

from svc_conformance.cluster import kube
from svc_conformance.cluster.shell_session import ShellSession
from svc_conformance.core import phases

DNS_TIMEOUT_S = 1          # nc idle timeout per batch; answers come in milliseconds
HTTP_TIMEOUT_S = 3
CONTAINER = "client"        # manifests/_client.yaml's container, named in every exec (sidecars)
# The client pod's writable emptyDir (manifests/_client.yaml): its root filesystem is read-only, as a
# policy may make it, so the batches' scratch files go here, named by an absolute mktemp template
# (busybox mktemp lets $TMPDIR override -p; a template with a path is used as given).
SCRATCH_DIR = "/probe-scratch"


@dataclass
class Reply:
    target: str
    body: str | None        # what the server said (its name), None when it did not answer
    error: str = ""


@dataclass
class ClientPod:
    cluster: kube.Cluster
    namespace: str
    name: str = "client"
    container: str = CONTAINER
    _session: ShellSession | None = field(default=None, init=False, repr=False, compare=False)

    def run(self, argv: list[str], timeout_s: float = 60.0) -> str:
        """stdout of argv in the pod, through the pod's long-lived shell (one exec for all rounds)."""
        if self._session is None:
            self._session = ShellSession(self.cluster.api, self.namespace, self.name, self.container)
        with phases.phase("exec"):
            return self._session.run(argv, timeout_s)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def resolv_conf(self) -> str:
        return self.run(["cat", "/etc/resolv.conf"])

    def http_get(self, urls: list[str]) -> list[Reply]:
        """GET every URL concurrently (one connection each); the body of netexec /hostname is a name."""
        with phases.phase("http-batch"):
            out = self.run(http_batch_command(urls), timeout_s=HTTP_TIMEOUT_S * 4 + 30)
        replies = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0].isdigit():
                err = parts[2].strip() if len(parts) > 2 else ""
                body = parts[1].strip() or None
                replies[int(parts[0])] = Reply(urls[int(parts[0])], None if "FAILED" in err else body, err)
        return [replies.get(i, Reply(u, None, "no output from the probe")) for i, u in enumerate(urls)]

    def tcp_connect(self, host: str, port: int, timeout_s: int = 5) -> str:
        """'open', 'refused' or 'timeout' (what nc reports), for PROXY-03 style checks."""
        script = (f'NC=/usr/bin/nc; [ -x $NC ] || NC=nc; $NC -z -v -w {timeout_s} {shlex.quote(host)} {port} '
                  '2>&1; echo "rc=$?"')
        with phases.phase("tcp-connect"):
            out = self.run(["/bin/sh", "-c", script], timeout_s=timeout_s + 20).lower()
        if "rc=0" in out:
            return "open"
        if "refused" in out:
            return "refused"
        return "timeout" if "timed out" in out or "timeout" in out else f"other: {out.strip()[:200]}"


def http_batch_command(urls: list[str], scratch_dir: str = SCRATCH_DIR) -> list[str]:
    """argv GETting every URL concurrently; prints "<index>\\t<body>\\t<curl's error>" per URL."""
    script = [f'T=$(mktemp -d {shlex.quote(scratch_dir.rstrip("/") + "/http.XXXXXX")}) || '
              '{ echo "E mktemp -d failed"; exit 97; }']
    for i, url in enumerate(urls):
        # curl is in upstream agnhost (alpine) and in the local cluster's copy of it.
        script.append(f'(curl -sS -g -m {HTTP_TIMEOUT_S} {shlex.quote(url)} >"$T/{i}" 2>"$T/{i}.err" '
                      f'|| echo FAILED >>"$T/{i}.err") &')
    script += ["wait", f"for i in {' '.join(map(str, range(len(urls))))}; do "
               'printf "%s\\t%s\\t%s\\n" "$i" "$(cat "$T/$i")" "$(tr "\\n\\t" "  " <"$T/$i.err")"; done',
               'rm -rf "$T"']
    return ["/bin/sh", "-c", "\n".join(script)]


def url(ip: str, port: int, path: str = "/hostname") -> str:
    return f"http://[{ip}]:{port}{path}" if ":" in ip else f"http://{ip}:{port}{path}"
