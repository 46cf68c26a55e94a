"""Where a run's time goes: per-process totals of named phases (count, seconds), reported as metrics.

Phases nest (a DNS batch is an exec round trip), so totals are per phase, not a partition. The
benchmark (`benchmarks/suite_matrix.py`) sums them over workers; nothing here is asserted on.
"""

import functools
import time
from collections import defaultdict
from contextlib import contextmanager

# phase -> what it measures (the order of the benchmark's table)
PHASES = {
    "apply": "namespaces and manifests created (API round trips)",
    "pods-ready": "waiting for scenario pods to be Ready (the cluster starting pods)",
    "inspector-start": "node inspector DaemonSet Ready and its first dump",
    "exec": "every command run in a pod (client probes through its long-lived shell; inspector dumps)",
    "exec-session-open": "opening a client pod's long-lived shell (one exec per scenario and process)",
    "dns-batch": "DNS question batches from the client pod (ends when every reply is whole)",
    "http-batch": "HTTP request batches from the client pod",
    "tcp-connect": "TCP connects from the client pod",
    "inspector-dump": "rule dumps of every node (exec into the inspector pods)",
    "poll-sleep": "sleeping between attempts of a wait (convergence not yet seen; then per named wait)",
    "namespace-deletion": "deleting the run's namespaces and verifying they are gone",
}

_totals: dict[str, list] = defaultdict(lambda: [0, 0.0])


@contextmanager
def phase(name: str):
    start = time.monotonic()
    try:
        yield
    finally:
        entry = _totals[name]
        entry[0] += 1
        entry[1] += time.monotonic() - start


def timed(name: str):
    """Decorator: every call of the function counts as one `name` phase."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            with phase(name):
                return fn(*args, **kwargs)
        return call
    return wrap


def add(name: str, seconds: float) -> None:
    entry = _totals[name]
    entry[0] += 1
    entry[1] += seconds


def snapshot() -> dict[str, dict]:
    return {name: {"count": count, "seconds": round(seconds, 3)} for name, (count, seconds) in _totals.items()}


def combine(metrics: list[dict]) -> dict[str, dict]:
    """Sum the `phase_s` metrics of every process of a run: phase -> {count, seconds}."""
    out: dict[str, dict] = {}
    for metric in metrics:
        if metric.get("name") != "phase_s":
            continue
        entry = out.setdefault(metric["phase"], {"count": 0, "seconds": 0.0})
        entry["count"] += int(metric.get("count", 0))
        entry["seconds"] = round(entry["seconds"] + float(metric["value"]), 3)
    return dict(sorted(out.items(), key=lambda kv: _order(kv[0])))


def _order(name: str) -> tuple:
    base = name.split(" ", 1)[0]        # "poll-sleep dns" follows "poll-sleep"
    return (list(PHASES).index(base) if base in PHASES else len(PHASES), name)
