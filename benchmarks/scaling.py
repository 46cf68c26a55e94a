"""Benchmark (not a test): the suite's cost as the work grows, on the local cluster.

    python benchmarks/scaling.py [--copies 1,2,4] [--nodes 1,3] [--workers 2|2k] [--out reports/out/scaling.json]

For each node count it (re)creates the local cluster with `python -m localcluster up --nodes N`
(proxy mode and IP family from LOCALCLUSTER_* as usual), then runs the full matrix with k copies of
every scenario (SVC_CONFORMANCE_SCENARIO_COPIES=k: each copy in its own namespaces) and records wall
time, items, the verdict, and the peak memory of the suite (its whole process tree: the command, pytest
and its workers) and of the cluster (components, shims, pods), sampled every second. The cluster is left
up with the last node count. `--workers 2k` gives the run 2 x k workers (the work's parallelism grows
with it); a plain number keeps it fixed. Goal (issue 11): wall time clearly sublinear in k.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from localcluster import components, processes, state

ROOT = Path(__file__).resolve().parents[1]
MARK = "SVC_BENCH_TREE"


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _suite_pids(token: str) -> list[int]:
    needle = f"{MARK}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _cluster_pids(nodes: int) -> set[int]:
    pids = {processes.pid_of(name) for name in components.names(nodes)}
    pids |= set(processes.pod_processes()) | set(processes.processes_matching("containerd-shim"))
    return {pid for pid in pids if pid}


class PeakSampler(threading.Thread):
    """Peak RSS (MiB) of the suite's process tree and of the cluster while a run lasts."""

    def __init__(self, token: str, nodes: int):
        super().__init__(daemon=True)
        self.token, self.nodes = token, nodes
        self.suite_mib = self.cluster_mib = 0.0
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(1.0):
            suite = sum(_rss_kib(p) for p in _suite_pids(self.token)) / 1024
            cluster = sum(_rss_kib(p) for p in _cluster_pids(self.nodes)) / 1024
            self.suite_mib, self.cluster_mib = max(self.suite_mib, suite), max(self.cluster_mib, cluster)


def ensure_cluster(nodes: int) -> None:
    doc = state.load()
    if doc is None or doc.get("nodes", 1) != nodes:
        subprocess.run([sys.executable, "-m", "localcluster", "down"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "localcluster", "up", "--nodes", str(nodes)], check=True)


def run_matrix(nodes: int, copies: int, workers: str) -> dict:
    token = secrets.token_hex(4)
    report_dir = Path(tempfile.mkdtemp(prefix="svcconf-scaling-"))
    env = dict(os.environ, SVC_CONFORMANCE_SCENARIO_COPIES=str(copies), **{MARK: token})
    sampler = PeakSampler(token, nodes)
    sampler.start()
    start = time.monotonic()
    code = subprocess.run([sys.executable, "-m", "svc_conformance", "run", "-q", "-n", workers,
                           "--dist", "loadscope", "--report-dir", str(report_dir), "--no-allure-results"],
                          env=env, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    wall = time.monotonic() - start
    sampler.done.set()
    sampler.join()
    doc = json.loads((report_dir / "conformance.json").read_text())
    return {"nodes": nodes, "copies": copies, "workers": int(workers), "exit_code": code, "verdict": doc.get("verdict"),
            "items": doc.get("summary", {}).get("total"), "failed": doc.get("summary", {}).get("failed"),
            "wall_s": round(wall, 1), "suite_peak_mib": round(sampler.suite_mib),
            "cluster_peak_mib": round(sampler.cluster_mib)}


def _workers(spec: str, copies: int) -> str:
    return str(int(spec[:-1]) * copies) if spec.endswith("k") else spec


def table(rows: list[dict]) -> str:
    lines = [f"{'nodes':>5} {'k':>3} {'n':>3} {'items':>6} {'wall s':>8} {'x k=1':>7} {'suite MiB':>10} {'cluster MiB':>12}  verdict"]
    base = {r["nodes"]: r["wall_s"] for r in rows if r["copies"] == 1}
    for r in rows:
        ratio = f"{r['wall_s'] / base[r['nodes']]:.2f}" if base.get(r["nodes"]) else "-"
        lines.append(f"{r['nodes']:>5} {r['copies']:>3} {r['workers']:>3} {r['items']:>6} {r['wall_s']:>8.1f} {ratio:>7} "
                     f"{r['suite_peak_mib']:>10} {r['cluster_peak_mib']:>12}  {r['verdict']} (exit {r['exit_code']})")
    return "\n".join(lines)


def measure(copies: list[int], node_counts: list[int], workers: str = "2") -> list[dict]:
    """The matrix with k copies per node count; a row per (nodes, k), printed as it comes."""
    rows = []
    for nodes in node_counts:
        ensure_cluster(nodes)
        for k in copies:
            rows.append(run_matrix(nodes, k, _workers(workers, k)))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", default="1,2,4")
    parser.add_argument("--nodes", default="1,3")
    parser.add_argument("--workers", default="2")
    parser.add_argument("--out", default=str(ROOT / "reports/out/scaling.json"))
    args = parser.parse_args()
    rows = measure([int(k) for k in args.copies.split(",")], [int(n) for n in args.nodes.split(",")], args.workers)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))
    return 0 if all(r["exit_code"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
