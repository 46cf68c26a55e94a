"""Daemons of the cluster: started detached, one log file each, tracked by pid files."""

import os
import signal
import subprocess
import time
from pathlib import Path

from localcluster import paths
from localcluster.errors import EXIT_COMPONENT, ClusterError


def pid_file(name: str) -> Path:
    return paths.PIDS / f"{name}.pid"


def pid_of(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive: it only waits for its parent to reap it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def start(name: str, argv: list[str], env: dict | None = None) -> int:
    if pid := pid_of(name):
        return pid
    paths.LOGS.mkdir(parents=True, exist_ok=True)
    paths.PIDS.mkdir(parents=True, exist_ok=True)
    log = paths.log_file(name)
    with log.open("ab") as out:
        out.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, **(env or {})})
    pid_file(name).write_text(str(proc.pid))
    return proc.pid


def ensure_running(name: str) -> None:
    """Raise, naming the log, when a component exited."""
    if pid_of(name) is None:
        raise ClusterError(f"{name} exited during startup", EXIT_COMPONENT, str(paths.log_file(name)))


def stop(name: str, grace_s: float = 10.0) -> None:
    pid = pid_of(name)
    if pid is not None:
        _signal_and_wait(pid, grace_s)
    pid_file(name).unlink(missing_ok=True)


def _signal_and_wait(pid: int, grace_s: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)


def processes_matching(needle: str) -> list[int]:
    """Pids whose command line contains needle (to find shims and strays of this cluster)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def kill_matching(needle: str) -> None:
    for pid in processes_matching(needle):
        _signal_and_wait(pid, 3.0)


POD_CGROUP = "kubepods"   # below a kubelet's cgroup root (cgroupfs driver) every pod container lives


def _in_pod_cgroup(path: str) -> bool:
    # Node 0's pods live in /kubepods/..., a further node's in /<node name>/kubepods/...
    parts = path.split("/")
    return POD_CGROUP in parts[1:3] and len(parts) > parts.index(POD_CGROUP) + 1


def pod_processes() -> list[int]:
    """Pids of pod containers: they outlive a killed containerd and its shims (and hold the pods' netns)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            continue
        if any(_in_pod_cgroup(line.split(":", 2)[2]) for line in cgroups.splitlines() if line.count(":") >= 2):
            found.append(int(entry.name))
    return found


def kill_pod_processes() -> None:
    for pid in pod_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while pod_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
