"""Bad input gets one line naming the cause and a distinct exit status: the real command, real files, a
real closed port. No cluster needed (the credentials and RBAC cases need one: tests/e2e)."""

import subprocess
import sys
from pathlib import Path

import pytest

UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""

CASES = {
    # name: (file content or None for a missing file, extra args, exit status, words the line must hold)
    "missing-file": (None, [], 10, ["does not exist"]),
    "text-file": ("hello, I am a note\n", [], 10, ["is not a kubeconfig", "a YAML str"]),
    "empty-file": ("", [], 10, ["is not a kubeconfig", "an empty file"]),
    "broken-yaml": ("a: [1\n", [], 10, ["is not valid YAML"]),
    "unknown-context": (UNREACHABLE, ["--context", "nope"], 10, ["nope"]),
    "closed-port": (UNREACHABLE, [], 11, ["unreachable", "127.0.0.1:1"]),
}


def run_cli(kubeconfig: Path, extra: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # From the user's directory, not the checkout: the installed command needs no repository.
    return subprocess.run([sys.executable, "-m", "svc_conformance", "run", "--kubeconfig", str(kubeconfig),
                           "--report-dir", str(cwd / "out"), *extra],
                          cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_kubeconfig_is_one_line_with_its_own_exit_status(case, tmp_path):
    content, extra, status, words = CASES[case]
    kubeconfig = tmp_path / "kubeconfig"
    if content is not None:
        kubeconfig.write_text(content)
    run = run_cli(kubeconfig, extra, tmp_path)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == status, f"expected exit {status}, got {run.returncode}: {lines}"
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n" + "\n".join(lines)
    assert lines[0].count("svc-conformance:") == 1 and all(w in lines[0] for w in words), lines[0]
    for noise in ("Traceback", "_pytest.outcomes", "TypeError", "allure"):
        assert noise not in lines[0], f"{noise!r} in {lines[0]!r}"
    assert not (tmp_path / "out" / "allure-results").exists() or \
        not any((tmp_path / "out" / "allure-results").iterdir()), "Allure results from a run that never started"
