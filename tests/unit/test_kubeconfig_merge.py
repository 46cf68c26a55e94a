"""Several kubeconfig files ($KUBECONFIG=a:b) are merged as kubectl merges them: real files in tmp_path,
the real client built from them (no server contacted, except a closed port)."""

import os
import subprocess
import sys

import pytest

from svc_conformance.cluster import kube, kubeconfig

A = """apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443", certificate-authority: certs/ca.crt}
users:
- name: admin
  user: {client-certificate: certs/admin.crt, client-key: certs/admin.key}
contexts:
- name: prod
  context: {cluster: prod, user: admin}
"""

B = """apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster: {server: "https://shadowed.example:6443", insecure-skip-tls-verify: true}
- name: lab
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: shadowed}
- name: lab-user
  user: {token: abc, tokenFile: token}
contexts:
- name: lab
  context: {cluster: lab, user: lab-user}
"""


@pytest.fixture
def pair(tmp_path, monkeypatch):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    (a_dir / "certs").mkdir(parents=True)
    b_dir.mkdir()
    for name in ("ca.crt", "admin.crt", "admin.key"):
        (a_dir / "certs" / name).write_text("placeholder\n")
    (b_dir / "token").write_text("abc\n")
    (a_dir / "config").write_text(A)
    (b_dir / "config").write_text(B)
    missing = tmp_path / "absent"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(a_dir / "config"), str(missing), str(b_dir / "config")]))
    monkeypatch.chdir(tmp_path)      # relative references must not depend on the current directory
    return a_dir, b_dir


def test_kubeconfig_lists_every_existing_file_in_order(pair):
    a_dir, b_dir = pair
    assert kubeconfig.resolve_kubeconfigs(None) == [str(a_dir / "config"), str(b_dir / "config")]


def test_first_file_wins_per_name_and_paths_are_relative_to_their_file(pair):
    a_dir, b_dir = pair
    merged = kubeconfig.merge_kubeconfigs(kubeconfig.resolve_kubeconfigs(None))
    clusters = {c["name"]: c["cluster"] for c in merged["clusters"]}
    users = {u["name"]: u["user"] for u in merged["users"]}
    assert clusters["prod"]["server"] == "https://prod.example:6443"
    assert clusters["prod"]["certificate-authority"] == str(a_dir / "certs" / "ca.crt")
    assert users["admin"] == {"client-certificate": str(a_dir / "certs" / "admin.crt"),
                              "client-key": str(a_dir / "certs" / "admin.key")}
    assert users["lab-user"]["tokenFile"] == str(b_dir / "token")
    assert sorted(c["name"] for c in merged["contexts"]) == ["lab", "prod"]
    assert merged["current-context"] == "prod"      # set by the second file only


def test_the_client_is_built_from_the_merged_pair(pair):
    a_dir, _ = pair
    api, names = kube.api_client(None, None)
    assert api.configuration.host == "https://prod.example:6443"
    assert api.configuration.ssl_ca_cert == str(a_dir / "certs" / "ca.crt")
    assert api.configuration.cert_file == str(a_dir / "certs" / "admin.crt")
    lab, _ = kube.api_client(None, "lab")            # a context of the second file, its cluster too
    assert lab.configuration.host == "https://127.0.0.1:1"
    assert os.pathsep in names


def test_connect_through_a_context_of_the_second_file_reaches_its_server(pair):
    with pytest.raises(kubeconfig.SetupError) as err:
        kube.connect(None, "lab", timeout_s=2)
    assert err.value.exit_code == kubeconfig.EXIT_UNREACHABLE and "127.0.0.1:1" in str(err.value)


def test_a_file_of_the_list_that_is_not_a_kubeconfig_is_named(pair, tmp_path, monkeypatch):
    note = tmp_path / "note"
    note.write_text("hello, I am a note\n")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([os.environ["KUBECONFIG"], str(note)]))
    with pytest.raises(kubeconfig.SetupError) as err:
        kube.api_client(None, None)
    assert err.value.exit_code == kubeconfig.EXIT_KUBECONFIG and f"{note} is not a kubeconfig" in str(err.value)


def test_the_run_command_with_a_merged_pair_is_one_line_naming_the_second_files_server(pair, tmp_path):
    run = subprocess.run([sys.executable, "-m", "svc_conformance", "run", "--context", "lab",
                          "--report-dir", str(tmp_path / "out")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == kubeconfig.EXIT_UNREACHABLE, lines
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0], lines
