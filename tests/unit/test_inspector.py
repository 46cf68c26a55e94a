"""The node inspector's dump is trusted only when complete: real tool statuses, the end marker, a
non-empty dump. Anything else is "blocked by environment", never "no rules" (issue: a failing or
truncated dump read as "kube-proxy replacement")."""

import shutil
import subprocess
from pathlib import Path

import pytest

from svc_conformance.proxyview import proxyrules
from svc_conformance.proxyview.inspector import DUMP_SCRIPT, InspectionBlocked, NodeState

DATA = Path(__file__).parent / "data"
# Captured with DUMP_SCRIPT on the local cluster's node (kube-proxy iptables mode, IPv4).
COMPLETE = (DATA / "inspector_output_iptables_v4.txt").read_text()


def state(text: str) -> NodeState:
    return NodeState("node-a", proxyrules.split_inspector_output(text))


def test_a_complete_dump_has_no_problems_and_its_mode():
    s = state(COMPLETE)
    assert s.problems() == []
    assert s.mode == "iptables"


def test_a_truncated_dump_is_a_problem():
    cut = COMPLETE[: COMPLETE.index("==== nft-json ====")]
    assert "the dump is truncated (no end marker)" in state(cut).problems()


def test_a_failed_tool_is_a_problem_with_its_stderr():
    text = COMPLETE.replace("==== nft-json.status ====\n0\n",
                            "==== nft-json.status ====\n1\nnetlink: Error: cannot parse\n")
    problems = state(text).problems()
    assert any(p.startswith("nft-json exit 1: netlink: Error: cannot parse") for p in problems), problems


def test_no_dump_tool_at_all_is_a_problem():
    assert "no iptables-save, ip6tables-save or nft in the inspector image" in \
        state("==== nft-missing ====\n==== end ====\n").problems()


def test_without_nft_an_empty_iptables_dump_blocks_instead_of_reading_none():
    text = "==== iptables-save ====\n*nat\nCOMMIT\n==== iptables-save.status ====\n0\n" \
           "==== nft-missing ====\n==== end ====\n"
    with pytest.raises(InspectionBlocked, match="has no nft"):
        state(text).mode


@pytest.mark.parametrize("shell", ["dash", "bash", "busybox"])
def test_the_script_keeps_a_failing_tools_status(shell, tmp_path):
    """The script itself, run by a real shell with a real failing `nft` first on PATH."""
    if not shutil.which(shell):
        pytest.skip(f"{shell} is not installed")
    nft = tmp_path / "nft"
    nft.write_text('#!/bin/sh\necho \'{"nftables": [\'\necho "Error: cannot parse" >&2\nexit 3\n')
    nft.chmod(0o755)
    argv = [shell, "sh", "-c", DUMP_SCRIPT] if shell == "busybox" else [shell, "-c", DUMP_SCRIPT]
    out = subprocess.run(argv, capture_output=True, text=True, env={"PATH": f"{tmp_path}:/usr/sbin:/usr/bin:/sbin:/bin"})
    s = state(out.stdout)
    assert "end" in s.sections
    assert s.errors["nft-json"].startswith("exit 3: Error: cannot parse")


def test_forwarding_is_read_in_the_nodes_own_mode():
    s = state(COMPLETE)
    rule = next(line for line in s.iptables.splitlines() if "-A KUBE-SERVICES -d " in line and "KUBE-SVC-" in line)
    vip = rule.split("-d ", 1)[1].split("/", 1)[0]
    ns_svc = rule.split('--comment "', 1)[1].split(":", 1)[0].split(" ", 1)[0]
    namespace, service = ns_svc.split("/")
    assert s.forwarding(namespace, service, vip) and s.mode == "iptables"
    assert not s.forwarding(namespace, service, "10.255.255.254")
