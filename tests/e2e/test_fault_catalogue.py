"""Every fault of the catalogue (tests/e2e/faults.yaml) produces exactly its expected outcome map.

CI runs the entries marked `ci: true`; `--faults all` (or a comma-separated list of names) runs more.
Each run writes its outcome map to reports/out/faults/<fault>.json, from which
`python tests/e2e/fault_matrix.py` writes docs/FAULTS.md.
"""

import contextlib
import json
import tarfile
import time
from pathlib import Path

import pytest
from kubernetes import client

import cluster_changes as changes
import expected_outcomes
from localcluster import state
from localcluster.topology import Topology
from suite_runs import outcomes, run_suite, suite_seconds

pytestmark = pytest.mark.e2e

CATALOGUE = Path(__file__).with_name("faults.yaml")
RESULTS_DIR = expected_outcomes.ROOT / "reports" / "out" / "faults"
FAULT_TIMEOUT_SCALE = "0.6"     # failing checks wait out their deadlines; 0.6 keeps DNS above the cache TTL


def load_catalogue() -> list[dict]:
    import yaml
    return yaml.safe_load(CATALOGUE.read_text())["faults"]


def pytest_generate_tests(metafunc):
    if "fault" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--faults")
        faults = load_catalogue()
        if chosen == "ci":
            faults = [f for f in faults if f.get("ci")]
        elif chosen != "all":
            names = set(chosen.split(","))
            unknown = names - {f["name"] for f in faults}
            if unknown:
                raise pytest.UsageError(f"--faults: unknown {sorted(unknown)}")
            faults = [f for f in faults if f["name"] in names]
        metafunc.parametrize("fault", faults, ids=[f["name"] for f in faults])


def _change(fault: dict, api_client, cluster_doc: dict, run_id: str):
    change = fault["change"]
    kind = change["kind"]
    core = client.CoreV1Api(api_client)
    topology = Topology.of_record(cluster_doc)
    if kind == "corefile-option":
        return changes.corefile_option(core, topology, change["option"])
    if kind == "corefile-block":
        return changes.corefile_block(core, topology, change["block"])
    if kind == "nft-table":
        return changes.nft_table(change["ruleset"])
    if kind == "iptables-headless-rule":
        node = topology.node_list[change.get("node", 0)]
        return changes.headless_rule(changes.suite_namespace(run_id, change["scenario"]), change["service"],
                                     node.netns)
    if kind == "dns-scaled-to-zero":
        return changes.dns_scaled_to_zero(api_client, topology)
    if kind == "kube-proxy-stopped":
        return changes.kube_proxy_stopped(cluster_doc)
    if kind == "slice-tamper":
        return changes.slice_tamper(api_client, changes.suite_namespace(run_id, change["scenario"]),
                                    change["service"], change["action"])
    raise ValueError(f"fault {fault['name']}: unknown change kind {kind!r}")


def expected_map(fault: dict, ip_family: str) -> dict:
    breaks = {tuple(b.split("/")) for b in fault["breaks"] + fault.get("breaks_on", {}).get(ip_family, [])}
    healthy = expected_outcomes.healthy(ip_family, expected_outcomes.collected_items())
    return expected_outcomes.with_faults(healthy, breaks)


def test_fault_gives_exactly_its_outcome_map(fault, local_cluster, tmp_path, kube_api):
    cluster = state.load()
    if cluster["ip_family"] not in fault.get("families", ["ipv4", "ipv6", "dual"]):
        pytest.skip(f"not applicable: the fault is defined for {fault['families']} clusters")
    if cluster["proxy_mode"] not in fault.get("proxy_modes", ["iptables", "nftables"]):
        pytest.skip(f"not applicable: the fault is defined for kube-proxy {fault['proxy_modes']}")
    if cluster.get("nodes", 1) < fault.get("nodes", 1):
        pytest.skip(f"not applicable: the fault needs a cluster of {fault['nodes']} nodes "
                    f"(LOCALCLUSTER_NODES={fault['nodes']})")
    run_id = time.strftime("%Y%m%d-%H%M%S-") + "fa0175"
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_change(fault, kube_api, cluster, run_id))
        code, doc, output = run_suite(local_cluster.kubeconfig, tmp_path, "--timeout-scale", FAULT_TIMEOUT_SCALE,
                                      run_id=run_id)
    wall_s = time.monotonic() - start
    observed = outcomes(doc)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{fault['name']}.json").write_text(json.dumps({
        "fault": fault["name"], "ip_family": cluster["ip_family"], "proxy_mode": cluster["proxy_mode"],
        "wall_s": round(wall_s, 1), "suite_s": suite_seconds(doc), "exit": code,
        "outcomes": {"/".join(k): v for k, v in sorted(observed.items())}}, indent=1))
    wrong = expected_outcomes.diff(expected_map(fault, cluster["ip_family"]), observed)
    assert not wrong, f"fault {fault['name']}: outcomes differ from the expected map:\n" + "\n".join(wrong) \
        + f"\n{output[-3000:]}"
    assert code == 1, f"a run with core failures exits 1, got {code}"
    left = client.CoreV1Api(kube_api).list_namespace(
        label_selector="app.kubernetes.io/managed-by=svc-conformance").items
    assert not left, f"a failing run left namespaces behind: {[n.metadata.name for n in left]}"
    for r in doc["results"]:       # a failure names the broken statement and carries evidence
        if r["outcome"] == "failed":
            assert r["reason"] and r.get("evidence"), f"failure without reason/evidence: {r['check']}"
            _assert_logs_bundle(r, tmp_path)
            if fault.get("cause"):
                shown = r["reason"] + json.dumps([e["content"] for e in r["evidence"]])
                assert fault["cause"] in shown, \
                    f"{r['scenario']}/{r['check']}/{r['ip_family']} fails without showing the cause {fault['cause']!r}"
            if "node" in fault["change"]:
                _assert_names_only_the_faulty_node(r, cluster, fault["change"]["node"])


def _assert_names_only_the_faulty_node(result: dict, cluster: dict, index: int) -> None:
    """A fault on one node: the failure's observation names that node as failing and no healthy one."""
    names = [n.name for n in Topology(cluster["ip_family"], nodes=cluster["nodes"]).node_list]
    failure = next((e["content"] for e in result["evidence"] if e["name"] == "failure"), "{}")
    observed = (json.loads(failure) if isinstance(failure, str) else failure).get("observed", "")
    failing = {name for name in names if f"{name}:" in observed}
    assert failing == {names[index]}, \
        f"{result['check']} {result['scenario']}: the observation names {sorted(failing)} as failing, " \
        f"expected only {names[index]}: {observed[:500]}"


def _assert_logs_bundle(result: dict, report_dir) -> None:
    """A failed check links its scenario's logs bundle, a readable archive with events, pods and logs."""
    evidence = {e["name"]: e["content"] for e in result["evidence"]}
    assert "logs bundle" in evidence, f"{result['check']} {result['scenario']}: no logs bundle evidence"
    path = report_dir / evidence["logs bundle"].split(" ", 1)[0]
    assert path.is_file(), f"{result['check']} {result['scenario']}: {path} missing"
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    scenario = result["scenario"]
    wanted = {f"{scenario}/{p}" for p in ("bundle.json", "namespace/events.txt", "namespace/pods.yaml",
                                          "cluster-dns/configmaps.yaml", "nodes/rule-dumps.txt")}
    assert wanted <= names and any("/namespace/logs/" in n for n in names), \
        f"{path}: missing {sorted(wanted - names)} or pod logs; has {sorted(names)}"
