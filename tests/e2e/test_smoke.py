"""Smoke test of the local cluster with the seed case: `myapp` (ClusterIP) and `myapp-headless` (None).

Three agnhost netexec pods behind both Services and a client pod, all restricted-PodSecurity compliant
(the namespace enforces `restricted`). From inside the client pod: both names resolve to exactly what
the API says, each pod answers HTTP as itself. On the node (this host): kube-proxy has rules for the
ClusterIP Service (the positive control) and none for the headless one.
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass, field

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from svc_conformance.cluster.shell_session import ShellSession
from svc_conformance.dnsview import dnswire
from svc_conformance.proxyview import proxyrules
from e2e_support import SERVICE_FAMILY, ip_family, node_proxy_dumps, pod_exec, pod_ips, pod_ready, poll

pytestmark = pytest.mark.e2e

IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53"
APP = "myapp"
HEADLESS = "myapp-headless"
CLIENT = "client"
REPLICAS = 3
HTTP_PORT = 8080
SERVICE_PORT = 80
RECORD_TYPE = {"ipv4": "A", "ipv6": "AAAA"}

# Deadlines (seconds) and how many observations in a row make a result stable.
POD_READY_TIMEOUT_S = 180
DNS_TIMEOUT_S = 60
HTTP_TIMEOUT_S = 30
HTTP_FETCH_TIMEOUT_S = 3
RULES_TIMEOUT_S = 60
NAMESPACE_GONE_TIMEOUT_S = 180
POD_READY_STREAK = 2
DNS_STREAK = 3
RULES_STREAK = 2

SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _container(name: str, args: list[str], **extra) -> dict:
    return {"name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "args": args,
            "securityContext": SECURITY_CONTEXT, **extra}


def deployment_manifest() -> dict:
    server = _container("netexec", ["netexec", f"--http-port={HTTP_PORT}"],
                        ports=[{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
                        readinessProbe={"httpGet": {"path": "/readyz", "port": HTTP_PORT},
                                        "periodSeconds": 2, "failureThreshold": 1})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": APP},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": APP}},
            "template": {"metadata": {"labels": {"app": APP}},
                         "spec": {"terminationGracePeriodSeconds": 5, "containers": [server]}},
        },
    }


def service_manifest(name: str, headless: bool) -> dict:
    spec = {"selector": {"app": APP},
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}]}
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def client_manifest() -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": CLIENT, "labels": {"app": CLIENT}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [_container(CLIENT, ["pause"])]}}


@dataclass
class SmokeApp:
    namespace: str
    servers: dict[str, list[str]] = field(default_factory=dict)   # ready pod name -> its IPs
    ready_at: float = 0.0                      # time.monotonic() when every pod was first seen Ready
    clusterip: object = None                   # V1Service
    headless: object = None
    cluster_domain: str = "cluster.local"

    def fqdn(self, service: str) -> str:
        return f"{service}.{self.namespace}.svc.{self.cluster_domain}"


def _pod_summary(pod) -> dict:
    waiting = [f"{c.name}: {c.state.waiting.reason} {c.state.waiting.message or ''}".strip()
               for c in pod.status.container_statuses or [] if c.state and c.state.waiting]
    return {"phase": pod.status.phase, "ready": pod_ready(pod), "ips": pod_ips(pod),
            **({"waiting": waiting} if waiting else {})}


def _wait_namespace_gone(core, namespace: str) -> float:
    def gone():
        try:
            ns = core.read_namespace(namespace)
        except ApiException as exc:
            if exc.status == 404:
                return True, "gone"
            raise
        return False, f"still there, phase {ns.status.phase}"

    return poll(f"namespace {namespace} deleted", gone, expected="gone",
                timeout_s=NAMESPACE_GONE_TIMEOUT_S, interval_s=1).elapsed_s


@pytest.fixture(scope="module")
def smoke(kube_api, local_cluster, e2e_timings):
    core, apps = client.CoreV1Api(kube_api), client.AppsV1Api(kube_api)
    module_start = time.monotonic()
    namespace = f"e2e-smoke-{secrets.token_hex(3)}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": namespace,
        "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                   "pod-security.kubernetes.io/enforce-version": "latest"}}})
    try:
        created = time.monotonic()
        apps.create_namespaced_deployment(namespace, deployment_manifest())
        clusterip = core.create_namespaced_service(namespace, service_manifest(APP, headless=False))
        headless = core.create_namespaced_service(namespace, service_manifest(HEADLESS, headless=True))
        core.create_namespaced_pod(namespace, client_manifest())
        app = SmokeApp(namespace, clusterip=clusterip, headless=headless, cluster_domain=local_cluster.cluster_domain)

        def all_ready():
            pods = core.list_namespaced_pod(namespace).items
            servers = {p.metadata.name: pod_ips(p) for p in pods
                       if (p.metadata.labels or {}).get("app") == APP and pod_ready(p)}
            client_ready = any(p.metadata.name == CLIENT and pod_ready(p) for p in pods)
            ok = client_ready and len(servers) == REPLICAS and len(pods) == REPLICAS + 1
            observed = {p.metadata.name: _pod_summary(p) for p in pods}
            if not ok:   # why a Deployment has fewer pods than asked (e.g. PodSecurity refused them)
                status = apps.read_namespaced_deployment_status(APP, namespace).status
                observed["deployment conditions"] = [f"{c.type}={c.status}: {c.message}"
                                                     for c in status.conditions or []]
            if ok:
                app.servers = servers
            return ok, observed

        waited = poll(f"{REPLICAS} {APP} pods and the client pod Ready", all_ready,
                      expected=f"{REPLICAS} Ready pods labelled app={APP} and pod {CLIENT} Ready",
                      timeout_s=POD_READY_TIMEOUT_S, consecutive=POD_READY_STREAK, interval_s=0.5)
        app.ready_at = waited.first_ok_at
        e2e_timings.record("smoke: all pods Ready after creation", waited.first_ok_at - created)
        yield app
    finally:
        try:
            core.delete_namespace(namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
        e2e_timings.record("smoke: namespace deletion", _wait_namespace_gone(core, namespace))
        e2e_timings.record("smoke: whole module (setup to namespace gone)", time.monotonic() - module_start)


# --- DNS, asked from inside the client pod ------------------------------------------------------

def _expected_addresses(service, addresses) -> dict[str, list[str]]:
    """Per record type: what the name must resolve to; nothing for a family the Service does not have."""
    families = {SERVICE_FAMILY[f] for f in service.spec.ip_families or []}
    return {rdtype: sorted(ip for ip in addresses if ip_family(ip) == fam and fam in families)
            for fam, rdtype in RECORD_TYPE.items()}


def expected_dns(app: SmokeApp) -> dict[str, dict[str, list[str]]]:
    """FQDN -> record type -> addresses, for both Services, from what the API says."""
    clusterip = app.clusterip.spec.cluster_ips or [app.clusterip.spec.cluster_ip]
    pod_addresses = [ip for ips in app.servers.values() for ip in ips]
    return {app.fqdn(APP): _expected_addresses(app.clusterip, clusterip),
            app.fqdn(HEADLESS): _expected_addresses(app.headless, pod_addresses)}


def observe_dns(kube_api, app: SmokeApp, expected: dict[str, dict[str, list[str]]]):
    """Ask every (name, type) of `expected` in one batch from the client pod; probe for poll()."""
    keys = [(name, rdtype) for name, by_type in expected.items() for rdtype in by_type]
    questions = [dnswire.Question(name + ".", rdtype) for name, rdtype in keys]
    result = pod_exec(kube_api, app.namespace, CLIENT, dnswire.build_batch_command(questions, None),
                      container=CLIENT, timeout_s=20)
    if result.returncode != 0:
        return False, f"DNS relay in pod {CLIENT} failed: {result.describe()}"
    observed: dict[str, dict] = {}
    for (name, rdtype), answer in zip(keys, dnswire.parse_batch_output(result.stdout, questions)):
        if not answer.ok:
            value = f"error: {answer.error}"
        elif answer.rcode != "NOERROR" or answer.truncated:
            value = f"rcode {answer.rcode}{' (truncated)' if answer.truncated else ''}"
        else:
            value = sorted(dnswire.rrset_values(answer.message, name + ".", rdtype))
        observed.setdefault(name, {})[rdtype] = value
    return observed == expected, observed


@pytest.fixture(scope="module")
def dns_convergence(smoke, kube_api, e2e_timings):
    """Measure (not judge) how long after the pods were Ready both names first answered as expected."""
    try:
        polled = poll("DNS convergence", lambda: observe_dns(kube_api, smoke, expected_dns(smoke)),
                      expected=expected_dns(smoke), timeout_s=DNS_TIMEOUT_S, interval_s=0.5)
    except AssertionError:
        return None        # the tests below say what is wrong
    seconds = max(0.0, polled.first_ok_at - smoke.ready_at)
    e2e_timings.record("smoke: DNS of both names correct, after pods Ready", seconds)
    return seconds


def _assert_resolves(kube_api, app: SmokeApp, service: str) -> None:
    name = app.fqdn(service)
    expected = {name: expected_dns(app)[name]}
    assert any(expected[name].values()), f"nothing to expect for {name}: {expected}"
    poll(f"DNS {name} from pod {CLIENT} ({DNS_STREAK} answers in a row)",
         lambda: observe_dns(kube_api, app, expected), expected=expected,
         timeout_s=DNS_TIMEOUT_S, consecutive=DNS_STREAK, interval_s=0.5)


def test_clusterip_name_resolves_to_the_cluster_ip(smoke, kube_api, dns_convergence):
    assert smoke.clusterip.spec.cluster_ip not in (None, "", "None"), f"{APP} has no ClusterIP"
    _assert_resolves(kube_api, smoke, APP)


def test_headless_name_resolves_to_the_ready_pod_ips(smoke, kube_api, dns_convergence):
    assert smoke.headless.spec.cluster_ip == "None", \
        f"{HEADLESS} is not headless: clusterIP {smoke.headless.spec.cluster_ip}"
    _assert_resolves(kube_api, smoke, HEADLESS)


# --- HTTP, each pod by its own address ----------------------------------------------------------

# curl where the image has it (upstream agnhost does), else busybox wget bounded by `timeout`: not
# `wget -T`, which some busybox builds lack.
_FETCH = """u=$1
if command -v curl >/dev/null 2>&1; then exec curl -sS -g --max-time {t} "$u"; fi
exec timeout {t} wget -qO- "$u"
"""


def fetch_argv(url: str) -> list[str]:
    return ["/bin/sh", "-c", _FETCH.format(t=HTTP_FETCH_TIMEOUT_S), "fetch", url]


def test_one_shell_session_serves_every_probe_round(smoke, kube_api):
    """The probe's long-lived shell: each command's exact stdout (stderr dropped, stdin its own), one
    exec for all rounds; a command past its timeout closes the session and the next one opens anew."""
    session = ShellSession(kube_api, smoke.namespace, CLIENT, container=CLIENT)
    try:
        assert session.run(["/bin/sh", "-c", "printf 'a\\n\\nb'; echo to-stderr >&2; exit 3"], 10) == "a\n\nb"
        assert session.run(["/bin/sh", "-c", "read -r x || echo no-input"], 10) == "no-input\n"
        big = session.run(["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done"], 60)
        assert big.splitlines() == [f"line{i}" for i in range(20000)]
        assert session.run(["echo", "it's", "$HOME", "a b"], 10) == "it's $HOME a b\n"
        assert session.opened == 1
        assert session.run(["sleep", "5"], 1) == ""
        assert session.run(["cat", "/etc/hostname"], 10).strip() == CLIENT
        assert session.opened == 2
        assert session.run(["/bin/sh", "-c", "echo partial; kill -9 $PPID"], 10) == "partial\n"   # the shell dies
        assert session.run(["echo", "again"], 10) == "again\n" and session.opened == 3
        session._ws.sock.sock.shutdown(socket.SHUT_RDWR)      # dropped while idle, as by a proxy
        assert session.run(["echo", "once more"], 10) == "once more\n" and session.opened == 4
    finally:
        session.close()


def test_each_pod_answers_http_as_itself(smoke, kube_api):
    expected = {ip: name for name, ips in smoke.servers.items() for ip in ips}

    def fetch_all():
        observed = {}
        for ip in expected:
            host = f"[{ip}]" if ":" in ip else ip
            url = f"http://{host}:{HTTP_PORT}/hostname"
            result = pod_exec(kube_api, smoke.namespace, CLIENT, fetch_argv(url), container=CLIENT,
                              timeout_s=HTTP_FETCH_TIMEOUT_S + 10)
            observed[ip] = result.stdout.strip() if result.returncode == 0 else result.describe()
        return observed == expected, observed

    poll("every pod answers /hostname with its own name", fetch_all, expected=expected,
         timeout_s=HTTP_TIMEOUT_S, interval_s=1)


# --- kube-proxy rules on the node -----------------------------------------------------------------

def _artifacts(dumps: dict[str, str], proxy_mode: str, namespace: str, service: str) -> list[str]:
    if proxy_mode == "nftables":
        return proxyrules.nft_artifacts(dumps["nft"], namespace, service)
    return [a for dump in dumps.values() for a in proxyrules.iptables_artifacts(dump, namespace, service)]


def _missing_clusterip_rules(artifacts: list[str], nft_endpoints: list[str], proxy_mode: str,
                             cluster_ips: list[str], endpoints: list[str]) -> list[str]:
    """What of the ClusterIP Service is not (yet) programmed: its VIP, and a DNAT to every endpoint
    (nftables: `nft_endpoints`, read from the Service's chains wherever the release puts the DNAT)."""
    text = "\n".join(artifacts)
    missing = []
    for ip in cluster_ips:
        if proxy_mode == "nftables":
            found = any(f"element {ip} . tcp . {SERVICE_PORT} " in a for a in artifacts)
        else:
            found = f"-d {ip}/{128 if ':' in ip else 32} " in text
        if not found:
            missing.append(f"cluster IP {ip}:{SERVICE_PORT}")
    for ip in endpoints:
        if proxy_mode == "nftables":
            found = (f"[{ip}]" if ":" in ip else ip) + f":{HTTP_PORT}" in nft_endpoints
        else:
            found = f"--to-destination {f'[{ip}]' if ':' in ip else ip}:{HTTP_PORT}" in text
        if not found:
            missing.append(f"endpoint {ip}:{HTTP_PORT}")
    return missing


def test_kube_proxy_programs_the_clusterip_service_and_not_the_headless_one(smoke, local_cluster):
    mode = local_cluster.proxy_mode
    svc = smoke.clusterip
    cluster_ips = svc.spec.cluster_ips or [svc.spec.cluster_ip]
    families = {SERVICE_FAMILY[f] for f in svc.spec.ip_families}
    endpoints = [ip for ips in smoke.servers.values() for ip in ips if ip_family(ip) in families]
    dump_families = local_cluster.families       # the headless Service must be absent from every family
    headless_seen: list[str] = []

    def programmed():
        dumps = node_proxy_dumps(mode, dump_families)
        # Every dump taken while waiting must be free of the headless Service, not only the last.
        headless_seen.extend(_artifacts(dumps, mode, smoke.namespace, HEADLESS))
        present = _artifacts(dumps, mode, smoke.namespace, APP)
        dnat = proxyrules.nft_service_endpoints(dumps["nft"], smoke.namespace, APP) if mode == "nftables" else []
        missing = _missing_clusterip_rules(present, dnat, mode, cluster_ips, endpoints)
        observed = {"missing": missing, f"{mode} artifacts of {smoke.namespace}/{APP}": present}
        if mode == "nftables":
            observed["DNAT targets"] = dnat
        return not missing, observed

    # Positive control: without the ClusterIP Service's rules, "no rules for the headless one" proves nothing.
    poll(f"kube-proxy ({mode}) rules for {smoke.namespace}/{APP}", programmed,
         expected={"missing": [], "cluster IPs": cluster_ips, "endpoints": endpoints},
         timeout_s=RULES_TIMEOUT_S, consecutive=RULES_STREAK, interval_s=1)
    assert headless_seen == [], (
        f"kube-proxy ({mode}) has rules for the headless Service {smoke.namespace}/{HEADLESS}\n"
        f"  expected: none\n  observed: {sorted(set(headless_seen))}")
