"""Benchmark (not a test): the full matrix (every scenario, check and family, as `svc-conformance run`
runs it) against the local cluster, timed.

    python benchmarks/suite_matrix.py [--workers N] [--out reports/out/benchmark.json]

Records total wall time (with the Allure HTML build) and the run's own time (`suite_s`, from
conformance.json's started/finished), per-scenario time (sum of its checks, plus deploy), where the time went
(the `phase_s` metrics every process records, summed over workers: pod start, exec round trips, DNS
batches, inspector start and dumps, sleeps between poll attempts, namespace deletion) and the DNS
convergence metrics the suite measured (pods Ready -> consistent answer). Speed goals live here, not in
tests.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from svc_conformance.__main__ import DEFAULT_MIN_WORKERS
from svc_conformance.core import phases

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import suite_runs  # noqa: E402  (tests/e2e: the suite run's own time, as the fault catalogue reads it)


def run_matrix(workers: str | None = None, pytest_args=(), allure: bool = True) -> dict:
    """One `svc-conformance run` of the whole matrix (workers None: its default, max(4, cores))."""
    report_dir = Path(tempfile.mkdtemp(prefix="svcconf-bench-"))
    cmd = [sys.executable, "-m", "svc_conformance", "run", "-q", "--report-dir", str(report_dir), *pytest_args]
    if workers is not None:
        cmd += ["-n", workers, "--dist", "loadscope"]
    if not allure:
        cmd.append("--no-allure-results")
    start = time.monotonic()
    code = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    wall = time.monotonic() - start
    doc = json.loads((report_dir / "conformance.json").read_text())
    per_scenario = defaultdict(float)
    for r in doc["results"]:
        per_scenario[r["scenario"]] += r.get("duration_s") or 0.0
    return {
        "run_id": doc.get("run_id"), "cluster": doc.get("cluster"), "exit_code": code,
        "workers": workers or str(max(DEFAULT_MIN_WORKERS, os.cpu_count() or 1)),
        "wall_s": round(wall, 1), "suite_s": suite_runs.suite_seconds(doc),
        "summary": doc.get("summary"), "verdict": doc.get("verdict"),
        "per_scenario_s": {k: round(v, 1) for k, v in sorted(per_scenario.items(), key=lambda kv: -kv[1])},
        "dns_convergence_s": [m["value"] for m in doc.get("metrics", []) if m["name"] == "dns_convergence_s"],
        "phases": phases.combine(doc.get("metrics", [])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default=None, help="pytest-xdist workers (default: svc-conformance run's)")
    parser.add_argument("--out", default=str(ROOT / "reports/out/benchmark.json"))
    args, pytest_args = parser.parse_known_args()
    result = run_matrix(args.workers, pytest_args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(phase_table(result["phases"], result["wall_s"], int(result["workers"])))
    return result["exit_code"]


def phase_table(found: dict, wall_s: float, workers: int) -> str:
    """Phases (summed over workers) beside the wall time x workers they could have filled."""
    lines = [f"{'phase':<20}{'count':>7}{'seconds':>10}{'share':>8}  (of {wall_s:.0f} s wall x {workers} workers)"]
    for name, entry in found.items():
        share = entry["seconds"] / (wall_s * max(workers, 1)) if wall_s else 0
        lines.append(f"{name:<20}{entry['count']:>7}{entry['seconds']:>10.1f}{share:>8.0%}  {phases.PHASES.get(name, '')}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
