"""The node inspector's image: `--image inspector=REF`, else what the cluster's own kube-proxy pods run,
else kube-proxy of the server's release - with pre-release servers (no such tag published) said so."""

import pytest

from svc_conformance.cluster import manifests

KIND_FROM_TREE = "v1.33.0-beta.0.123+abcdef0123"
KIND_PROXY = "registry.k8s.io/kube-proxy:v1.33.0-beta.0.123_abcdef0123"
PRIVATE_PROXY = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.30.4-eksbuild.2"


@pytest.mark.parametrize("server", ["v1.35.0-alpha.0.1+abc", KIND_FROM_TREE, "v1.30.4-eks-a1b2c3d", "custom-build"])
def test_the_clusters_own_kube_proxy_image_is_preferred(server):
    assert manifests.images(None, {}, server, cluster_proxy_image=KIND_PROXY)["INSPECTOR"] == KIND_PROXY


def test_a_discovered_image_is_not_rewritten_by_the_registry_option_but_the_rest_is():
    imgs = manifests.images("mirror.example/k8s", {}, "v1.30.4-eks-a1b2c3d", cluster_proxy_image=PRIVATE_PROXY)
    assert imgs["INSPECTOR"] == PRIVATE_PROXY
    assert imgs["AGNHOST"] == "mirror.example/k8s/e2e-test-images/agnhost:2.53"


def test_the_inspector_option_wins_over_the_discovered_image():
    chosen = manifests.images("mirror.example/k8s", {"inspector": "mine/kp:v1"}, KIND_FROM_TREE, KIND_PROXY)
    assert chosen["INSPECTOR"] == "mine/kp:v1"
    assert manifests.inspector_choice(None, {"inspector": "mine/kp:v1"}, KIND_FROM_TREE, KIND_PROXY)[1] == \
        "--image inspector"


def test_a_pre_release_without_kube_proxy_pods_keeps_the_release_tag_and_says_so():
    ref, why = manifests.inspector_choice(None, {}, "v1.35.0-alpha.0.1+abc")
    assert ref == "registry.k8s.io/kube-proxy:v1.35.0"
    assert "pre-release" in why and "v1.35.0" in why and "--image inspector=REF" in why
    mirrored, _ = manifests.inspector_choice("mirror.example/k8s", {}, KIND_FROM_TREE)
    assert mirrored == "mirror.example/k8s/kube-proxy:v1.33.0"


def test_a_release_says_where_its_tag_comes_from_without_a_warning():
    ref, why = manifests.inspector_choice(None, {}, "v1.31.5+k3s1")
    assert (ref, why) == ("registry.k8s.io/kube-proxy:v1.31.5", "the server version v1.31.5+k3s1")
    assert manifests.inspector_choice(None, {}, "v1.33.1", KIND_PROXY) == (KIND_PROXY, "the cluster's kube-proxy pods")
