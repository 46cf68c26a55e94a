"""Controller-side state of one run: item results, cluster facts, metrics, per-scenario progress."""

from __future__ import annotations

from svc_conformance.reports.document import build_document
from svc_conformance.reports.outcomes import ItemResult, not_run_result


def merge_facts(into: dict, facts: dict) -> None:
    """Nested merge: several workers may each report part of the facts."""
    for key, value in facts.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_facts(into[key], value)
        else:
            into[key] = value


class RunRecorder:
    def __init__(self, run_id: str, started: str):
        self.run_id = run_id
        self.started = started
        self.items: dict[str, ItemResult] = {}
        self.cluster: dict = {}
        self.metrics: list[dict] = []
        # scenario -> nodeids of its check items, learnt from collection (for progress lines)
        self.scenario_items: dict[str, set[str]] = {}
        # nodeid -> user_properties of every collected check item (a result even if it never ran)
        self.collected_checks: dict[str, dict] = {}
        self._announced: set[str] = set()

    def receive(self, message: dict) -> None:
        kind = message.get("kind")
        if kind == "facts":
            merge_facts(self.cluster, message.get("facts") or {})
        elif kind == "metric":
            self.metrics.append({k: v for k, v in message.items() if k != "kind"})
        elif kind == "collection":
            for scenario, nodeids in (message.get("scenarios") or {}).items():
                self.scenario_items.setdefault(scenario, set()).update(nodeids)
            for nodeid, props in (message.get("checks") or {}).items():
                self.collected_checks.setdefault(nodeid, dict(props))

    def add_report(self, report) -> ItemResult:
        item = self.items.get(report.nodeid)
        if item is None:
            item = self.items[report.nodeid] = ItemResult(report.nodeid)
        item.add_phase(report)
        return item

    def progress_line(self, item: ItemResult) -> str | None:
        """``[scenario] k/n checks done, failed=x`` once, when a scenario's last check finished."""
        scenario = item.props.get("scenario")
        nodeids = self.scenario_items.get(scenario)
        if not item.finished or not nodeids or scenario in self._announced:
            return None
        done = [self.items[n] for n in nodeids if n in self.items and self.items[n].finished]
        if len(done) < len(nodeids):
            return None
        self._announced.add(scenario)
        failed = sum(1 for i in done if i.outcome == "failed")
        return f"[{scenario}] {len(done)}/{len(nodeids)} checks done, failed={failed}"

    def results(self) -> list[dict]:
        """One result per check item that reported, plus one ``skipped`` "not run" result per collected
        check item that never did (``-x``, ``--maxfail``, a stopped run): an unrun check is no pass."""
        results = [item.to_dict() for item in self.items.values() if item.is_check]
        reported = set(self.items)
        results += [not_run_result(nodeid, props) for nodeid, props in self.collected_checks.items()
                    if nodeid not in reported and props.get("check")]
        return results

    def other_failures(self) -> int:
        """Failed items that are no checks (a run mixing the suite with other tests)."""
        return sum(1 for item in self.items.values() if not item.is_check and item.outcome == "failed")

    def has_content(self) -> bool:
        return bool(self.cluster or self.metrics or any(i.is_check for i in self.items.values()))

    def document(self, finished: str, supported_features: dict | None = None, tool: dict | None = None) -> dict:
        return build_document(run_id=self.run_id, started=self.started, finished=finished,
                              cluster=self.cluster, results=self.results(), metrics=self.metrics,
                              supported_features=supported_features, tool=tool)
