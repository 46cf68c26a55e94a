"""The in-cluster client: DNS questions, HTTP requests and TCP connects made from inside a pod."""

import shlex
from dataclasses import dataclass, field

from svc_conformance import dnswire, kube, phases
from svc_conformance.shell_session import ShellSession

DNS_TIMEOUT_S = 1          # nc idle timeout per batch; answers come in milliseconds
HTTP_TIMEOUT_S = 3


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
    _session: ShellSession | None = field(default=None, init=False, repr=False, compare=False)

    def run(self, argv: list[str], timeout_s: float = 60.0) -> str:
        """stdout of argv in the pod, through the pod's long-lived shell (one exec for all rounds)."""
        if self._session is None:
            self._session = ShellSession(self.cluster.api, self.namespace, self.name)
        with phases.phase("exec"):
            return self._session.run(argv, timeout_s)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def ask(self, questions: list[dnswire.Question]) -> list[dnswire.Answer]:
        """Send every question through the pod's configured resolver, all at once."""
        with phases.phase("dns-batch"):
            out = self.run(dnswire.build_batch_command(questions, None, DNS_TIMEOUT_S), timeout_s=30)
        return dnswire.parse_batch_output(out, questions)

    def resolv_conf(self) -> str:
        return self.run(["cat", "/etc/resolv.conf"])

    def http_get(self, urls: list[str]) -> list[Reply]:
        """GET every URL concurrently (one connection each); the body of netexec /hostname is a name."""
        script = ["T=$(mktemp -d)"]
        for i, url in enumerate(urls):
            # curl is in upstream agnhost (alpine) and in the local cluster's copy of it.
            script.append(f"(curl -sS -g -m {HTTP_TIMEOUT_S} {shlex.quote(url)} >$T/{i} 2>$T/{i}.err "
                          f"|| echo FAILED >>$T/{i}.err) &")
        script += ["wait", f"for i in {' '.join(map(str, range(len(urls))))}; do "
                   'printf "%s\\t%s\\t%s\\n" "$i" "$(cat $T/$i)" "$(tr "\\n\\t" "  " <$T/$i.err)"; done',
                   'rm -rf "$T"']
        with phases.phase("http-batch"):
            out = self.run(["/bin/sh", "-c", "\n".join(script)], timeout_s=HTTP_TIMEOUT_S * 4 + 30)
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


def url(ip: str, port: int, path: str = "/hostname") -> str:
    return f"http://[{ip}]:{port}{path}" if ":" in ip else f"http://{ip}:{port}{path}"
