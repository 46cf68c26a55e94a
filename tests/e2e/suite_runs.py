"""Running the conformance suite as a user would (a pytest subprocess) and reading its results."""

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_suite(kubeconfig: Path, report_dir: Path, *args: str, run_id: str | None = None,
              timeout_s: int = 1800) -> tuple[int, dict, str]:
    env = dict(os.environ)
    if run_id:
        env["SVC_CONFORMANCE_RUN_ID"] = run_id
    cmd = [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q",
           "-n", "2", "--dist", "loadscope", "--kubeconfig", str(kubeconfig), "--report-dir", str(report_dir),
           *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    doc_path = report_dir / "conformance.json"
    doc = json.loads(doc_path.read_text()) if doc_path.exists() else {}
    return proc.returncode, doc, proc.stdout[-6000:] + proc.stderr[-3000:]


def suite_seconds(doc: dict) -> float | None:
    """The suite run's own time (conformance.json started -> finished), without set-up around it."""
    if not doc.get("started") or not doc.get("finished"):
        return None
    return (datetime.fromisoformat(doc["finished"]) - datetime.fromisoformat(doc["started"])).total_seconds()


def outcomes(doc: dict) -> dict[tuple[str, str, str], str]:
    return {(r["scenario"], r["check"], r["ip_family"]): r["outcome"] for r in doc.get("results", [])}


def failed_pairs(doc: dict) -> set[tuple[str, str]]:
    return {(s, c) for (s, c, _), o in outcomes(doc).items() if o == "failed"}
