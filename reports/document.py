"""Build the ``conformance.json`` document (schema ``svc-conformance/v1``) from recorded results.

Profile roll-up: one profile per (area, level) that has at least one result, for the areas
DNS, POD, EPS, PROXY, REACH and the levels core, extended (results with another area or level
are counted in ``summary`` but belong to no profile). A profile's ``result`` is:

- ``failure``: a core profile with at least one ``failed`` result (the cluster is not conformant there);
- ``success``: no ``failed`` result and at least one ``passed`` (skips and not-supported allowed);
- ``partial``: everything else, i.e. an extended profile with failures (the feature is only partly
  supported), or a profile where nothing passed and nothing failed (all skipped / not-supported).
"""

from __future__ import annotations

from collections import Counter

from reports.outcomes import OUTCOMES

SCHEMA = "svc-conformance/v1"
AREAS = ("DNS", "POD", "EPS", "PROXY", "REACH")
LEVELS = ("core", "extended")


def count_outcomes(results: list[dict]) -> dict:
    counter = Counter(result["outcome"] for result in results)
    counts = {outcome: counter.get(outcome, 0) for outcome in OUTCOMES}
    counts["total"] = len(results)
    return counts


def profile_result(level: str, counts: dict) -> str:
    if counts["failed"] and level == "core":
        return "failure"
    if not counts["failed"] and counts["passed"]:
        return "success"
    return "partial"


def roll_up_profiles(results: list[dict]) -> list[dict]:
    profiles = []
    for area in AREAS:
        for level in LEVELS:
            members = [r for r in results if r.get("area") == area and r.get("level") == level]
            if not members:
                continue
            counts = count_outcomes(members)
            profiles.append({"name": area, "level": level, "result": profile_result(level, counts), **counts})
    return profiles


def check_sort_key(check: str) -> tuple:
    """DNS-02 before DNS-10, areas in catalogue order, unknown areas last."""
    area, _, number = check.partition("-")
    area_rank = AREAS.index(area) if area in AREAS else len(AREAS)
    return (area_rank, area, int(number) if number.isdigit() else 0, number)


def result_sort_key(result: dict) -> tuple:
    return (result.get("scenario", ""), check_sort_key(result["check"]), result.get("ip_family", ""))


def build_document(*, run_id: str, started: str, finished: str, cluster: dict,
                   results: list[dict], metrics: list[dict]) -> dict:
    results = sorted(results, key=result_sort_key)
    return {
        "schema": SCHEMA,
        "run_id": run_id,
        "started": started,
        "finished": finished,
        "cluster": cluster,
        "results": results,
        "metrics": metrics,
        "profiles": roll_up_profiles(results),
        "summary": count_outcomes(results),
    }


def is_conformant(doc: dict) -> bool:
    """No core profile failed."""
    return not any(p["result"] == "failure" for p in doc.get("profiles", ()))
