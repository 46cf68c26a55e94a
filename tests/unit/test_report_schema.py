"""conformance.json has an identity and a schema: documents the real plugin writes validate, and the
schema rejects what a consumer must not get (no verdict, a local path, an unknown outcome)."""

import copy
import json

import pytest

from svc_conformance.reports.document import API_VERSION, KIND
from svc_conformance.reports.schema import schema_errors
from reports_samples import sample_doc

TOOL = {"name": "svc-conformance", "version": "0.1.0",
        "catalogue": {"digest": "sha256:0123456789abcdef", "checks": 48, "dns_spec_schema": "1.1.0"}}


def _doc() -> dict:
    doc = sample_doc()
    doc["tool"] = copy.deepcopy(TOOL)
    return doc


def test_sample_document_is_valid_and_carries_its_identity():
    doc = _doc()
    assert (doc["apiVersion"], doc["kind"]) == (API_VERSION, KIND)
    assert schema_errors(doc) == []


@pytest.mark.parametrize(("change", "path"), [
    (lambda d: d.pop("verdict"), "/"),
    (lambda d: d["cluster"].update(kubeconfig="/root/.kube/config"), "/cluster"),
    (lambda d: d["results"][0].update(outcome="green"), "/results/0/outcome"),
    (lambda d: d["results"][0].update(check="dns3"), "/results/0/check"),
    (lambda d: d.update(kind="Report"), "/kind"),
    (lambda d: d["tool"]["catalogue"].update(digest="abc"), "/tool/catalogue/digest"),
    (lambda d: d.update(started="yesterday"), "/started"),
], ids=["no-verdict", "local-path", "unknown-outcome", "bad-check-id", "wrong-kind", "bad-digest", "bad-time"])
def test_schema_rejects(change, path):
    doc = _doc()
    change(doc)
    errors = schema_errors(doc)
    assert errors and any(e.split(":", 1)[0] == path for e in errors), errors


def test_report_written_by_the_plugin_is_valid(pytester):
    """A real (small) pytest session through reports.plugin and fixtures.options writes a valid report."""
    pytester.makepyfile(test_fake_suite='''
import pytest

@pytest.mark.parametrize("family", ["ipv4"])
def test_dns03(record_property, family):
    for k, v in dict(check="DNS-03", scenario="clusterip-deployment", ip_family=family, level="core",
                     area="DNS").items():
        record_property(k, v)
''')
    out = pytester.path / "out"
    run = pytester.runpytest("-p", "svc_conformance.reports.plugin", "-p", "svc_conformance.fixtures.options", "--report-dir", str(out),
                             "--no-allure-results")
    doc = json.loads((out / "conformance.json").read_text())
    assert run.ret == 0, run.stdout.str()[-2000:]
    assert doc["tool"]["name"] == "svc-conformance" and doc["tool"]["catalogue"]["checks"] >= 40
    assert schema_errors(doc) == []
