"""The logs bundle archive: one directory per scenario, every part readable, the metadata first."""

import json
import tarfile

from svc_conformance.checks import bundle


def test_written_bundle_holds_every_part_under_the_scenario_directory(tmp_path):
    parts = {"namespace/events.txt": "Normal Scheduled Pod/web-0: assigned\n",
             "cluster-dns/configmaps.yaml": "could not read: 403 Forbidden\n"}
    out = bundle.write(tmp_path / bundle.relative_path("ports"), parts, {"scenario": "ports"})
    assert out == tmp_path / "bundles" / "ports.tar.gz"
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert names == ["ports/bundle.json", "ports/namespace/events.txt", "ports/cluster-dns/configmaps.yaml"]
        assert json.load(tar.extractfile("ports/bundle.json")) == {"scenario": "ports"}
        assert tar.extractfile("ports/cluster-dns/configmaps.yaml").read().decode() == parts[
            "cluster-dns/configmaps.yaml"]
