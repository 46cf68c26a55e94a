"""One long-lived shell per client pod: each probe round is a command written to its stdin.

An exec costs the cluster an API server upgrade, a kubelet stream, a containerd exec and a runc
process - about 0.15 s of machine CPU on the project's VM, and a run makes ~100 of them. The session
pays that once per pod. Each command runs in its own `sh -c` with stdin from /dev/null (it cannot
eat the session's later input) and is framed by a marker with a per-command random token; stdout is
exactly the command's, stderr is dropped (as with a one-shot exec). A command that outlives its
timeout, or a stream that breaks, closes the session: the caller gets what arrived, and the next
command opens a new session.
"""

import re
import secrets
import shlex
import time

from kubernetes import client
from kubernetes.stream import stream

from svc_conformance.cluster import kube
from svc_conformance.core import phases

MARK = "__svc_conformance_done__"


class ShellSession:
    def __init__(self, api_client, namespace: str, pod: str, container: str):
        self.api_client, self.namespace, self.pod = api_client, namespace, pod
        self.container = container      # always named: an injected sidecar makes an unnamed exec fail
        self._ws = None
        self.opened = 0         # execs this session made (one, unless a command timed out or the stream broke)

    def run(self, argv: list[str], timeout_s: float) -> str:
        """stdout of argv run in the pod; on timeout or a broken stream, whatever stdout arrived."""
        if self._ws is None or not self._ws.is_open():
            self._open()
        token = secrets.token_hex(8)
        done = re.compile(rf"\n{MARK} {token} (\d+)\n")
        command = " ".join(shlex.quote(a) for a in argv)
        payload = f"{command} </dev/null\nprintf '\\n%s %s %s\\n' {MARK} {token} \"$?\"\n"
        try:
            self._ws.write_stdin(payload)
        except Exception:  # noqa: BLE001 - a stream dropped while idle (server, proxy): one new session
            self.close()
            self._open()
            self._ws.write_stdin(payload)
        out, deadline = "", time.monotonic() + timeout_s
        while True:
            self._ws.update(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            out += self._ws.read_stdout(timeout=0) or ""
            found = done.search(out)
            if found:
                self._ws.read_all()         # drop stderr and the capture buffer: the session lives long
                return out[:found.start()]
            if not self._ws.is_open() or time.monotonic() >= deadline:
                self.close()
                return out

    def _open(self) -> None:
        with phases.phase("exec-session-open"):
            self._ws = stream(client.CoreV1Api(self.api_client).connect_get_namespaced_pod_exec, self.pod,
                              self.namespace, **kube.exec_kwargs(["/bin/sh"], self.container, stdin=True))
        self.opened += 1

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - a broken stream: nothing left to close
                pass
