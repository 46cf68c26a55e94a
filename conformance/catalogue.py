"""The check catalogue (conformance/checklist.yaml) as typed, read-only data.

Every conformance test item names one check ID; the report takes level/area/title
from here, so the spec's levels live in exactly one place.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).with_name("checklist.yaml")
LEVELS = ("core", "extended")
AREAS = ("DNS", "POD", "EPS", "PROXY", "REACH")
_ID_RE = re.compile(r"^(DNS|POD|EPS|PROXY|REACH)-\d{2}$")


@dataclass(frozen=True)
class Check:
    id: str
    level: str  # core | extended
    area: str  # DNS | POD | EPS | PROXY | REACH
    title: str


@functools.lru_cache(maxsize=None)
def _load(path: str) -> tuple[Check, ...]:
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    checks: list[Check] = []
    seen: set[str] = set()
    for entry in doc["checks"]:
        check = Check(id=str(entry["id"]), level=str(entry["level"]),
                      area=str(entry["area"]), title=str(entry["title"]).strip())
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
        seen.add(check.id)
        checks.append(check)
    return tuple(checks)


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
