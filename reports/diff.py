"""Compare two conformance documents, result by result, keyed by (scenario, check, ip_family)."""

from __future__ import annotations


def result_key(result: dict) -> tuple[str, str, str]:
    return (result.get("scenario", "-"), result["check"], result.get("ip_family", "-"))


def compare_runs(current: dict, previous: dict) -> dict:
    """Lists of {"scenario", "check", "ip_family", "before", "after"}.

    - ``newly_failed``: failed now, not failed before (including results new in this run);
    - ``fixed``: failed before, passed now;
    - ``flipped``: any other change of outcome between two runs that both have the result.
    """
    before = {result_key(r): r["outcome"] for r in previous.get("results", ())}
    diff = {"newly_failed": [], "fixed": [], "flipped": []}
    for result in current.get("results", ()):
        key = result_key(result)
        old, new = before.get(key), result["outcome"]
        entry = {"scenario": key[0], "check": key[1], "ip_family": key[2], "before": old, "after": new}
        if new == "failed" and old != "failed":
            diff["newly_failed"].append(entry)
        elif old == "failed" and new == "passed":
            diff["fixed"].append(entry)
        elif old is not None and old != new:
            diff["flipped"].append(entry)
    return diff
