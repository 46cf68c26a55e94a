"""Every test pod spec gets the pod policy at load time (issue 17, items 5, 6, 9): Linux only, the
user's --node-selector and --toleration, the UID of --run-as-user; the node inspector selects Linux
and nothing else."""

from types import SimpleNamespace

import pytest

from svc_conformance.cluster import deploy, manifests, podspec
from svc_conformance.cluster.podspec import PodPolicy
from svc_conformance.fixtures import options
from svc_conformance.proxyview import inspector

IMAGES = {"AGNHOST": "registry.k8s.io/e2e-test-images/agnhost:2.53", "INSPECTOR": "kube-proxy:v1"}
SCENARIOS = sorted(p.name[:-len(".yaml")] for p in manifests.MANIFEST_DIR.iterdir() if p.name.endswith(".yaml"))
POLICY = PodPolicy(node_selector=(("pool", "tests"),), tolerations=(("dedicated", "svc", "NoSchedule"),
                                                                    ("gpu", None, "NoExecute")),
                   run_as_user=1000770000)


def all_pod_specs(policy: PodPolicy) -> list[tuple[str, dict]]:
    found = []
    for name in SCENARIOS:
        for doc in manifests.load(name, IMAGES, "run-1", policy):
            found += [(f"{name}/{doc['kind']}/{doc['metadata']['name']}", s) for s in podspec.pod_specs(doc)]
    return found


def test_every_manifest_has_pod_specs_to_transform():
    kinds = {doc["kind"] for name in SCENARIOS for doc in manifests.load(name, IMAGES, "r")}
    # A new workload kind must be known to podspec, or its pods would escape the policy.
    assert kinds - {"Service", "Endpoints", "EndpointSlice"} <= set(podspec.POD_SPEC_PATHS)
    assert len(all_pod_specs(PodPolicy())) >= len(SCENARIOS)


@pytest.mark.parametrize("policy", [PodPolicy(), POLICY, PodPolicy(run_as_user=None)])
def test_every_test_pod_selects_linux(policy):
    for where, spec in all_pod_specs(policy):
        assert spec["nodeSelector"][podspec.OS_LABEL] == "linux", where


def test_default_policy_changes_nothing_but_the_os_selector():
    for name in SCENARIOS:
        raw = manifests.load(name, IMAGES, "r", PodPolicy(run_as_user=podspec.DEFAULT_UID))
        for doc in raw:
            for spec in podspec.pod_specs(doc):
                assert spec.pop("nodeSelector") == {podspec.OS_LABEL: "linux"}
                assert "tolerations" not in spec
                assert spec["securityContext"]["runAsUser"] == spec["securityContext"]["runAsGroup"] == 65534
    # the same documents as the manifests say, apart from the selector just removed
    plain = [manifests.label(d, "r") for d in
             manifests.yaml.safe_load_all(manifests.Template((manifests.MANIFEST_DIR / "ports.yaml")
                                                              .read_text()).substitute(IMAGES)) if d]
    loaded = manifests.load("ports", IMAGES, "r")
    for doc in loaded:
        for spec in podspec.pod_specs(doc):
            spec.pop("nodeSelector")
    assert loaded == plain


def test_node_selector_and_tolerations_reach_every_pod_spec():
    for where, spec in all_pod_specs(POLICY):
        assert spec["nodeSelector"]["pool"] == "tests", where
        assert {"key": "dedicated", "operator": "Equal", "value": "svc", "effect": "NoSchedule"} in spec["tolerations"]
        assert {"key": "gpu", "operator": "Exists", "effect": "NoExecute"} in spec["tolerations"]


def test_run_as_user_n_sets_uid_and_gid_everywhere():
    for where, spec in all_pod_specs(POLICY):
        contexts = [spec["securityContext"]] + [c.get("securityContext", {}) for c in spec["containers"]]
        assert spec["securityContext"]["runAsUser"] == spec["securityContext"]["runAsGroup"] == 1000770000, where
        assert all(sc.get("runAsUser", 1000770000) == 1000770000 for sc in contexts), where
        assert spec["securityContext"]["runAsNonRoot"] is True


def test_run_as_user_auto_leaves_no_fixed_uid_but_keeps_run_as_non_root():
    for where, spec in all_pod_specs(PodPolicy(run_as_user=None)):
        for sc in [spec["securityContext"]] + [c.get("securityContext", {}) for c in spec["containers"]]:
            assert "runAsUser" not in sc and "runAsGroup" not in sc, where
        assert spec["securityContext"]["runAsNonRoot"] is True, where


def test_container_level_uid_is_replaced_or_removed():
    doc = {"kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "securityContext": {"runAsUser": 1, "runAsGroup": 2}},
                                   {"name": "d", "securityContext": {"readOnlyRootFilesystem": True}}],
                    "initContainers": [{"name": "i", "securityContext": {"runAsUser": 3}}]}}
    spec = podspec.apply(doc, PodPolicy(run_as_user=4242))["spec"]
    assert spec["securityContext"] == {"runAsUser": 4242, "runAsGroup": 4242}
    assert spec["containers"][0]["securityContext"] == {"runAsUser": 4242, "runAsGroup": 4242}
    assert spec["containers"][1]["securityContext"] == {"readOnlyRootFilesystem": True}
    assert spec["initContainers"][0]["securityContext"] == {"runAsUser": 4242, "runAsGroup": 4242}
    auto = podspec.apply(doc, PodPolicy(run_as_user=None))["spec"]
    assert auto["containers"][0]["securityContext"] == {} and auto["initContainers"][0]["securityContext"] == {}
    assert doc["spec"]["containers"][0]["securityContext"] == {"runAsUser": 1, "runAsGroup": 2}   # a copy


