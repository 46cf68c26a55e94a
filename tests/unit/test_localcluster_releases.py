"""The local cluster's releases (localcluster/versions.py) agree with their wrapper modules and select
everything that depends on them."""

import re

import pytest

from localcluster import build, components, paths, versions
from localcluster.topology import Topology


@pytest.fixture
def release():
    yield versions.use
    versions.use(versions.DEFAULT_RELEASE)


def test_the_default_is_the_newest_release():
    assert versions.DEFAULT_RELEASE == max(versions.RELEASES, key=lambda m: tuple(map(int, m.split("."))))
    assert all(minor == r.minor for minor, r in versions.RELEASES.items())


@pytest.mark.parametrize("minor", sorted(versions.RELEASES))
def test_wrapper_modules_pin_the_release(minor, release):
    r = release(minor)
    gomod = (build.k8s_wrapper() / "go.mod").read_text()
    assert re.search(rf"^require k8s\.io/kubernetes {re.escape(r.kubernetes)}$", gomod, re.M)
    assert re.search(rf"^go {re.escape(r.go)}$", gomod, re.M)
    staging = re.findall(r"^\s*(k8s\.io/[\w.-]+) => (k8s\.io/[\w.-]+) (v\S+)$", gomod, re.M)
    assert staging and all(a == b and v == versions.STAGING for a, b, v in staging)
    assert (build.k8s_wrapper() / "go.sum").is_file()
    coredns = (build.coredns_wrapper() / "go.mod").read_text()
    assert re.search(rf"^require github\.com/coredns/coredns {re.escape(r.coredns)}$", coredns, re.M)


def test_selecting_a_release_moves_every_image_and_binary(release):
    release("1.37")
    assert versions.IMAGES == {
        "pause": "registry.k8s.io/pause:3.10.2",
        "agnhost": "registry.k8s.io/e2e-test-images/agnhost:2.66.1",
        "coredns": "registry.k8s.io/coredns/coredns:v1.14.6",
        "kube-proxy": "registry.k8s.io/kube-proxy:v1.37.2"}
    assert versions.suite_agnhost_image() == "registry.k8s.io/e2e-test-images/agnhost:2.53"
    assert build.bin_dir().name.startswith("v1.37.2-")
    release("1.33")
    assert versions.IMAGES["jessie-dnsutils"].endswith(":1.7") and versions.suite_agnhost_image() is None
    assert build.bin_dir().name.startswith("v1.33.13-")


def test_controllers_flag_follows_the_release(release):
    topo = Topology("ipv4")
    release("1.33")
    assert "--controllers=*,-nodeipam,-cloud-node-lifecycle" in components.kube_controller_manager(paths.CACHE, topo)
    release("1.37")     # 1.37 no longer knows cloud-node-lifecycle: it refuses to start with it
    assert "--controllers=*,-nodeipam" in components.kube_controller_manager(paths.CACHE, topo)
    for minor in ("1.35", "1.36"):      # still an alias of cloud-node-lifecycle-controller there
        release(minor)
        assert "--controllers=*,-nodeipam,-cloud-node-lifecycle" in components.kube_controller_manager(paths.CACHE, topo)


def test_the_supported_releases_pin_what_their_modules_say(release):
    assert release("1.35").coredns == "v1.13.1" and versions.IMAGES["pause"].endswith(":3.10.1")
    assert versions.IMAGES["jessie-dnsutils"].endswith(":1.7") and versions.AGNHOST_TAG == "2.59"
    assert release("1.36").coredns == "v1.14.2" and "jessie-dnsutils" not in versions.IMAGES
    assert versions.suite_agnhost_image() == "registry.k8s.io/e2e-test-images/agnhost:2.53"


def test_an_unknown_release_is_refused(release):
    with pytest.raises(KeyError, match="1.30 is not a release of the local cluster"):
        release("1.30")
