"""The check catalogue (conformance/checklist.yaml) as typed, read-only data.

Every conformance test item names one check ID; the report takes level/area/title
from here, so the spec's levels live in exactly one place. Extended checks also name the
*feature* a user declares supported with ``--supported-feature NAME`` (``resolve_features``).
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).parent.with_name("checklist.yaml")  # conformance/checklist.yaml
LEVELS = ("core", "extended")
AREAS = ("DNS", "POD", "EPS", "PROXY", "REACH")
_ID_RE = re.compile(r"^(DNS|POD|EPS|PROXY|REACH)-\d{2}$")
_FEATURE_RE = re.compile(r"^[A-Z][A-Za-z0-9]+$")  # CamelCase, as Gateway API conformance features


@dataclass(frozen=True)
class Check:
    id: str
    level: str  # core | extended
    area: str  # DNS | POD | EPS | PROXY | REACH
    title: str
    feature: str = ""  # extended checks only: the declarable feature name, e.g. LargeEndpointSets


class UnknownFeature(ValueError):
    """A declared feature is neither an extended check's feature name nor its ID; names the valid ones."""


@functools.lru_cache(maxsize=None)
def _load(path: str) -> tuple[Check, ...]:
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    checks: list[Check] = []
    seen: set[str] = set()
    for entry in doc["checks"]:
        check = Check(id=str(entry["id"]), level=str(entry["level"]),
                      area=str(entry["area"]), title=str(entry["title"]).strip(),
                      feature=str(entry.get("feature") or ""))
        # Validate on load: a typo in the yaml must fail loudly, not mislabel a report.
        m = _ID_RE.match(check.id)
        if not m:
            raise ValueError(f"{path}: malformed check ID {check.id!r}")
        if check.id in seen:
            raise ValueError(f"{path}: duplicate check ID {check.id}")
        if check.level not in LEVELS:
            raise ValueError(f"{path}: {check.id}: level {check.level!r} not in {LEVELS}")
        if check.area != m.group(1):
            raise ValueError(f"{path}: {check.id}: area {check.area!r} does not match its ID")
        if not check.title or "\n" in check.title:
            raise ValueError(f"{path}: {check.id}: title must be one non-empty line")
        if check.level == "extended" and not _FEATURE_RE.match(check.feature):
            raise ValueError(f"{path}: {check.id}: an extended check needs a CamelCase feature name, "
                             f"got {check.feature!r}")
        if check.level == "core" and check.feature:
            raise ValueError(f"{path}: {check.id}: a core check is always required and names no feature")
        seen.add(check.id)
        checks.append(check)
    return tuple(checks)


DNS_SPEC_SCHEMA = "1.1.0"     # the DNS-Based Service Discovery spec version the catalogue transcribes


def identity(path: str | Path = CATALOGUE_PATH) -> dict:
    """Which catalogue judged a run: a digest of its content, the number of checks, the DNS spec schema."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    return {"digest": f"sha256:{digest}", "checks": len(_load(str(path))), "dns_spec_schema": DNS_SPEC_SCHEMA}


def load(path: str | Path = CATALOGUE_PATH) -> dict[str, Check]:
    """All checks by ID, in catalogue order (a fresh dict; the Checks are frozen)."""
    return {c.id: c for c in _load(str(path))}


def get(check_id: str) -> Check:
    """The check with this ID; KeyError naming the ID (and the catalogue) when unknown."""
    checks = load()
    try:
        return checks[check_id]
    except KeyError:
        raise KeyError(f"unknown check ID {check_id!r}: not in {CATALOGUE_PATH.name} "
                       f"(known: {', '.join(checks)})") from None


def features(path: str | Path = CATALOGUE_PATH) -> dict[str, tuple[str, ...]]:
    """Declarable features: name -> the IDs of the extended checks that hold it, in catalogue order."""
    found: dict[str, list[str]] = {}
    for check in _load(str(path)):
        if check.feature:
            found.setdefault(check.feature, []).append(check.id)
    return {name: tuple(ids) for name, ids in found.items()}


def resolve_features(names, all_features: bool = False,
                     path: str | Path = CATALOGUE_PATH) -> dict[str, tuple[str, ...]]:
    """The declared features as {feature name: check IDs}.

    Each name is a feature name (``LargeEndpointSets``) or an extended check's ID (``EPS-07``), matched
    without regard to case; commas separate several. ``all_features`` declares every feature.
    Raises UnknownFeature naming the valid names for anything else (a core check ID included: core
    checks are always required, never declared).
    """
    known = features(path)
    checks = {c.id: c for c in _load(str(path))}
    by_key = {name.lower(): name for name in known}
    by_key.update({c.id.lower(): c.feature for c in checks.values() if c.feature})
    declared = set(known) if all_features else set()
    for raw in names or ():
        for name in filter(None, (part.strip() for part in str(raw).split(","))):
            feature = by_key.get(name.lower())
            if feature is None:
                valid = ", ".join(f"{f} ({'/'.join(ids)})" for f, ids in known.items())
                core = name.upper() in checks and checks[name.upper()].level == "core"
                why = f"{name.upper()} is a core check, always required" if core else f"unknown feature {name!r}"
                raise UnknownFeature(f"--supported-feature: {why}; valid feature names (or their check IDs): {valid}")
            declared.add(feature)
    return {name: ids for name, ids in known.items() if name in declared}
