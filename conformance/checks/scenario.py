"""A scenario is a small declarative object: name, description, features, manifests, checks.

Its manifests live in `manifests/<name>.yaml`; its checks are small functions `(ctx, family) -> None`
that raise CheckFailed (or skip with a reason). The stable identity of a test is
(scenario, check ID, IP family), which survives renames of the Python functions.
"""

from dataclasses import dataclass, field
from typing import Callable

FAMILIES = ("ipv4", "ipv6")


@dataclass(frozen=True)
class CheckSpec:
    id: str                                   # checklist ID, e.g. "DNS-03"
    run: Callable                             # (ctx, family) -> None
    per_family: bool = False                  # run once per IP family of the cluster, else once ("-")
    feature: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    features: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    setup: Callable | None = None             # (ctx) -> None: runtime objects, e.g. hand-made slices
    slow: bool = False
    seeds: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    copy_of: str = ""                         # a benchmark copy (SVC_CONFORMANCE_SCENARIO_COPIES) of this one

    @property
    def manifest(self) -> str:
        return self.copy_of or self.name


def check(check_id: str, per_family: bool = False, feature: str = "") -> Callable:
    """Decorator turning a function into a CheckSpec (declared next to the scenario that uses it)."""
    def wrap(fn):
        return CheckSpec(check_id, fn, per_family, feature)
    return wrap
