"""Build the ``conformance.json`` document (schema ``svc-conformance/v1``) from recorded results.

Judged results: every ``core`` result, and every ``extended`` result whose check belongs to a feature
the user declared supported (``--supported-feature`` / ``--all-features``). A judged result is

- a *failure* when it ``failed`` and is not errored (``reports.outcomes.is_errored``: setup error,
  crash, interrupted);
- *unfinished* when it is ``blocked``, ``skipped`` or errored: the check could not say.

``not-supported`` (a family the cluster lacks; PROXY without kube-proxy) is neither.

Verdict (``compute_verdict``), the top-level ``verdict`` and the exit status of a suite run:

- ``non-conformant``: a judged failure;
- ``incomplete``: no judged failure, but a judged result is unfinished, or no core result passed at
  all (nothing was shown);
- ``conformant``: everything else, i.e. every core result passed or is not-supported.

Profile roll-up: one profile per (area, level) that has at least one result, for the areas DNS, POD,
EPS, PROXY, REACH and the levels core, extended (results with another area or level are counted in
``summary`` but belong to no profile). A profile's ``result`` (``profile_result``):

- ``failure``: a judged member is a failure (for a core profile: any real failure);
- ``incomplete``: no judged failure, but a judged member is unfinished;
- ``success``: no ``failed`` member and at least one ``passed`` (undeclared extended skips allowed);
- ``partial``: everything else, e.g. an extended profile with failures of undeclared features (reported,
  not fatal), or a profile where nothing passed (all not-supported).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from svc_conformance.reports.outcomes import OUTCOMES, is_errored

SCHEMA = "svc-conformance/v1"
API_VERSION = "svc-conformance.dev/v1"     # identity of the document (reports/schema/conformance-report-v1.json)
KIND = "ConformanceReport"
AREAS = ("DNS", "POD", "EPS", "PROXY", "REACH")
LEVELS = ("core", "extended")
VERDICTS = ("conformant", "non-conformant", "incomplete")
# The exit status of a conformance run per verdict (README "Exit status"); 2-5 are pytest's own,
# 3-7 localcluster's, 10-15 bad input: 8 is free.
EXIT_CONFORMANT, EXIT_NON_CONFORMANT, EXIT_INCOMPLETE = 0, 1, 8
VERDICT_EXIT_STATUS = {"conformant": EXIT_CONFORMANT, "non-conformant": EXIT_NON_CONFORMANT,
                       "incomplete": EXIT_INCOMPLETE}


def count_outcomes(results: list[dict]) -> dict:
    counter = Counter(result["outcome"] for result in results)
    counts = {outcome: counter.get(outcome, 0) for outcome in OUTCOMES}
    counts["total"] = len(results)
    return counts


def supported_checks(supported_features: Mapping[str, Iterable[str]] | None) -> frozenset[str]:
    """The check IDs of the declared features ({feature name: check IDs})."""
    return frozenset(check for ids in (supported_features or {}).values() for check in ids)


def is_judged(result: dict, supported: frozenset[str] = frozenset()) -> bool:
    """Core results, and extended results of a declared-supported feature, decide the verdict."""
    level = result.get("level")
    return level == "core" or (level == "extended" and result.get("check") in supported)


def is_failure(result: dict) -> bool:
    return result["outcome"] == "failed" and not is_errored(result)


def is_unfinished(result: dict) -> bool:
    return result["outcome"] in ("blocked", "skipped") or is_errored(result)


def profile_result(members: list[dict], supported: frozenset[str] = frozenset()) -> str:
    judged = [r for r in members if is_judged(r, supported)]
    if any(is_failure(r) for r in judged):
        return "failure"
    if any(is_unfinished(r) for r in judged):
        return "incomplete"
    outcomes = {r["outcome"] for r in members}
    if "failed" not in outcomes and "passed" in outcomes:
        return "success"
    return "partial"


def roll_up_profiles(results: list[dict], supported: frozenset[str] = frozenset()) -> list[dict]:
    profiles = []
    for area in AREAS:
        for level in LEVELS:
            members = [r for r in results if r.get("area") == area and r.get("level") == level]
            if not members:
                continue
            counts = count_outcomes(members)
            counts["errored"] = sum(1 for r in members if is_errored(r))  # part of "failed"
            profiles.append({"name": area, "level": level, "result": profile_result(members, supported),
                             **counts})
    return profiles


def compute_verdict(results: list[dict], supported: frozenset[str] = frozenset()) -> str:
    """``conformant``, ``non-conformant`` or ``incomplete`` (rules in the module docstring)."""
    judged = [r for r in results if is_judged(r, supported)]
    if any(is_failure(r) for r in judged):
        return "non-conformant"
    if any(is_unfinished(r) for r in judged):
        return "incomplete"
    if not any(r["outcome"] == "passed" for r in results if r.get("level") == "core"):
        return "incomplete"
    return "conformant"


def verdict_reasons(results: list[dict], supported: frozenset[str] = frozenset(), limit: int = 5) -> list[str]:
    """Why the verdict is what it is: the judged failures, else the unfinished judged results."""
    judged = [r for r in results if is_judged(r, supported)]
    picked = [r for r in judged if is_failure(r)] or [r for r in judged if is_unfinished(r)]
    lines = [f"{r['check']} {r.get('scenario', '-')}/{r.get('ip_family', '-')}: {r['outcome']}"
             f"{' (' + r['reason'] + ')' if r.get('reason') else ''}" for r in picked[:limit]]
    if len(picked) > limit:
        lines.append(f"... and {len(picked) - limit} more")
    return lines


def check_sort_key(check: str) -> tuple:
    """DNS-02 before DNS-10, areas in catalogue order, unknown areas last."""
    area, _, number = check.partition("-")
    area_rank = AREAS.index(area) if area in AREAS else len(AREAS)
    return (area_rank, area, int(number) if number.isdigit() else 0, number)


def result_sort_key(result: dict) -> tuple:
    return (result.get("scenario", ""), check_sort_key(result["check"]), result.get("ip_family", ""))


def build_document(*, run_id: str, started: str, finished: str, cluster: dict,
                   results: list[dict], metrics: list[dict],
                   supported_features: Mapping[str, Iterable[str]] | None = None,
                   tool: Mapping | None = None) -> dict:
    """``supported_features``: the declared features, {name: check IDs} (conformance.checks.catalogue);
    ``tool``: what produced the document (suite name and version, catalogue digest)."""
    results = sorted(results, key=result_sort_key)
    supported = supported_checks(supported_features)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "schema": SCHEMA,
        "tool": dict(tool or {}),
        "run_id": run_id,
        "started": started,
        "finished": finished,
        "verdict": compute_verdict(results, supported),
        "supported_features": sorted(supported_features or ()),
        "cluster": cluster,
        "results": results,
        "metrics": metrics,
        "profiles": roll_up_profiles(results, supported),
        "summary": count_outcomes(results),
    }


def document_verdict(doc: dict) -> str:
    """The document's verdict; for a document written before verdicts existed, computed from its
    results (no feature declared: extended results do not count)."""
    return doc.get("verdict") or compute_verdict(doc.get("results", []))


def is_conformant(doc: dict) -> bool:
    return document_verdict(doc) == "conformant"
