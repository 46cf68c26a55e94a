"""On demand: the local cluster's release matrix. Each cell brings up one release in one shape, runs its
end-to-end tests, takes the cluster down, and records its figures; docs/RELEASES.md is rewritten from
every recorded cell (docs/releases.json), so running one cell updates one row.

    python tests/e2e/release_matrix.py [--releases 1.35,1.36] [--cells one-node,three-node]

Cells (CELLS below): `one-node` is 1 node iptables/IPv4 with the smoke test, the healthy exact map and the
CI fault catalogue; `three-node` is 3 nodes nftables/dual-stack enforcing NetworkPolicy with the smoke
test, the healthy exact map, CoreDNS naming endpoints after their pods, a ghost Node and a default-deny
in every run namespace; `three-node-kubeadm` the same on the kubeadm shape, plus CoreDNS with autopath
and verified pod records; `three-node-kubeadm-flannel` also over flannel's VXLAN, with a replaced
kube-proxy's stale rules (CI's second pass). Takes 10 to 20 minutes per cell on 2 cores; the local
cluster must be down (a cell that finds it up stops before touching it).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from localcluster import build, versions  # noqa: E402

def _cell(options: dict, files: list[str], selected: list[str]) -> dict:
    """One cell: `up`'s options (True: a flag without value), the same as the e2e fixture's
    LOCALCLUSTER_<OPTION> variables, and the tests it runs (tests/e2e files, -k names)."""
    up = [a for k, v in options.items() for a in ([f"--{k}"] if v is True else [f"--{k}", str(v)])]
    env = {"LOCALCLUSTER_" + k.upper().replace("-", "_"): "1" if v is True else str(v) for k, v in options.items()}
    # The ghost Node is an on-demand condition (CI runs it on its 3-node pass): --on-demand selects it.
    tests = [f"tests/e2e/{f}.py" for f in files] + (["--on-demand"] if "ghost_node" in selected else [])
    return {"up": up, "env": env, "tests": tests + ["-k", " or ".join(selected)]}


HEALTHY = ["test_smoke", "test_healthy_cluster_passes_every_core_check"]
THREE_NODES = {"proxy-mode": "nftables", "ip-family": "dual", "nodes": 3, "network-policy": True}
THREE_NODE_FILES = ["test_smoke", "test_suite_verdicts", "test_healthy_variants", "test_production_conditions",
                    "test_network_policies"]
THREE_NODE_TESTS = HEALTHY + ["endpoint-pod-names", "ghost_node", "default_deny"]
CELLS = {
    "one-node": _cell({"proxy-mode": "iptables", "ip-family": "ipv4", "nodes": 1},
                      ["test_smoke", "test_suite_verdicts", "test_fault_catalogue"], HEALTHY + ["test_fault_gives_exactly"]),
    "three-node": _cell(THREE_NODES, THREE_NODE_FILES, THREE_NODE_TESTS),
    "three-node-kubeadm": _cell({**THREE_NODES, "shape": "kubeadm"}, THREE_NODE_FILES, THREE_NODE_TESTS + ["autopath"]),
    "three-node-kubeadm-flannel": _cell({**THREE_NODES, "shape": "kubeadm", "cni": "flannel"},
                                        THREE_NODE_FILES + ["test_stale_rules"], THREE_NODE_TESTS + ["autopath", "stale"]),
}
RESULTS = ROOT / "docs" / "releases.json"
TABLE = ROOT / "docs" / "RELEASES.md"
SUMMARY = re.compile(r"^=+ (.*\b(?:passed|failed|error|skipped)\b.*) in ([\d.]+)s", re.M)


def _timed(cmd: list[str], env: dict | None = None, log: Path | None = None) -> tuple[int, float, str]:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if log:
        log.write_text(output)
    return proc.returncode, round(time.monotonic() - start, 1), output


def _localcluster(*args: str) -> list[str]:
    return [sys.executable, "-m", "localcluster", *args]


def run_cell(minor: str, cell: str, logs: Path) -> dict:
    spec = CELLS[cell]
    versions.use(minor)
    cached = build.bin_dir().is_dir()
    code, build_s, out = _timed(_localcluster("build", "--kubernetes-version", minor), log=logs / f"{minor}-build.log")
    row = {"release": versions.KUBERNETES, "cell": cell, "date": datetime.date.today().isoformat(),
           "build_s": build_s, "build": "cached" if cached else "cold"}
    if code != 0:
        return {**row, "result": f"build failed (exit {code})"}
    code, row["up_s"], out = _timed(_localcluster("up", "--kubernetes-version", minor, *spec["up"]),
                                    log=logs / f"{minor}-{cell}-up.log")
    if code != 0:
        return {**row, "result": f"up failed (exit {code}): {out.strip().splitlines()[-1:]}"}
    try:
        env = {**spec["env"], "LOCALCLUSTER_KUBERNETES_VERSION": minor}
        code, row["tests_s"], out = _timed([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs",
                                            *spec["tests"]], env=env, log=logs / f"{minor}-{cell}-tests.log")
        summary = SUMMARY.findall(out)
        row["tests"] = summary[-1][0] if summary else "(no pytest summary)"
        row["result"] = "pass" if code == 0 else f"FAIL (exit {code})"
    finally:
        _timed(_localcluster("down"), log=logs / f"{minor}-{cell}-down.log")
    return row


def render(rows: list[dict]) -> str:
    lines = ["# Local cluster: releases", "",
             "Generated by `python tests/e2e/release_matrix.py` (on demand) from `docs/releases.json`: one row per "
             "(release, cell), the last run of each. `one-node`: 1 node iptables/IPv4, smoke + healthy exact map + "
             "the CI fault catalogue. `three-node`: 3 nodes nftables/dual-stack with NetworkPolicy enforced, smoke + "
             "healthy exact map + endpoint-pod-names + ghost Node + default-deny. `three-node-kubeadm`: the same "
             "on the kubeadm shape, + autopath; `three-node-kubeadm-flannel` also over flannel, + stale rules. "
             "Build is `localcluster build` "
             "(cold: nothing cached for that release; 2 cores), up is `localcluster up`.", "",
             "| release | cell | date | build | up | tests | result |", "|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (tuple(map(int, r["release"][1:].split("."))), r["cell"])):
        tests = f"{r['tests']} ({r['tests_s']:.0f} s)" if "tests" in r else "-"
        up = f"{r['up_s']:.0f} s" if "up_s" in r else "-"
        lines.append(f"| {r['release']} | {r['cell']} | {r['date']} | {r['build_s']:.0f} s ({r['build']}) | {up} "
                     f"| {tests} | {r['result']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--releases", default=",".join(sorted(versions.RELEASES)))
    ap.add_argument("--cells", default=",".join(CELLS))
    ap.add_argument("--logs", type=Path, default=ROOT / "reports" / "out" / "release-matrix")
    args = ap.parse_args()
    releases, cells = args.releases.split(","), args.cells.split(",")
    unknown = [m for m in releases if m not in versions.RELEASES] + [c for c in cells if c not in CELLS]
    if unknown:
        print(f"release_matrix: unknown release or cell: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if subprocess.run(_localcluster("status"), cwd=ROOT, capture_output=True).returncode == 0:
        print("release_matrix: the local cluster is up; take it down first (python -m localcluster down)",
              file=sys.stderr)
        return 2
    args.logs.mkdir(parents=True, exist_ok=True)
    rows = {(r["release"], r["cell"]): r for r in json.loads(RESULTS.read_text())} if RESULTS.exists() else {}
    failed = False
    for minor in releases:
        for cell in cells:
            row = run_cell(minor, cell, args.logs)
            print(f"{row['release']} {cell}: {row['result']}  build {row['build_s']} s, up {row.get('up_s', '-')} s, "
                  f"tests {row.get('tests', '-')}", flush=True)
            failed |= row["result"] != "pass"
            rows[(row["release"], cell)] = row
            RESULTS.write_text(json.dumps(sorted(rows.values(), key=lambda r: (r["release"], r["cell"])), indent=1) + "\n")
            TABLE.write_text(render(list(rows.values())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