@pytest.mark.parametrize("kind,path", [("Deployment", ["spec", "template", "spec"]),
                                       ("DaemonSet", ["spec", "template", "spec"]),
                                       ("Job", ["spec", "template", "spec"]),
                                       ("CronJob", ["spec", "jobTemplate", "spec", "template", "spec"])])
def test_workload_kinds_are_found(kind, path):
    doc = {"kind": kind}
    node = doc
    for step in path:
        node = node.setdefault(step, {})
    node["containers"] = [{"name": "c"}]
    out = podspec.apply(doc, PodPolicy())
    for step in path:
        out = out[step]
    assert out["nodeSelector"] == {podspec.OS_LABEL: "linux"}


def test_other_kinds_are_untouched():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    assert podspec.apply(svc, POLICY) == svc


def test_existing_tolerations_and_selectors_are_kept():
    doc = {"kind": "Pod", "spec": {"nodeSelector": {"zone": "a"}, "tolerations": [{"operator": "Exists"}]}}
    spec = podspec.apply(doc, POLICY)["spec"]
    assert spec["nodeSelector"] == {"zone": "a", podspec.OS_LABEL: "linux", "pool": "tests"}
    assert spec["tolerations"][0] == {"operator": "Exists"} and len(spec["tolerations"]) == 3


def test_scenario_docs_apply_the_policy_to_the_client_too():
    docs = deploy.scenario_docs("ports", IMAGES, "r", POLICY)
    client = next(d for d in docs if d["metadata"]["name"] == "client")
    assert client["spec"]["nodeSelector"] == {podspec.OS_LABEL: "linux", "pool": "tests"}


def test_inspector_selects_linux_only_and_tolerates_everything():
    spec = inspector.daemonset("node-inspector", "kube-proxy:v1")["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {podspec.OS_LABEL: "linux"}      # never --node-selector: every node
    assert spec["tolerations"] == [{"operator": "Exists"}]


# -- option parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("dedicated=svc:NoSchedule", ("dedicated", "svc", "NoSchedule")),
    ("node-role.kubernetes.io/infra:NoExecute", ("node-role.kubernetes.io/infra", None, "NoExecute")),
    ("example.com/pool=:PreferNoSchedule", ("example.com/pool", "", "PreferNoSchedule")),
])
def test_toleration_parsing(text, expected):
    assert podspec.parse_toleration(text) == expected


@pytest.mark.parametrize("text", ["dedicated=svc", "dedicated:NoPlace", ":NoSchedule", "a b:NoSchedule",
                                  "k=v v:NoSchedule", "=v:NoSchedule", "k:noschedule", ""])
def test_bad_tolerations(text):
    with pytest.raises(ValueError, match="--toleration takes KEY"):
        podspec.parse_toleration(text)


def test_node_selector_parsing():
    assert podspec.parse_node_selector(["pool=tests", "example.com/tier=", "pool=tests"]) == (
        ("pool", "tests"), ("example.com/tier", ""))
    for bad in ["pool", "=x", "pool=a b", "bad key=x"]:
        with pytest.raises(ValueError, match="--node-selector takes KEY=VALUE"):
            podspec.parse_node_selector([bad])
    with pytest.raises(ValueError, match="given twice"):
        podspec.parse_node_selector(["pool=a", "pool=b"])
    with pytest.raises(ValueError, match="Linux images"):
        podspec.parse_node_selector(["kubernetes.io/os=windows"])
    assert podspec.parse_node_selector(["kubernetes.io/os=linux"]) == (("kubernetes.io/os", "linux"),)


def test_run_as_user_parsing():
    assert podspec.parse_run_as_user("65534") == 65534
    assert podspec.parse_run_as_user("auto") is None
    for bad in ["0", "-1", "root", "", "2147483648", "Auto"]:
        with pytest.raises(ValueError, match="--run-as-user takes auto or a UID"):
            podspec.parse_run_as_user(bad)


def fake_config(**given):
    values = {"node_selector": [], "toleration": [], "run_as_user": "65534", **given}
    return SimpleNamespace(getoption=lambda name: values[name.lstrip("-").replace("-", "_")])


def test_options_make_one_policy():
    policy = options.pod_policy(fake_config(node_selector=["pool=tests"], toleration=["gpu:NoExecute"],
                                            run_as_user="auto"))
    assert policy == PodPolicy((("pool", "tests"),), (("gpu", None, "NoExecute"),), None)
    assert options.pod_policy(fake_config()) == PodPolicy()


@pytest.mark.parametrize("given", [{"toleration": ["gpu:Sometimes"]}, {"node_selector": ["pool"]},
                                   {"run_as_user": "0"}])
def test_bad_options_are_one_line_usage_errors(given):
    with pytest.raises(pytest.UsageError) as err:
        options.pod_policy(fake_config(**given))
    assert "\n" not in str(err.value) and str(err.value).startswith("--")


def test_bad_option_stops_a_pytest_run_with_a_usage_error(pytester):
    pytester.makepyfile("def test_x():\n    pass\n")
    run = pytester.runpytest_subprocess("-p", "svc_conformance.fixtures.options", "--toleration", "x:Never")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "--toleration takes KEY[=VALUE]:EFFECT" in run.stderr.str()
