"""The wheel installs into a fresh virtualenv and works from any directory without the checkout: the
console script, the pytest11 plugin, the suite and its package data. No cluster needed (a real run from
the wheel: tests/e2e/test_wheel.py). Builds the wheel and installs its dependencies: about a minute."""

import subprocess
import zipfile
from importlib import metadata

from wheel_support import checkout_files

# Package data the suite, the reports and the local cluster read at run time.
SHIPPED = ["svc_conformance/checklist.yaml", "svc_conformance/suite.ini", "svc_conformance/test_conformance.py",
           "svc_conformance/conftest.py", "svc_conformance/pytest_plugin.py",
           "svc_conformance/manifest_data/_client.yaml", "svc_conformance/manifest_data/externalname.yaml",
           "svc_conformance/reports/schema/conformance-report-v1.json", "svc_conformance/fixtures/scenarios.py",
           # every layer of conformance/ (pyproject.toml lists the packages one by one)
           *(f"svc_conformance/{layer}/__init__.py" for layer in ("core", "cluster", "dnsview", "proxyview", "checks")),
           "localcluster/image_contents.yaml", "localcluster/templates/Corefile",
           "localcluster/gobuild/kubernetes-1.33/go.mod"]


def test_wheel_installs_and_runs_from_any_directory(installed_wheel, tmp_path):
    names = zipfile.ZipFile(installed_wheel.wheel).namelist()
    assert not [n for n in SHIPPED if n not in names], f"missing from the wheel: {set(SHIPPED) - set(names)}"
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"svc_conformance", "localcluster"}, f"import names other than the project's own: {tops}"
    assert not [n for n in names if "node_modules" in n or n.endswith("package.json")], "the npm CLI is no package data"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "[pytest11]\nsvc_conformance = svc_conformance.pytest_plugin" in \
        zipfile.ZipFile(installed_wheel.wheel).read(entry_points).decode()

    cwd = tmp_path / "user"
    cwd.mkdir()
    before = checkout_files()
    version = installed_wheel.command("--version", cwd=cwd)
    assert version.returncode == 0 and version.stdout.strip() == f"svc-conformance {metadata.version('svc-conformance')}", \
        version.stdout + version.stderr
    images = installed_wheel.command("images", cwd=cwd)
    assert images.returncode == 0 and "registry.k8s.io/e2e-test-images/agnhost:" in images.stdout, images.stderr
    assert "registry.k8s.io/kube-proxy:v" in images.stdout

    # The installed suite collects through the pytest11 plugin (its options, markers, fixtures); a
    # collect-only run contacts no cluster, whatever the kubeconfig.
    collected = installed_wheel.command("run", "--kubeconfig", str(tmp_path / "absent"), "-n", "0", "--co", "-q",
                                        cwd=cwd)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert "svc_conformance/test_conformance.py::TestScenario_externalname::test_check[" in collected.stdout
    # Bad input is still one line and its own status, from the installed command.
    bad = installed_wheel.command("run", "--kubeconfig", str(tmp_path / "absent"), "-n", "0", cwd=cwd)
    lines = [line for line in (bad.stdout + bad.stderr).splitlines() if line.strip()]
    assert bad.returncode == 10 and len(lines) == 1 and "does not exist" in lines[0], lines

    python = installed_wheel.venv / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import svc_conformance, localcluster; "
                            "print(svc_conformance.__file__); print(localcluster.__file__)"],
                           cwd=cwd, capture_output=True, text=True, check=True).stdout.split()
    assert all(str(installed_wheel.venv) in w for w in where), f"imported from outside the virtualenv: {where}"
    report = installed_wheel.command("report", "validate", "reports/out/conformance.json", cwd=cwd)
    assert report.returncode == 1 and "cannot read reports/out/conformance.json" in report.stderr, report.stderr
    assert checkout_files() == before, "the installed command wrote into the checkout"
