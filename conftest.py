"""Top-level pytest configuration of the repository.

The suite's fixtures and the report plugin come from the installed package (`pip install -e .`):
its `pytest11` entry point (svc_conformance.pytest_plugin) loads them for every run, from the
repository root (`pytest conformance/`, `pytest tests/`) or anywhere else. Listing them here too
would load them twice.
"""

pytest_plugins = [
    "pytester",               # the project's own tests of the report plugin run small pytest sessions
]
