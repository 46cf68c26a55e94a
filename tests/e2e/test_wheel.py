"""A real run of the installed wheel (fresh virtualenv, no checkout on the path) from a temporary directory
against the local cluster: the verdict, reports in ./reports/out of that directory, valid against the
schema, nothing written into the checkout. (--version, images, collection: tests/unit/test_wheel_install.py.)"""

import json

import pytest

import expected_outcomes
from suite_runs import outcomes
from wheel_support import checkout_files

pytestmark = pytest.mark.e2e

SCENARIO = "externalname"     # small and quick; every item passes or is not-supported on a healthy cluster


def test_installed_wheel_runs_the_suite_from_a_temporary_directory(installed_wheel, local_cluster, tmp_path):
    cwd = tmp_path / "user"
    cwd.mkdir()
    before = checkout_files()
    run = installed_wheel.command("run", "--kubeconfig", str(local_cluster.kubeconfig), "-k", SCENARIO,
                                  "-n", "0", "-q", cwd=cwd, timeout_s=1800)
    output = run.stdout[-6000:] + run.stderr[-3000:]
    doc_path = cwd / "reports" / "out" / "conformance.json"
    assert doc_path.is_file(), f"no ./reports/out/conformance.json in the run's directory:\n{output}"
    doc = json.loads(doc_path.read_text())
    expected = {k: v for k, v in expected_outcomes.healthy(local_cluster.ip_family,
                                                           expected_outcomes.collected_items()).items()
                if k[0] == SCENARIO}
    wrong = expected_outcomes.diff(expected, outcomes(doc))
    assert not wrong, "outcomes differ from the healthy cluster's:\n" + "\n".join(wrong) + f"\n{output}"
    assert run.returncode == 0, f"a conformant run exits 0, got {run.returncode}\n{output}"
    assert all(r["nodeid"].startswith("svc_conformance/test_conformance.py::") for r in doc["results"])

    validate = installed_wheel.command("report", "validate", "reports/out/conformance.json", cwd=cwd)
    assert validate.returncode == 0 and "valid" in validate.stdout, validate.stdout + validate.stderr
    for name in ("conformance.yaml", "junit.xml", "summary.html"):
        assert (cwd / "reports" / "out" / name).is_file(), f"{name} missing"
    assert checkout_files() == before, "the installed command wrote into the checkout"
