"""localcluster/image_contents.yaml: the definition of what the local images carry is well-formed.

(That the built archives match it is tests/e2e/test_images.py.)
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest
import yaml

from localcluster import images, versions

DOC = images.contents()
SPECS = DOC["images"]


def _every_release_images() -> dict:
    found = dict(versions.OPTIONAL_IMAGES)
    for minor in versions.RELEASES:
        found.update(versions.use(minor) and versions.IMAGES)
    versions.use(versions.DEFAULT_RELEASE)
    return found


ALL_IMAGES = _every_release_images()      # every image some release (or option) of the local cluster runs
SOURCE_KINDS = ("host", "built", "template")
BUILT = set(versions.K8S_COMMANDS) | {"coredns", "pause", "netpol"}


def _entries(spec: dict, key: str = "executables") -> dict[str, str | None]:
    return dict(images.parse_entry(e) for e in spec.get(key) or [])


def _resolve(entries: dict[str, str | None], path: str) -> str | None:
    """Follow symlinks among the listed entries to a listed regular file (None if it leaves the list)."""
    for _ in range(10):
        if path not in entries:
            return None
        target = entries[path]
        if target is None:
            return path
        path = target if target.startswith("/") else posixpath.normpath(
            posixpath.join(posixpath.dirname(path), target))
    return None


def test_schema_and_path():
    assert DOC["schema"] == "svc-conformance/image-contents/v1"
    assert DOC["path"] == ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    assert images.path_env() == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_every_image_is_listed_and_nothing_else():
    assert set(SPECS) == set(ALL_IMAGES)


@pytest.mark.parametrize("name", sorted(ALL_IMAGES))
def test_every_image_names_its_upstream_definition(name):
    spec = SPECS[name]
    assert spec["summary"].strip()
    assert spec["upstream"], f"{name}: no upstream definition"
    for source in spec["upstream"]:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", source["repo"]), source
        assert str(source["ref"]).strip() and source["path"].strip(), source
        assert source["lines"] and all(isinstance(line, str) and line.strip() for line in source["lines"]), \
            f"{name}: {source['repo']} {source['path']} has no justifying lines"


def test_the_upstream_versions_are_the_pinned_ones():
    versions.use(versions.CONTENTS_RELEASE)       # the release whose upstream definitions the file quotes
    try:
        _upstream_versions_are_the_pinned_ones()
    finally:
        versions.use(versions.DEFAULT_RELEASE)


def _upstream_versions_are_the_pinned_ones():
    def refs(name, repo):
        return {s["ref"] for s in SPECS[name]["upstream"] if s["repo"] == repo}
    for name in ("pause", "kube-proxy", "agnhost", "jessie-dnsutils"):
        assert refs(name, "kubernetes/kubernetes") == {versions.KUBERNETES}
    assert refs("coredns", "coredns/coredns") == {versions.COREDNS}
    assert refs("kube-network-policies", "kubernetes-sigs/kube-network-policies") == {versions.KUBE_NETWORK_POLICIES}
    lines = [line for s in SPECS["kube-proxy"]["upstream"] for line in s["lines"]]
    assert f"readonly __default_distroless_iptables_version={versions.DISTROLESS_IPTABLES_TAG}" in lines
    assert f"    IMAGE_VERSION: '{versions.DISTROLESS_IPTABLES_TAG}'" in lines
    agnhost = {s["path"]: s["lines"] for s in SPECS["agnhost"]["upstream"]}
    assert agnhost["test/images/agnhost/VERSION"] == [versions.AGNHOST_TAG]
    assert agnhost["test/images/agnhost/BASEIMAGE"] == [f"linux/amd64={versions.AGNHOST_BASEIMAGE}"]
    jessie = {s["path"]: s["lines"] for s in SPECS["jessie-dnsutils"]["upstream"]}
    assert jessie["test/images/jessie-dnsutils/VERSION"] == [versions.JESSIE_DNSUTILS_TAG]


@pytest.mark.parametrize("name", sorted(ALL_IMAGES))
def test_executables_are_absolute_unique_and_resolve_to_listed_files(name):
    spec = SPECS[name]
    all_entries = (spec["executables"] or []) + (spec.get("outside_path") or [])
    parsed = [images.parse_entry(e) for e in all_entries]
    paths = [p for p, _ in parsed]
    assert len(paths) == len(set(paths)), f"{name}: duplicates"
    assert spec["executables"] == sorted(spec["executables"], key=lambda e: images.parse_entry(e)[0]), \
        f"{name}: keep executables sorted by path"
    entries = dict(parsed)
    for path, target in parsed:
        assert path.startswith("/") and posixpath.normpath(path) == path, path
        assert target is None or target.strip() == target and target, path
        assert _resolve(entries, path), f"{name}: {path} -> {target} does not resolve to a listed file"
    on_path = [p for p in _entries(spec) if posixpath.dirname(p) in DOC["path"]]
    entrypoint = (spec.get("config") or {}).get("entrypoint")
    assert set(_entries(spec)) == set(on_path) | ({entrypoint[0]} if entrypoint else set()), \
        f"{name}: executables holds only PATH entries and the entrypoint (others go to outside_path)"
    for other in _entries(spec, "outside_path"):
        assert posixpath.dirname(other) not in DOC["path"], other


@pytest.mark.parametrize("name", sorted(ALL_IMAGES))
def test_sources_name_listed_regular_files_and_known_kinds(name):
    spec = SPECS[name]
    regular = {p for p, t in {**_entries(spec), **_entries(spec, "outside_path")}.items() if t is None}
    for path, source in (spec.get("sources") or {}).items():
        assert path in regular, f"{name}: source for {path}, which is not a listed regular file"
        kind, _, ref = source.partition(":")
        assert kind in SOURCE_KINDS, source
        if kind == "built":
            assert ref in BUILT, source
        elif kind == "template":
            assert (images.TEMPLATES / ref).is_file(), source
        else:
            assert ref.startswith("/"), source
    for key in ("libraries", "files"):
        assert all(p.startswith("/") for p in spec.get(key) or []), key
    for path, mode in (spec.get("dirs") or {}).items():
        assert path.startswith("/") and re.fullmatch(r"[0-7]{4}", mode), (path, mode)


@pytest.mark.parametrize("name", sorted(ALL_IMAGES))
def test_debian_packages_are_installed_by_install_deps(name):
    assert set(SPECS[name]["debian_packages"]) <= set(versions.DEBIAN_PACKAGES)


@pytest.mark.parametrize("name", sorted(ALL_IMAGES))
def test_what_upstream_has_and_the_local_image_lacks_is_explained(name):
    listed = set(_entries(SPECS[name])) | set(_entries(SPECS[name], "outside_path"))
    for gap in SPECS[name]["upstream_only"]:
        assert gap["reason"].strip()
        assert gap.get("paths") or gap.get("names"), gap
        assert not set(gap.get("paths") or []) & listed, f"{name}: listed and upstream-only at once"


def test_config_matches_upstream():
    assert SPECS["pause"]["config"] == {"entrypoint": ["/pause"], "user": "65535:65535"}
    assert SPECS["coredns"]["config"]["entrypoint"] == ["/coredns"]
    assert SPECS["agnhost"]["config"]["entrypoint"] == ["/agnhost"]
    assert SPECS["agnhost"]["config"]["cmd"] == ["pause"]
    assert "entrypoint" not in SPECS["kube-proxy"]["config"]     # the server image sets none
    assert SPECS["jessie-dnsutils"]["config"] == {"cmd": ["/bin/bash"]}   # debian:jessie's, no entrypoint


def test_kube_proxy_is_distroless_iptables():
    entries = _entries(SPECS["kube-proxy"])
    names = {posixpath.basename(p) for p in entries}
    assert entries["/bin/sh"] == "/bin/dash"
    assert not {"busybox", "bash", "mktemp", "tr", "head", "sed", "awk", "ls", "cp", "ps", "conntrack",
                "ebtables", "openssl"} & names
    for cmd in ("iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save",
                "ip6tables-restore"):
        assert entries[f"/usr/sbin/{cmd}"] == "/usr/sbin/iptables-wrapper"
    for tool in ("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save",
                 "nft", "ipset", "modprobe", "sleep", "cat", "grep", "wc", "rm", "ln", "chmod"):
        assert tool in names, tool
    assert entries["/usr/local/bin/kube-proxy"] is None
    assert SPECS["kube-proxy"]["sources"]["/usr/sbin/iptables-wrapper"] == "template:iptables-wrapper"


def test_agnhost_is_alpine_with_the_tools_upstream_adds():
    entries = _entries(SPECS["agnhost"])
    names = {posixpath.basename(p): p for p in entries}
    assert entries["/bin/sh"] == "/bin/busybox"
    for tool in ("sh", "base64", "nc", "curl", "bash", "dig", "nslookup", "host", "ip", "iperf", "wget",
                 "timeout", "mktemp", "tr", "head", "cat", "hostname", "sleep"):
        assert tool in names, tool
    # the real programs win over busybox applets of the same name, as apk installs them over the links
    for real in ("/usr/bin/nc", "/sbin/ip", "/usr/bin/nslookup", "/bin/bash", "/usr/bin/dig"):
        assert entries[real] is None, real
    assert entries["/usr/local/bin/iperf"] == "/usr/bin/iperf"
    assert _entries(SPECS["agnhost"], "outside_path")["/agnhost-2"] == "agnhost"
    assert "approximate" in SPECS["agnhost"] and SPECS["agnhost"]["approximate"].strip()


def test_contents_key_changes_with_the_data(tmp_path):
    changed = tmp_path / "image_contents.yaml"
    doc = yaml.safe_load(images.CONTENTS_FILE.read_text())
    changed.write_text(yaml.safe_dump(doc))
    same = images.contents_key(changed)
    doc["images"]["kube-proxy"]["executables"].append("/bin/mktemp")
    changed.write_text(yaml.safe_dump(doc))
    assert images.contents_key(changed) != same
    assert images.contents_key() == images.contents_key(images.CONTENTS_FILE)
    assert re.fullmatch(r"[0-9a-f]{12}", images.contents_key())


def test_archives_are_cached_under_the_contents_key(monkeypatch, tmp_path):
    monkeypatch.setattr(images.paths, "CACHE", tmp_path)
    bins = Path("/nonexistent/v1.33.13-abc")
    assert images.archive_dir(bins) == tmp_path / "images" / bins.name / images.contents_key()


def test_parse_entry():
    assert images.parse_entry("/bin/dash") == ("/bin/dash", None)
    assert images.parse_entry("/bin/sh -> /bin/dash") == ("/bin/sh", "/bin/dash")
    assert images.parse_entry("/usr/bin/[[ -> /bin/busybox") == ("/usr/bin/[[", "/bin/busybox")
