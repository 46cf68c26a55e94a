"""The suite's entry point: one test per (scenario, check ID, IP family).

Each scenario is a test class (`TestScenario_<name>`), so `pytest -n auto --dist loadscope` keeps a
scenario on one worker (its namespace is deployed once). Test ids end in
`[<scenario>/<check>/<family>]`, stable across renames of the check functions; markers carry the level
(core/extended), the area and `slow`, so `-m`, `-k` and features select.
"""

import pytest

from svc_conformance.checks import catalogue
from svc_conformance.checks.scenario import FAMILIES
from svc_conformance.core.outcomes import BLOCKED_PREFIX, CheckFailed
from svc_conformance.scenarios import ALL


def _params(scenario):
    checks = catalogue.load()
    for spec in scenario.checks:
        meta = checks[spec.id]
        marks = [getattr(pytest.mark, meta.level), getattr(pytest.mark, meta.area.lower())]
        if scenario.slow:
            marks.append(pytest.mark.slow)
        for family in (FAMILIES if spec.per_family else ("-",)):
            yield pytest.param(scenario.name, spec, family, marks=marks, id=f"{scenario.name}/{spec.id}/{family}")


def _scenario_class(scenario):
    @pytest.mark.parametrize("scenario_name,spec,family", list(_params(scenario)))
    def test_check(self, scenario_name, spec, family, scenario_context):
        try:
            spec.run(scenario_context, family)
        except CheckFailed as failure:
            # Every FAIL carries its statement with expected vs observed, whatever else it attached.
            scenario_context.attach("failure", {"statement": failure.statement, "expected": failure.expected,
                                                "observed": failure.observed})
            if "expected" not in scenario_context.attached:     # DNS checks attach richer ones
                scenario_context.attach("expected", failure.expected)
                scenario_context.attach("observed", failure.observed)
            scenario_context.troubled()
            raise
        except pytest.skip.Exception as skip:
            if str(skip.msg).startswith(BLOCKED_PREFIX):
                scenario_context.troubled()
            raise
        except Exception:
            scenario_context.troubled()
            raise

    return type(f"TestScenario_{scenario.name.replace('-', '_')}", (), {
        "__doc__": scenario.description, "test_check": test_check})


for _scenario in ALL.values():
    globals()[_scenario_class(_scenario).__name__] = _scenario_class(_scenario)
