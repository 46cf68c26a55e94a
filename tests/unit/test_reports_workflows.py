"""CI workflows: actionlint-clean, and every config file they name exists and matches its matrix entry."""

import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT_VERSION = "v1.7.12"
CONFIG_PATH = re.compile(r"\b(?:ci|reports)/[\w./-]+\.(?:ya?ml|json)\b")


def _actionlint() -> Path:
    """The pinned actionlint, built with `go install` into a cache dir on first use."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    bin_dir = cache / "svc-conformance" / "tools" / f"actionlint-{ACTIONLINT_VERSION}"
    binary = bin_dir / "actionlint"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        pytest.skip("go not installed: cannot build actionlint to lint the workflows")
    build = subprocess.run([go, "install", f"github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT_VERSION}"],
                           env={**os.environ, "GOBIN": str(bin_dir), "GOFLAGS": "-p=1 -buildvcs=false"},
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0 and binary.exists(), f"building actionlint failed: {build.stderr[-2000:]}"
    return binary


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def _matrix_combinations(job: dict) -> list[dict]:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    combos = [dict(zip(axes, values)) for values in itertools.product(*axes.values())] if axes else [{}]
    return combos + list(matrix.get("include", []))


def _expand(text: str, matrix: dict, env: dict) -> str:
    text = re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(matrix[m[1]]), text)
    return re.sub(r"\$\{\{\s*env\.(\w+)\s*\}\}", lambda m: str(env[m[1]]), text)


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_there_are_the_two_nightly_workflows():
    assert [p.name for p in WORKFLOWS] == ["nightly-k3d.yml", "nightly-kind.yml"]
    for path in WORKFLOWS:
        triggers = _load(path)["on"]
        assert "schedule" in triggers and "workflow_dispatch" in triggers, path.name


def test_actionlint_passes():
    binary = _actionlint()
    run = subprocess.run([str(binary), "-no-color", *map(str, WORKFLOWS)], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # Positive control for the lint above: a wrong expression and an unknown key must be reported.
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n"
                      "    steps:\n      - run: echo ${{ matrix.nope }}\n")
    run = subprocess.run([str(_actionlint()), "-no-color", str(broken)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "stepz" in run.stdout and "nope" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_referenced_config_files_exist(path):
    workflow = _load(path)
    referenced = set()
    for job in workflow["jobs"].values():
        for matrix in _matrix_combinations(job):
            env = {**(workflow.get("env") or {}), **(job.get("env") or {})}
            env = {k: _expand(str(v), matrix, env) for k, v in env.items()}
            for text in _strings({"env": env, "steps": job["steps"]}):
                referenced.update(CONFIG_PATH.findall(_expand(text, matrix, env)))
    assert referenced, "the workflow names no config file"
    missing = sorted(p for p in referenced if not (REPO_ROOT / p).is_file())
    assert missing == []


def test_kind_matrix_configs_match_their_entry():
    job = _load(REPO_ROOT / ".github" / "workflows" / "nightly-kind.yml")["jobs"]["conformance"]
    combos = _matrix_combinations(job)
    assert {(c["family"], c["proxy"]) for c in combos} == set(
        itertools.product(["ipv4", "ipv6", "dual"], ["iptables", "nftables", "ipvs"]))
    for combo in combos:
        config = yaml.safe_load((REPO_ROOT / "ci" / "kind" / f"{combo['family']}-{combo['proxy']}.yaml").read_text())
        assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
        assert config["networking"] == {"ipFamily": combo["family"], "kubeProxyMode": combo["proxy"]}


def _supported_releases() -> list:
    from localcluster import versions
    # Supported: the three newest minors (the local cluster also keeps older ones, e.g. 1.33).
    return sorted(versions.RELEASES.values(), key=lambda r: r.minor_number)[-3:]


def test_kind_matrix_runs_every_supported_release_of_the_local_cluster():
    job = _load(REPO_ROOT / ".github" / "workflows" / "nightly-kind.yml")["jobs"]["conformance"]
    assert job["strategy"]["matrix"]["kubernetes"] == [r.kubernetes for r in _supported_releases()]
    assert any("kind build node-image --type release" in s.get("run", "") for s in job["steps"])


def test_k3d_matrix_runs_one_k3s_per_supported_minor():
    job = _load(REPO_ROOT / ".github" / "workflows" / "nightly-k3d.yml")["jobs"]["conformance"]
    minors = [re.fullmatch(r"v(1\.\d+)\.\d+-k3s\d+", tag)[1] for tag in job["strategy"]["matrix"]["k3s"]]
    assert minors == [r.minor for r in _supported_releases()]


def test_k3d_config_is_a_simple_config():
    config = yaml.safe_load((REPO_ROOT / "ci" / "k3d" / "default.yaml").read_text())
    assert (config["kind"], config["apiVersion"]) == ("Simple", "k3d.io/v1alpha5")


# ---------------------------------------------------------------- the job's result is the verdict

SUITE_STEP = "Run the conformance suite"


def _suite_step(path: Path) -> dict:
    (job,) = _load(path)["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("name") == SUITE_STEP]
    return step


def _run_suite_step(script: str, status: int, tmp_path: Path) -> tuple[int, str, str]:
    """Run the step's script as GitHub does (`bash -e`), with an `svc-conformance` that exits `status`."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    fake = fake_bin / "svc-conformance"
    fake.write_text(f'#!/bin/sh\necho "svc-conformance $*"\nexit {status}\n')
    fake.chmod(0o755)
    summary = tmp_path / f"summary-{status}.md"
    script_file = tmp_path / "step.sh"
    script_file.write_text(script)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-e", str(script_file)], capture_output=True, text=True,
                          env={"PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
                               "GITHUB_STEP_SUMMARY": str(summary)}, timeout=60)
    return proc.returncode, proc.stdout, summary.read_text() if summary.exists() else ""


def test_both_nightlies_run_the_suite_the_same_way():
    steps = [_suite_step(path) for path in WORKFLOWS]
    assert all(s == steps[0] for s in steps)
    assert "svc-conformance run " in steps[0]["run"] and "shell" not in steps[0]   # what users run
    assert "continue-on-error" not in steps[0]     # the step's status is the job's


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
@pytest.mark.parametrize("status, job_fails, annotation", [
    (0, False, None),
    (1, True, "::error title=Not conformant::"),
    (8, True, "::error title=Incomplete run::"),        # incomplete fails too, with its own message
    (10, True, "::error title=Bad input::"),
    (15, True, "::error title=Bad input::"),
    (2, True, "::error title=Suite error::"),
])
def test_the_job_fails_exactly_when_the_verdict_is_not_conformant(path, status, job_fails, annotation, tmp_path):
    code, out, summary = _run_suite_step(_suite_step(path)["run"], status, tmp_path)
    assert code == status and (code != 0) == job_fails, out   # the step exits with the suite's status
    assert "svc-conformance run --report-dir reports/out" in out
    if annotation:
        assert [line for line in out.splitlines() if line.startswith("::error")][0].startswith(annotation), out
    else:
        assert "::error" not in out and "verdict: conformant" in out
    assert f"(exit {status})" in summary
