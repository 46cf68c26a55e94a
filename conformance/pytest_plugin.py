"""The pytest plugin of the installed package (entry point `pytest11`, name `svc_conformance`).

It loads the report plugin and the suite's fixture plugins for every pytest run in an environment
where svc-conformance is installed (also `pip install -e .`); `-p no:svc_conformance` turns it off.
The repository's root conftest.py therefore does not list them again.
"""

pytest_plugins = [
    "svc_conformance.reports.plugin",
    "svc_conformance.fixtures.options",
    "svc_conformance.fixtures.cluster",
    "svc_conformance.fixtures.namespaces",
    "svc_conformance.fixtures.scenarios",
]
