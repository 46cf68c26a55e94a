"""The sub-packages of conformance/ import downward only (their __init__ docstrings say so): core imports
nothing of the suite, cluster only core, dnsview and proxyview core and cluster (not each other), checks
those four. Every import counts, also one inside a function. The entry points at the top of conformance/
(test_conformance.py, conftest.py, pytest_plugin.py, __main__.py), scenarios/, fixtures/ and reports/ may
import any layer; no layer imports them."""

import ast
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "conformance"
ALLOWED = {
    "core": set(),
    "cluster": {"core"},
    "dnsview": {"core", "cluster"},
    "proxyview": {"core", "cluster"},
    "checks": {"core", "cluster", "dnsview", "proxyview"},
}
ENTRY_POINTS = {"__init__.py", "__main__.py", "conftest.py", "pytest_plugin.py", "test_conformance.py"}


def suite_imports(path: Path) -> set[str]:
    """The svc_conformance modules (or packages) a file imports, by their first name below svc_conformance:
    `from svc_conformance.cluster import kube` -> "cluster", `from svc_conformance import core` -> "core"."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the suite imports svc_conformance...)"
            parts = (node.module or "").split(".")
            if parts[0] == "svc_conformance":
                found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "svc_conformance":
                    found.add(parts[1] if len(parts) > 1 else "svc_conformance")
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer):
    modules = sorted((SUITE / layer).glob("*.py"))
    assert modules, f"no modules in conformance/{layer}/"
    wrong = {f"{layer}/{m.name}": sorted(suite_imports(m) - ALLOWED[layer] - {layer}) for m in modules}
    assert not {name: found for name, found in wrong.items() if found}, \
        f"conformance/{layer}/ may import only {sorted(ALLOWED[layer]) or 'nothing of the suite'}"


def test_every_layer_says_what_it_may_import():
    for layer, allowed in ALLOWED.items():
        doc = ast.get_docstring(ast.parse((SUITE / layer / "__init__.py").read_text()))
        assert doc and "\n" not in doc and "import" in doc, layer
        assert all(name in doc for name in allowed), (layer, doc)


def test_library_modules_live_in_a_layer():
    """Beside the entry points, conformance/ holds only the layers and scenarios/ (a new module goes into one)."""
    assert {p.name for p in SUITE.glob("*.py")} == ENTRY_POINTS
    assert {p.name for p in SUITE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == \
        set(ALLOWED) | {"scenarios"}


def test_the_parser_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nimport svc_conformance.cluster.kube\nfrom svc_conformance import core, checks\n"
                      "from svc_conformance.dnsview.dnswire import ask\n"
                      "def f():\n    from svc_conformance.proxyview import inspector\n")
    assert suite_imports(sample) == {"cluster", "core", "checks", "dnsview", "proxyview"}
