"""No kubeconfig anywhere: the run uses the project's local cluster. A cluster that is up is used as it is,
whatever its shape (nodes, proxy mode, family, domain); one that is up but unhealthy is named, never
handed to `up` (which would refuse it for another shape and send the user to `down`, destroying a cluster
that may only need a minute). No Kubernetes client here: `svc-conformance run` decides before importing it.
"""

from dataclasses import dataclass

STATUS_COMMAND = "python -m localcluster status"


@dataclass(frozen=True)
class Decision:
    action: str             # "use", "up" or "unhealthy"
    up_args: tuple = ()     # for "up": the options of `python -m localcluster up`
    message: str = ""


def decide(record: dict | None, rows: list[tuple[str, bool, str]], daemons: list[str]) -> Decision:
    """record: localcluster.state.load(); rows: localcluster.status.checks() (name, ok, detail);
    daemons: the cluster's component names (rows of those say whether each process runs)."""
    if record is None:
        return Decision("up", (), "no local cluster is up: starting one")
    if not any(ok for name, ok, _ in rows if name in daemons):
        # A record whose processes are all gone (a reboot): `up` undoes the leftovers; same shape again.
        shape = ("--proxy-mode", record["proxy_mode"], "--ip-family", record["ip_family"],
                 "--nodes", str(record.get("nodes", 1)))
        if record.get("cluster_domain"):
            shape += ("--cluster-domain", record["cluster_domain"])
        if record.get("kubernetes_version"):
            shape += ("--kubernetes-version", record["kubernetes_version"])
        if record.get("network_policy"):
            shape += ("--network-policy",)
        if record.get("shape", "local") != "local":
            shape += ("--shape", record["shape"])
        if record.get("cni", "routes") != "routes":
            shape += ("--cni", record["cni"])
        return Decision("up", shape, "the local cluster's record remains but none of its processes runs: "
                                     "starting it again with its options")
    failing = [f"{name}: {detail}" for name, ok, detail in rows if not ok]
    if not failing:
        return Decision("use")
    return Decision("unhealthy", (), f"the local cluster is up but not healthy ({'; '.join(failing)}); "
                                     f"see `{STATUS_COMMAND}`")


def inspect() -> Decision:
    """The decision for this machine's local cluster, from its record and its status checks."""
    from localcluster import components, state, status
    record = state.load()
    try:
        rows = status.checks()
        daemons = components.of_record(record) if record else []
    except Exception as err:  # noqa: BLE001 - a record status cannot read is unhealthy, named in one line
        return Decision("unhealthy", (), f"the local cluster's status cannot be read ({type(err).__name__}: "
                                         f"{err}); see `{STATUS_COMMAND}`")
    return decide(record, rows, daemons)
