"""The suite's entry point: one test per (scenario, check ID, IP family).

Test ids read `<scenario>/<check>/<family>`, stable across renames of the check functions; markers
carry the level (core/extended), the area and `slow`, so `-m`, `-k` and features select.
"""

import pytest

from conformance import catalogue
from conformance.scenario import FAMILIES
from conformance.scenarios import ALL


def _params():
    checks = catalogue.load()
    for scenario in ALL.values():
        for spec in scenario.checks:
            meta = checks[spec.id]
            marks = [getattr(pytest.mark, meta.level), getattr(pytest.mark, meta.area.lower()),
                     pytest.mark.xdist_group(scenario.name)]
            if scenario.slow:
                marks.append(pytest.mark.slow)
            for family in (FAMILIES if spec.per_family else ("-",)):
                yield pytest.param(scenario.name, spec, family, marks=marks,
                                   id=f"{scenario.name}/{spec.id}/{family}")


@pytest.mark.parametrize("scenario_name,spec,family", list(_params()))
def test_check(scenario_name, spec, family, scenario_context):
    spec.run(scenario_context, family)
