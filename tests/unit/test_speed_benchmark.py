"""benchmarks/speed.py's summary (goal, before, now, met), fed with the figures of a real run of it on
the local cluster (2026-11-30 12:59-13:22, session 7, 1 node, iptables/IPv4: data/speed_figures.json)."""

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import speed  # noqa: E402

FIGURES = json.loads((Path(__file__).parent / "data" / "speed_figures.json").read_text())


def _rows(figures):
    return {figure: (now, met) for figure, _goal, _before, now, met in speed.summary(figures)}


def test_the_recorded_run_meets_every_goal():
    rows = _rows(FIGURES)
    assert {figure: met for figure, (_, met) in rows.items()} == {
        "healthy full matrix (svc-conformance run)": "met",
        "fault cluster-dns-down (suite time)": "met",
        "fault kube-proxy-stopped (suite time)": "met",
        "beside upstream e2e": "met",
        "k copies, 1 node(s), 2k workers": "met",
        "k copies, 3 node(s), 2k workers": "met",
    }
    assert rows["fault cluster-dns-down (suite time)"][0].startswith("122 s vs 69 s healthy = 1.77 x")
    assert rows["beside upstream e2e"][0].startswith("suite 48 s / e2e 178 s (13 specs) = 0.27")
    assert "13 agree, 0 disagree" in rows["beside upstream e2e"][0]


def test_a_suite_over_a_third_of_upstream_e2e_is_not_met():
    figures = copy.deepcopy(FIGURES)
    figures["e2e"]["ratio_suite_to_e2e"] = 0.36
    assert _rows(figures)["beside upstream e2e"][1] == "NOT met"


def test_the_summary_is_what_the_run_stored():
    stored = [(r["figure"], r["goal"], r["before"], r["now"], r["met"]) for r in FIGURES["summary"]]
    assert speed.summary(FIGURES) == stored


def test_a_fault_whose_outcome_map_differs_is_not_met_however_fast():
    figures = copy.deepcopy(FIGURES)
    figures["faults"]["kube-proxy-stopped"]["outcome_map_as_expected"] = False
    now, met = _rows(figures)["fault kube-proxy-stopped (suite time)"]
    assert met == "NOT met" and "DIFFERS" in now


def test_a_fault_run_over_twice_the_healthy_one_is_not_met():
    figures = copy.deepcopy(FIGURES)
    figures["faults"]["cluster-dns-down"]["suite_s"] = 2.1 * figures["faults"]["healthy_suite_s"]
    assert _rows(figures)["fault cluster-dns-down (suite time)"][1] == "NOT met"


def test_a_disagreeing_spec_fails_the_upstream_goal_even_at_a_good_ratio():
    figures = copy.deepcopy(FIGURES)
    figures["e2e"]["ratio_suite_to_e2e"] = 0.2
    assert _rows(figures)["beside upstream e2e"][1] == "met"
    figures["e2e"]["specs"][0]["agree"] = False
    assert _rows(figures)["beside upstream e2e"][1] == "NOT met"


def test_only_the_steps_that_ran_are_summarised():
    figures = {k: v for k, v in FIGURES.items() if k in ("matrix",)}
    assert [row[0] for row in speed.summary(figures)] == ["healthy full matrix (svc-conformance run)"]
