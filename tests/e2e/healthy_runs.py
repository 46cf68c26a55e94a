"""Judging a suite run that must be healthy under a condition, and keeping its figures: shared by the
production-condition and admission tests."""

import json

from kubernetes import client

import expected_outcomes
from suite_runs import outcomes

FIGURES_DIR = expected_outcomes.ROOT / "reports" / "out" / "production-conditions"


def nothing_left(kube_api, what: str, output: str) -> None:
    left = client.CoreV1Api(kube_api).list_namespace(
        label_selector="app.kubernetes.io/managed-by=svc-conformance").items
    assert not left, f"{what}: namespaces left behind: {[n.metadata.name for n in left]}\n{output[-2000:]}"


def assert_healthy_run(local_cluster, kube_api, code, doc, output, what: str) -> None:
    """Exactly the healthy outcome map, exit 0, and no namespace of the suite left."""
    expected = expected_outcomes.healthy(local_cluster.ip_family, expected_outcomes.collected_items())
    wrong = expected_outcomes.diff(expected, outcomes(doc))
    assert not wrong, f"{what}: outcomes differ from the healthy map:\n" + "\n".join(wrong) + f"\n{output[-4000:]}"
    assert code == 0, f"{what}: a conformant run exits 0, got {code}\n{output[-3000:]}"
    nothing_left(kube_api, what, output)


def record(name: str, **figures) -> None:
    """One condition's figures (wall time, exit, counts) as reports/out/production-conditions/<name>.json."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIGURES_DIR / f"{name}.json").write_text(json.dumps(figures, indent=1))
