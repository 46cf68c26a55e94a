"""`svc-conformance run|cleanup|images|report` (also `python -m svc_conformance ...`).

run      run the suite (pytest on the installed suite, reports into ./reports/out); with no kubeconfig
         anywhere, against the project's local cluster as it is (brought up first if it is not; exit 16
         naming what is unhealthy when it is up but unhealthy)
cleanup  delete what an interrupted run left (namespaces labelled by the suite) and verify it is gone
images   list every image the suite uses (for mirroring into a private registry)
report   rebuild or check reports: allure (offline Allure HTML), summary (summary.html), validate

Relative paths (--report-dir, --previous-results, ...) are the current directory's.
"""

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import svc_conformance
from svc_conformance.cluster import kubeconfig, local_cluster, manifests

SUITE_DIR = Path(svc_conformance.__file__).resolve().parent     # conformance/ of a checkout, or the installed package
# pytest's configuration for the suite, given with -c: no ini file or conftest.py above the suite applies.
SUITE_INI = SUITE_DIR / "suite.ini"
DEFAULT_MIN_WORKERS = 4
LOCAL_CLUSTER_EXTRA = "pip install 'svc-conformance[localcluster]'"


def _has_kubeconfig(pytest_args: list[str]) -> bool:
    if any(a.startswith("--kubeconfig") for a in pytest_args):
        return True
    try:
        return kubeconfig.resolve_kubeconfig(None) != str(kubeconfig.LOCAL_CLUSTER_KUBECONFIG)
    except kubeconfig.SetupError:
        return False


def _missing_local_cluster_modules() -> list[str]:
    return [name for name in ("localcluster", "cryptography") if importlib.util.find_spec(name) is None]


def run(pytest_args: list[str]) -> int:
    if not _has_kubeconfig(pytest_args):
        print("svc-conformance: no kubeconfig: using the project's local cluster", flush=True)
        missing = _missing_local_cluster_modules()
        if missing:
            print(f"svc-conformance: the local cluster needs the localcluster extra ({LOCAL_CLUSTER_EXTRA}); "
                  f"missing: {', '.join(missing)}", file=sys.stderr)
            return kubeconfig.EXIT_KUBECONFIG
        decision = local_cluster.inspect()
        if decision.action == "unhealthy":
            print(f"svc-conformance: {decision.message}", file=sys.stderr)
            return kubeconfig.EXIT_LOCAL_CLUSTER
        if decision.action == "up":
            print(f"svc-conformance: {decision.message}", flush=True)
            # The same interpreter, from the user's directory: localcluster is an installed package.
            up = subprocess.run([sys.executable, "-m", "localcluster", "up", *decision.up_args])
            if up.returncode != 0:
                return up.returncode
        pytest_args = ["--kubeconfig", str(kubeconfig.LOCAL_CLUSTER_KUBECONFIG), *pytest_args]
    if not any(re.fullmatch(r"-n(\d+|=.*)?|--numprocesses(=.*)?|--dist(=.*)?", a) for a in pytest_args):
        # Parallel by default; loadscope keeps each scenario (a test class) on one worker. `-n 0` opts out.
        # Workers mostly wait on the cluster (pods starting, DNS and rules converging): at least 4 even
        # with fewer cores (2-core machine, full matrix: 73 s with 2 workers, 63 s with 4, 64 s with 6).
        pytest_args = ["-n", str(max(DEFAULT_MIN_WORKERS, os.cpu_count() or 1)), "--dist", "loadscope", *pytest_args]
    report_dir = "reports/out"
    if not any(a.startswith("--report-dir") for a in pytest_args):
        pytest_args = ["--report-dir", report_dir, *pytest_args]
    else:
        i = next(i for i, a in enumerate(pytest_args) if a.startswith("--report-dir"))
        report_dir = pytest_args[i].split("=", 1)[1] if "=" in pytest_args[i] else pytest_args[i + 1]
    # The suite's own directory, run from the user's: rootdir is the suite's parent (test ids
    # `<suite>/test_conformance.py::...`), no cache is written next to the installed package.
    code = subprocess.run([sys.executable, "-m", "pytest", str(SUITE_DIR), "-c", str(SUITE_INI),
                           "--rootdir", str(SUITE_DIR.parent), "-p", "no:cacheprovider", *pytest_args]).returncode
    results = Path(report_dir, "allure-results")
    # Only a run that reached a verdict (0 conformant, 1 non-conformant, 8 incomplete) has results to render.
    if code in (0, 1, 8) and results.is_dir() and any(results.iterdir()):
        subprocess.run([sys.executable, "-m", "svc_conformance.reports", "allure", "--results",
                        str(results), "--out", report_dir, *_previous_history(pytest_args)])
    return code


def _previous_history(pytest_args: list[str]) -> list[str]:
    """With --previous-results old/conformance.json, old/allure-history.jsonl continues the Allure history."""
    for i, arg in enumerate(pytest_args):
        if arg.startswith("--previous-results"):
            value = arg.split("=", 1)[1] if "=" in arg else (pytest_args[i + 1] if i + 1 < len(pytest_args) else "")
            history = Path(value).with_name("allure-history.jsonl")
            return ["--history", str(history)] if value and history.is_file() else []
    return []


def cleanup(args) -> int:
    from svc_conformance.cluster import kube        # the Kubernetes client: 0.6 s or more to import, only where needed
    from svc_conformance.fixtures.namespaces import delete_and_verify
    try:
        cluster = kube.connect(args.kubeconfig, args.context)
    except kube.SetupError as err:
        print(f"svc-conformance: {err}", file=sys.stderr)
        return err.exit_code
    selector = f"{manifests.LABEL_MANAGED}={manifests.MANAGED_BY}"
    if args.run_id:
        selector += f",{manifests.LABEL_RUN}={args.run_id}"
    left = delete_and_verify(cluster, selector)
    if left:
        print(f"svc-conformance: still present: {left}", file=sys.stderr)
        return 1
    print(f"svc-conformance: nothing of the suite ({selector}) remains")
    return 0


def images(args) -> int:
    for role, ref in sorted(manifests.images(args.image_registry, {}, args.server_version).items()):
        print(f"{role.lower()}\t{ref}")
    return 0


def report(argv: list[str]) -> int:
    from svc_conformance.reports.__main__ import main as reports_main

    return reports_main(argv, prog="svc-conformance report")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        return run(argv[1:])
    if argv[:1] == ["report"]:
        return report(argv[1:])
    parser = argparse.ArgumentParser(prog="svc-conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"svc-conformance {svc_conformance.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the suite; extra arguments go to pytest")
    sub.add_parser("report", help="rebuild or check reports (allure, summary, validate); see `report --help`")
    c = sub.add_parser("cleanup", help="remove what an interrupted run left")
    c.add_argument("--kubeconfig"), c.add_argument("--context"), c.add_argument("--run-id")
    i = sub.add_parser("images", help="list the images the suite uses")
    i.add_argument("--image-registry"), i.add_argument("--server-version", default="v1.33.13",
                                                       help="the cluster's version (the inspector image tag)")
    args = parser.parse_args(argv)
    return {"cleanup": cleanup, "images": images}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
