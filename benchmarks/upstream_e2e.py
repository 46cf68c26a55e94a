"""Benchmark (not a test): the suite beside upstream e2e, on the same cluster, in one run.

    python benchmarks/upstream_e2e.py [--out reports/out/upstream-e2e.json] [--suite-args "..."]

1. Builds a network-only `e2e.test` (the e2e framework and `test/e2e/network`, nothing else) from the
   same k8s.io/kubernetes version as the local cluster: the wrapper module `benchmarks/e2e/`; cached in
   ~/.cache/localcluster/e2e/.
2. Runs the [Conformance] DNS, Service and EndpointSlice specs that overlap the catalogue (SPECS below),
   serially as e2e runs them, against $KUBECONFIG (default: the local cluster). A spec whose images are
   on no node (this machine has no registry) is not run, and the table says which image it lacks.
3. Runs the suite's whole matrix (`svc-conformance run`) on the same cluster.
4. Prints both wall times, their ratio, and per spec whether the verdicts agree (e2e passed <=> every
   overlapping check of the suite passed or was not-supported).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from kubernetes import client, config

from localcluster import paths, versions

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "benchmarks" / "e2e"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
JESSIE = "registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7"

# e2e spec (its [Conformance] text) -> the catalogue checks it overlaps, and the images it needs.
SPECS = {
    "DNS should provide DNS for services": (("DNS-03", "DNS-06", "DNS-11", "DNS-15"), (AGNHOST, JESSIE)),
    "DNS should provide DNS for pods for Hostname": (("POD-03",), (AGNHOST, JESSIE)),
    "DNS should provide DNS for pods for Subdomain": (("POD-03", "DNS-13"), (AGNHOST, JESSIE)),
    "DNS should provide DNS for ExternalName services": (("DNS-17",), (AGNHOST, JESSIE)),
    "DNS should resolve DNS of partial qualified names for services": (("POD-06",), (AGNHOST, JESSIE)),
    "EndpointSlice should create and delete Endpoints and EndpointSlices for a Service with a selector specified":
        (("EPS-01",), (AGNHOST,)),
    "EndpointSlice should create Endpoints and EndpointSlices for Pods matching a Service": (("EPS-01",), (AGNHOST,)),
    "EndpointSliceMirroring should mirror a custom Endpoints resource through create update and delete":
        (("EPS-05",), ()),
    "Services should have session affinity work for service with type clusterIP": (("REACH-04",), (AGNHOST,)),
    # kubernetes.default.svc.<zone> A over UDP and TCP from both queriers.
    "DNS should provide DNS for the cluster": (("DNS-03", "POD-06"), (AGNHOST, JESSIE)),
    # Slices follow pods as they come and go (per named target port), and the VIP forwards to them.
    "Services should serve a basic endpoint from pods": (("EPS-01", "REACH-03"), (AGNHOST,)),
    "Services should serve multiport endpoints from pods": (("EPS-01", "REACH-03"), (AGNHOST,)),
    # Affinity on: one backend; switched off: the VIP spreads.
    "Services should be able to switch session affinity for service with type clusterIP": (("REACH-03", "REACH-04"),
                                                                                          (AGNHOST,)),
}


def build(say=print) -> Path:
    out = paths.CACHE / "e2e" / f"e2e-network-{versions.KUBERNETES}.test"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    say(f"building the network e2e binary from k8s.io/kubernetes {versions.KUBERNETES} (first time; minutes)")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod")
    start = time.monotonic()
    subprocess.run(["go", "test", "-c", "-trimpath", "-o", str(out), "."], cwd=MODULE, env=env, check=True)
    say(f"built in {time.monotonic() - start:.0f}s: {out}")
    return out


def images_on_nodes(kubeconfig: str) -> set[str]:
    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    return {name for node in api.list_node().items for image in (node.status.images or []) for name in image.names or []}


def run_e2e(binary: Path, kubeconfig: str, specs: list[str], report_dir: Path) -> tuple[float, dict[str, str]]:
    focus = "|".join(f"{_regex(s)}.*\\[Conformance\\]" for s in specs)
    start = time.monotonic()
    subprocess.run([str(binary), f"--kubeconfig={kubeconfig}", "--provider=skeleton",
                    f"--ginkgo.focus={focus}", "--ginkgo.no-color", f"--ginkgo.junit-report={report_dir / 'junit.xml'}",
                    f"--report-dir={report_dir}"], cwd=report_dir, stdout=(report_dir / "e2e.log").open("w"),
                   stderr=subprocess.STDOUT)
    return time.monotonic() - start, junit_outcomes((report_dir / "junit.xml").read_text(), specs)


def junit_outcomes(junit_xml: str, specs) -> dict[str, str]:
    """spec -> passed | failed | skipped, from ginkgo's JUnit report (its [Conformance] case only: a
    provider-specific variant may share the words, e.g. "DNS should provide DNS for the cluster [Provider:GCE]")."""
    outcomes = {}
    for case in ET.fromstring(junit_xml).iter("testcase"):
        name = case.get("name", "")
        spec = next((s for s in specs if s in name), None) if "[Conformance]" in name else None
        if spec is None:
            continue
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[spec] = "failed" if failed else "skipped" if case.find("skipped") is not None else "passed"
    return outcomes


def compare(e2e_outcomes: dict, lacking: dict, results: list[dict]) -> list[dict]:
    """Per spec: e2e's outcome, the suite's outcomes of the overlapping checks, and whether they agree
    (e2e passed <=> every overlapping check passed or was not-supported; None when e2e did not judge)."""
    by_check: dict[str, set] = {}
    for result in results:
        by_check.setdefault(result["check"], set()).add(result["outcome"])
    rows = []
    for spec, (checks, _) in SPECS.items():
        ours = sorted({o for c in checks for o in by_check.get(c, {"absent"})})
        suite_ok = all(o in ("passed", "not-supported") for o in ours)
        theirs = e2e_outcomes.get(spec, f"not run: {', '.join(lacking[spec])} on no node" if spec in lacking
                                  else "not run: no result in the JUnit report")
        agree = (theirs == "passed") == suite_ok if theirs in ("passed", "failed") else None
        rows.append({"spec": spec, "checks": list(checks), "e2e": theirs, "suite": ours, "agree": agree})
    return rows


def _regex(spec: str) -> str:
    return "".join("\\" + c if c in ".[]()*+?^$|" else c for c in spec)


def run_suite(kubeconfig: str, extra: list[str], report_dir: Path) -> tuple[float, dict, int]:
    start = time.monotonic()
    code = subprocess.run([sys.executable, "-m", "svc_conformance", "run", "-q", "--kubeconfig", kubeconfig,
                           "--report-dir", str(report_dir), "--no-allure-results", *extra],
                          cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    return time.monotonic() - start, json.loads((report_dir / "conformance.json").read_text()), code


def measure(kubeconfig: str, suite_args=()) -> dict:
    """Build (once) and run the overlapping e2e specs, then the suite, on the same cluster."""
    binary = build()
    present = images_on_nodes(kubeconfig)
    runnable = [s for s, (_, images) in SPECS.items() if all(i in present for i in images)]
    lacking = {s: [i for i in images if i not in present] for s, (_, images) in SPECS.items() if s not in runnable}
    work = Path(tempfile.mkdtemp(prefix="svcconf-vs-e2e-"))
    (work / "e2e").mkdir()
    (work / "suite").mkdir()
    e2e_wall, e2e_outcomes = run_e2e(binary, kubeconfig, runnable, work / "e2e") if runnable else (0.0, {})
    suite_wall, doc, code = run_suite(kubeconfig, list(suite_args), work / "suite")
    return {"e2e_wall_s": round(e2e_wall, 1), "e2e_specs_run": len(e2e_outcomes), "suite_wall_s": round(suite_wall, 1),
            "suite_items": doc["summary"]["total"], "suite_verdict": doc["verdict"], "suite_exit": code,
            "ratio_suite_to_e2e": round(suite_wall / e2e_wall, 2) if e2e_wall else None,
            "specs": compare(e2e_outcomes, lacking, doc["results"]), "work_dir": str(work)}


def describe(result: dict) -> str:
    lines = []
    for row in result["specs"]:
        mark = {True: "agree", False: "DISAGREE", None: "-"}[row["agree"]]
        lines.append(f"{mark:<9} e2e {row['e2e']:<40} suite {','.join(row['suite']):<22} {row['spec']} "
                     f"({', '.join(row['checks'])})")
    lines.append(f"upstream e2e: {result['e2e_specs_run']} overlapping [Conformance] specs in {result['e2e_wall_s']:.0f}s "
                 f"(serial); suite: whole matrix, {result['suite_items']} items in {result['suite_wall_s']:.0f}s "
                 f"({result['suite_verdict']}); ratio {result['ratio_suite_to_e2e']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "reports/out/upstream-e2e.json"))
    parser.add_argument("--suite-args", default="", help="extra arguments for svc-conformance run")
    args = parser.parse_args()
    result = measure(os.environ.get("KUBECONFIG") or str(paths.ADMIN_KUBECONFIG), args.suite_args.split())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
