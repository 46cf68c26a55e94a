"""Labels every check item for the reports at collection time (user_properties travel with xdist)."""

from svc_conformance.checks import catalogue
from svc_conformance.scenarios import ALL


def pytest_collection_modifyitems(items):
    for item in items:
        params = getattr(item, "callspec", None) and item.callspec.params
        if not params or "spec" not in params:
            continue
        spec, name = params["spec"], params["scenario_name"]
        meta = catalogue.get(spec.id)
        item.user_properties += [("check", spec.id), ("scenario", name), ("ip_family", params["family"]),
                                 ("level", meta.level), ("area", meta.area), ("statement", meta.title),
                                 ("feature", spec.feature or ",".join(ALL[name].features))]
