"""Top-level pytest configuration: the suite's fixtures and the report plugin.

pytest loads plugins named here for every run from the repository root (`pytest conformance/`,
`pytest tests/`); plugin modules keep their own options in named groups.
"""

pytest_plugins = [
    "pytester",               # the project's own tests of reports.plugin run small pytest sessions
    "reports.plugin",
    "fixtures.options",
    "fixtures.cluster",
    "fixtures.namespaces",
    "fixtures.scenarios",
]
