"""Benchmark (not a test): the full core matrix against the local cluster, timed.

    python benchmarks/suite_matrix.py [--workers 2] [--out reports/out/benchmark.json]

Records total wall time, per-scenario time (sum of its checks, plus deploy) and the DNS convergence
metrics the suite measured (endpoint change -> DNS answer change). Speed goals live here, not in tests.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--out", default=str(ROOT / "reports/out/benchmark.json"))
    args, pytest_args = parser.parse_known_args()
    report_dir = Path(tempfile.mkdtemp(prefix="svcconf-bench-"))
    start = time.monotonic()
    code = subprocess.run([sys.executable, "-m", "svc_conformance", "run", "-m", "core", "-q", "-n", args.workers,
                           "--dist", "loadscope", "--report-dir", str(report_dir), *pytest_args], cwd=ROOT).returncode
    wall = time.monotonic() - start
    doc = json.loads((report_dir / "conformance.json").read_text())
    per_scenario = defaultdict(float)
    for r in doc["results"]:
        per_scenario[r["scenario"]] += r.get("duration_s") or 0.0
    result = {
        "run_id": doc.get("run_id"), "cluster": doc.get("cluster"), "exit_code": code,
        "wall_s": round(wall, 1), "summary": doc.get("summary"),
        "per_scenario_s": {k: round(v, 1) for k, v in sorted(per_scenario.items(), key=lambda kv: -kv[1])},
        "dns_convergence_s": [m["value"] for m in doc.get("metrics", []) if m["name"] == "dns_convergence_s"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
