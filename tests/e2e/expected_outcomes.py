"""Exact expected outcomes of a suite run: one per (scenario, check, family) item, from data.

`expected/healthy.yaml` holds the healthy cluster's outcomes per IP family; a fault changes some of
them (`with_faults`). Tests compare whole maps, so a wrong not-supported or blocked fails like a
wrong failure.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
Key = tuple[str, str, str]


def collected_items() -> list[Key]:
    """Every item the suite has, as pytest collects it (scenario, check, family)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "conformance", "--collect-only", "-q",
                          "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    keys = [line.rsplit("[", 1)[1].rstrip("]") for line in out.splitlines() if "::" in line and "[" in line]
    return [tuple(k.split("/")) for k in keys]


def _matches(pattern: str, key: Key) -> bool:
    return all(fnmatch.fnmatchcase(part, pat) for part, pat in zip(key, pattern.split("/")))


def healthy(ip_family: str, items: list[Key]) -> dict[Key, str]:
    rules = yaml.safe_load((HERE / "expected" / "healthy.yaml").read_text())[ip_family] or {}
    result = {}
    for key in items:
        outcome = "passed"
        for pattern, value in rules.items():
            if _matches(pattern, key):
                outcome = value
        result[key] = outcome
    return result


def with_faults(base: dict[Key, str], breaks: set[tuple], outcome: str = "failed") -> dict[Key, str]:
    """`base` where each broken item has `outcome`: a (scenario, check) pair breaks every family item
    that passes in `base`, a (scenario, check, family) triple that one item."""
    def broken(key: Key) -> bool:
        return key[:2] in breaks or key in breaks
    return {k: (outcome if broken(k) and v == "passed" else v) for k, v in base.items()}


def diff(expected: dict[Key, str], observed: dict[Key, str]) -> list[str]:
    """One line per item whose outcome differs (or that is missing on either side)."""
    lines = []
    for key in sorted(set(expected) | set(observed)):
        want, got = expected.get(key, "(no such item)"), observed.get(key, "(missing from the report)")
        if want != got:
            lines.append(f"{'/'.join(key)}: expected {want}, observed {got}")
    return lines
