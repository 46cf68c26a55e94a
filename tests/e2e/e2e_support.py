"""Helpers of the project's end-to-end tests: the localcluster CLI, polling, exec in a pod, node dumps.

Imported by tests/e2e modules as `e2e_support` (pytest puts this directory on sys.path, as it does for
tests/unit/reports_samples.py).
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL
from urllib3.exceptions import HTTPError
from websocket import WebSocketException

REPO_ROOT = Path(__file__).resolve().parents[2]
FAMILIES = {"ipv4": ["ipv4"], "ipv6": ["ipv6"], "dual": ["ipv4", "ipv6"]}
SERVICE_FAMILY = {"IPv4": "ipv4", "IPv6": "ipv6"}


# --- the localcluster command line -------------------------------------------------------------

def localcluster_cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    """`python -m localcluster <args>` from the repository root, output captured as text."""
    return subprocess.run([sys.executable, "-m", "localcluster", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout_s)


# One lock per machine between e2e sessions and xdist workers: the lifecycle test holds it exclusively
# (it brings clusters up and down), the local_cluster fixture holds it shared (it needs the cluster up).
LOCK_FILE = Path(tempfile.gettempdir()) / "localcluster-e2e.lock"


class LockBusy(Exception):
    pass


@contextmanager
def cluster_lock(*, exclusive: bool, wait_s: float = 0.0):
    """Hold the e2e lock; LockBusy when it cannot be had within wait_s."""
    with LOCK_FILE.open("a") as handle:
        deadline = time.monotonic() + wait_s
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        while True:
            try:
                fcntl.flock(handle, mode)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(f"{LOCK_FILE} is held by another e2e test process") from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tail(proc: subprocess.CompletedProcess, lines: int = 15) -> str:
    text = ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()
    return "\n".join(text[-lines:])


# --- polling ------------------------------------------------------------------------------------

class CommandError(RuntimeError):
    """A host command (iptables-save, nft) failed."""


# Errors a probe may hit on a healthy cluster now and then; anything else is a bug of the test.
TRANSIENT_ERRORS = (ApiException, HTTPError, WebSocketException, OSError, subprocess.SubprocessError,
                    CommandError)


@dataclass
class Polled:
    observed: object
    elapsed_s: float        # from the first attempt until the condition was stable
    attempts: int
    first_ok_at: float      # time.monotonic() of the first success of the final streak


def poll(what: str, probe, *, expected, timeout_s: float, consecutive: int = 1,
         interval_s: float = 0.5) -> Polled:
    """Call probe() -> (ok, observed) until ok holds `consecutive` times in a row, or fail at the deadline.

    The failure message names what was awaited, the expected value and the last observation. An API,
    exec or command error raised by the probe counts as a failed observation; any other exception (a
    bug of the test) ends the wait at once.
    """
    start = time.monotonic()
    deadline = start + timeout_s
    streak = best = attempts = 0
    first_ok_at = start
    observed: object = "(no observation)"
    while True:
        attempts += 1
        asked_at = time.monotonic()
        try:
            ok, observed = probe()
        except TRANSIENT_ERRORS as exc:   # an API or exec hiccup is an observation, not the end
            ok, observed = False, f"{type(exc).__name__}: {exc}"
        if ok and streak == 0:
            first_ok_at = asked_at
        streak = streak + 1 if ok else 0
        best = max(best, streak)
        if streak >= consecutive:
            return Polled(observed, time.monotonic() - start, attempts, first_ok_at)
        if time.monotonic() + interval_s > deadline:
            break
        time.sleep(interval_s)
    raise AssertionError(
        f"{what}: not reached within {timeout_s:.0f}s ({attempts} attempts, needed {consecutive} "
        f"consecutive successes, best streak {best})\n"
        f"  expected: {_show(expected)}\n  observed: {_show(observed)}")


def _show(value) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, sort_keys=True, default=str).replace("\n", "\n  ")
    except (TypeError, ValueError):
        return repr(value)


# --- exec in a pod ------------------------------------------------------------------------------

@dataclass
class ExecResult:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False

    def describe(self) -> str:
        status = "timed out" if self.timed_out else f"exit {self.returncode}"
        return f"{status}; stdout={self.stdout.strip()[:400]!r}; stderr={self.stderr.strip()[:400]!r}"


def pod_exec(api_client, namespace: str, pod: str, argv: list[str], *, container: str | None = None,
             timeout_s: float = 30) -> ExecResult:
    """Run argv in the pod (no tty, no stdin) through the API server; stdout and stderr kept apart."""
    core = client.CoreV1Api(api_client)
    kwargs = {"container": container} if container else {}
    ws = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=argv, stdin=False,
                stdout=True, stderr=True, tty=False, _preload_content=False, **kwargs)
    out, err = [], []
    deadline = time.monotonic() + timeout_s
    try:
        while ws.is_open() and time.monotonic() < deadline:
            ws.update(timeout=1)
            if ws.peek_stdout():
                out.append(ws.read_stdout())
            if ws.peek_stderr():
                err.append(ws.read_stderr())
        timed_out = ws.is_open()
        # Whatever arrived together with the close.
        if ws.peek_stdout():
            out.append(ws.read_stdout())
        if ws.peek_stderr():
            err.append(ws.read_stderr())
        code = None if timed_out else _exit_code(ws.read_channel(ERROR_CHANNEL))
    finally:
        ws.close()
    return ExecResult(code, "".join(out), "".join(err), timed_out)


def _exit_code(status_text: str) -> int | None:
    """Exit code from the exec status (a metav1.Status on the error channel); None when unknown."""
    try:
        status = json.loads(status_text) if status_text.strip() else {}
    except ValueError:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message"))
            except (TypeError, ValueError):
                return None
    return None


# --- the node's kube-proxy state ----------------------------------------------------------------

def _run(*cmd: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise CommandError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[:300]}")
    return proc.stdout


def node_proxy_dumps(proxy_mode: str, families: list[str]) -> dict[str, str]:
    """This host is the node: kube-proxy's rules as text, keyed by family (iptables) or 'nft'."""
    if proxy_mode == "iptables":
        tools = {"ipv4": "iptables-save", "ipv6": "ip6tables-save"}
        return {fam: _run(tools[fam]) for fam in families}
    if proxy_mode == "nftables":
        return {"nft": _run("nft", "-j", "list", "ruleset")}
    raise ValueError(f"unsupported proxy mode {proxy_mode!r}")


# --- Kubernetes objects -------------------------------------------------------------------------

def pod_ready(pod) -> bool:
    if pod.metadata.deletion_timestamp is not None or pod.status.phase != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def pod_ips(pod) -> list[str]:
    return [p.ip for p in pod.status.pod_ips or []] or ([pod.status.pod_ip] if pod.status.pod_ip else [])


def ip_family(ip: str) -> str:
    return "ipv6" if ":" in ip else "ipv4"


@dataclass
class Timings:
    """Measurements shown in the terminal summary of an e2e run."""
    values: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, seconds: float) -> None:
        self.values[name] = round(seconds, 2)

