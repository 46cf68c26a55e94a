import re
from pathlib import Path

import pytest

from conformance import catalogue

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "spec" / "CHECKLIST.md"
# A table row of the spec: "| DNS-01 | core | ..." or "| DNS-12 | core (SHOULD) | ...".
ROW_RE = re.compile(r"^\|\s*((?:DNS|POD|EPS|PROXY|REACH)-\d+)\s*\|\s*([a-z]+)[^|]*\|")


def spec_rows() -> dict[str, str]:
    rows = {}
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        m = ROW_RE.match(line.strip())
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_every_spec_id_is_catalogued_with_same_level():
    if not SPEC.exists():
        pytest.skip(f"spec file absent: {SPEC}")
    rows = spec_rows()
    assert len(rows) >= 40, "spec table parse found too few rows"
    checks = catalogue.load()
    missing = sorted(set(rows) - set(checks))
    assert not missing, f"IDs in CHECKLIST.md but not in checklist.yaml: {missing}"
    wrong = {i: (rows[i], checks[i].level) for i in rows if checks[i].level != rows[i]}
    assert not wrong, f"level differs (spec, yaml): {wrong}"
    extra = sorted(set(checks) - set(rows))
    assert not extra, f"IDs in checklist.yaml but not in the spec: {extra}"


def test_load_shape():
    checks = catalogue.load()
    assert checks["DNS-12"].level == "core"
    assert checks["DNS-07"] == catalogue.Check("DNS-07", "extended", "DNS",
                                               "SRV target's address may be in the Additional section")
    for cid, c in checks.items():
        assert c.id == cid
        assert c.area == cid.split("-")[0]
        assert c.level in ("core", "extended")
        assert c.title and "\n" not in c.title and len(c.title) <= 140


def test_checks_are_frozen_and_load_returns_fresh_dict():
    checks = catalogue.load()
    with pytest.raises(AttributeError):
        checks["DNS-01"].level = "extended"  # type: ignore[misc]
    checks.pop("DNS-01")
    assert "DNS-01" in catalogue.load()


def test_get_known_and_unknown():
    assert catalogue.get("PROXY-01").area == "PROXY"
    with pytest.raises(KeyError, match="unknown check ID 'DNS-99'"):
        catalogue.get("DNS-99")


def test_bad_yaml_is_rejected(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("checks:\n  - {id: DNS-01, level: mandatory, area: DNS, title: x}\n")
    with pytest.raises(ValueError, match="level"):
        catalogue.load(bad)
    bad.write_text("checks:\n  - {id: DNS-01, level: core, area: POD, title: x}\n")
    with pytest.raises(ValueError, match="area"):
        catalogue.load(bad)
    bad.write_text("checks:\n  - {id: DNS-01, level: core, area: DNS, title: x}\n"
                   "  - {id: DNS-01, level: core, area: DNS, title: y}\n")
    with pytest.raises(ValueError, match="duplicate"):
        catalogue.load(bad)
