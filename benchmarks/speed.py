"""Benchmark (not a test): every speed figure of issue 11 from one run, against the goals, before and now.

    python benchmarks/speed.py [--skip e2e,scaling] [--out reports/out/speed.json]

On the local cluster (`python -m localcluster up`; IP family and proxy mode from LOCALCLUSTER_* as
usual), one after another:

1. matrix   the healthy full matrix as users run it (`svc-conformance run`, its default workers), with
            the phase breakdown (benchmarks/suite_matrix.py). Goal: <= 60 s.
2. faults   a healthy run and the two dead-shared-dependency faults (cluster DNS scaled to 0, kube-proxy
            stopped) with the fault catalogue's settings (2 workers, --timeout-scale 0.6), each run by
            tests/e2e/test_fault_catalogue.py, so its exact outcome map is checked too. Goal: each fault
            run <= 2 x the healthy run (the suites' own times).
3. e2e      upstream e2e's overlapping [Conformance] specs, then the suite, on the same cluster
            (benchmarks/upstream_e2e.py). Goal: suite <= 1/3 of e2e.
4. scaling  the matrix with k = 1, 2, 4 copies of every scenario on 1 and 3 nodes, 2 x k workers
            (benchmarks/scaling.py); re-creates the cluster per node count and leaves it with 1 node.
            Goal: clearly sublinear in k.

Takes ~25 min with everything (the first e2e build adds ~10 min). The "before" column is what issue
11 measured when it was filed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

import scaling  # noqa: E402
import suite_runs  # noqa: E402  (tests/e2e: the fault catalogue's way of running the suite)
import suite_matrix  # noqa: E402
import upstream_e2e  # noqa: E402
from localcluster import paths  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("matrix", "faults", "e2e", "scaling")
DEAD_DEPENDENCIES = ("cluster-dns-down", "kube-proxy-stopped")
FAULT_TIMEOUT_SCALE = "0.6"     # tests/e2e/test_fault_catalogue.py's; suite_runs.run_suite has its workers
BEFORE = {      # issue 11 as filed (2 cores, 1 node, iptables/ipv4)
    "matrix": "94-97 s (-n 2), 154 s serial",
    "cluster-dns-down": "758 s (8 x healthy)",
    "kube-proxy-stopped": "-",
    "e2e": "e2e 141 s for 7 specs",
    "scaling": "-",
}


def healthy_at_fault_settings(kubeconfig: str) -> float | None:
    """The suite's own time on the healthy cluster, run exactly as the fault catalogue runs it."""
    report_dir = Path(tempfile.mkdtemp(prefix="svcconf-speed-"))
    _, doc, _ = suite_runs.run_suite(Path(kubeconfig), report_dir, "--timeout-scale", FAULT_TIMEOUT_SCALE)
    return suite_runs.suite_seconds(doc)


def dead_dependencies(kubeconfig: str) -> dict:
    """The healthy run, then each fault through the fault catalogue test (exact outcome map checked)."""
    found = {"healthy_suite_s": healthy_at_fault_settings(kubeconfig)}
    for fault in DEAD_DEPENDENCIES:
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/e2e/test_fault_catalogue.py", "-q",
                               "-p", "no:cacheprovider", "--faults", fault], cwd=ROOT, stdout=subprocess.DEVNULL)
        result_file = ROOT / "reports" / "out" / "faults" / f"{fault}.json"
        doc = json.loads(result_file.read_text()) if result_file.exists() else {}
        found[fault] = {"suite_s": doc.get("suite_s"), "wall_s": doc.get("wall_s"),
                        "outcome_map_as_expected": proc.returncode == 0}
    return found


def summary(figures: dict) -> list[tuple[str, str, str, str, str]]:
    """(figure, goal, before, now, met) rows."""
    rows = []
    if "matrix" in figures:
        m = figures["matrix"]
        rows.append(("healthy full matrix (svc-conformance run)", "<= 60 s", BEFORE["matrix"],
                     f"{m['suite_s']:.0f} s suite, {m['wall_s']:.0f} s with reports, -n {m['workers']}, "
                     f"{m['summary']['total']} items, {m['verdict']}", _met(m["suite_s"] <= 60)))
    if "faults" in figures:
        f = figures["faults"]
        healthy = f["healthy_suite_s"]
        for fault in DEAD_DEPENDENCIES:
            run = f[fault]
            ratio = run["suite_s"] / healthy if run["suite_s"] and healthy else None
            now = (f"{run['suite_s']:.0f} s vs {healthy:.0f} s healthy = {ratio:.2f} x; outcome map "
                   f"{'exact' if run['outcome_map_as_expected'] else 'DIFFERS'}") if ratio else "not measured"
            rows.append((f"fault {fault} (suite time)", "<= 2 x healthy", BEFORE[fault], now,
                         _met(ratio is not None and ratio <= 2 and run["outcome_map_as_expected"])))
    if "e2e" in figures:
        e = figures["e2e"]
        agree = [r["agree"] for r in e["specs"]]
        now = (f"suite {e['suite_wall_s']:.0f} s / e2e {e['e2e_wall_s']:.0f} s ({e['e2e_specs_run']} specs) = "
               f"{e['ratio_suite_to_e2e']}; verdicts: {agree.count(True)} agree, {agree.count(False)} disagree, "
               f"{agree.count(None)} not judged")
        ratio = e["ratio_suite_to_e2e"]
        rows.append(("beside upstream e2e", "suite <= 1/3 of e2e", BEFORE["e2e"], now,
                     _met(ratio is not None and ratio <= 1 / 3 and False not in agree)))
    if "scaling" in figures:
        for nodes in sorted({r["nodes"] for r in figures["scaling"]}):
            mine = {r["copies"]: r for r in figures["scaling"] if r["nodes"] == nodes}
            base = mine.get(1)
            parts = [f"k={k}: {r['wall_s']:.0f} s ({r['wall_s'] / base['wall_s']:.2f} x), "
                     f"suite {r['suite_peak_mib']} MiB, cluster {r['cluster_peak_mib']} MiB"
                     for k, r in sorted(mine.items()) if base]
            sublinear = base and all(r["wall_s"] / base["wall_s"] < 0.8 * k for k, r in mine.items() if k > 1)
            rows.append((f"k copies, {nodes} node(s), 2k workers", "sublinear in k", BEFORE["scaling"],
                         "; ".join(parts), _met(bool(sublinear))))
    return rows


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip", default="", help=f"comma-separated steps to leave out: {', '.join(STEPS)}")
    parser.add_argument("--out", default=str(ROOT / "reports/out/speed.json"))
    args = parser.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(STEPS):
        parser.error(f"--skip: unknown step(s) {sorted(skip - set(STEPS))}; steps are {', '.join(STEPS)}")
    kubeconfig = os.environ.get("KUBECONFIG") or str(paths.ADMIN_KUBECONFIG)
    os.environ["KUBECONFIG"] = kubeconfig
    figures, started = {}, time.monotonic()
    scaling.ensure_cluster(1)
    for step in (s for s in STEPS if s not in skip):
        print(f"speed: {step} ...", flush=True)
        if step == "matrix":
            figures[step] = suite_matrix.run_matrix()
            print(suite_matrix.phase_table(figures[step]["phases"], figures[step]["wall_s"],
                                           int(figures[step]["workers"])), flush=True)
        elif step == "faults":
            figures[step] = dead_dependencies(kubeconfig)
        elif step == "e2e":
            figures[step] = upstream_e2e.measure(kubeconfig)
            print(upstream_e2e.describe(figures[step]), flush=True)
        elif step == "scaling":
            figures[step] = scaling.measure([1, 2, 4], [1, 3], "2k")
            scaling.ensure_cluster(1)
    figures["summary"] = [dict(zip(("figure", "goal", "before", "now", "met"), row)) for row in summary(figures)]
    figures["took_s"] = round(time.monotonic() - started, 1)
    figures["at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print()
    for row in figures["summary"]:
        print(f"{row['met']:<8} {row['figure']}: {row['now']}\n         goal {row['goal']}; before: {row['before']}")
    print(f"speed: {figures['took_s']:.0f} s in all; figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
