import re
from pathlib import Path

import pytest

from svc_conformance.checks import catalogue

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
                                               "SRV target's address may be in the Additional section",
                                               feature="SRVAdditionalSection")
    for cid, c in checks.items():
        assert c.id == cid
        assert c.area == cid.split("-")[0]
        assert c.level in ("core", "extended")
        assert c.title and "\n" not in c.title and len(c.title) <= 140
        assert bool(c.feature) == (c.level == "extended"), cid  # exactly the extended checks name a feature


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


def test_every_extended_check_names_a_distinct_feature():
    features = catalogue.features()
    extended = [c.id for c in catalogue.load().values() if c.level == "extended"]
    assert sorted(i for ids in features.values() for i in ids) == sorted(extended)
    assert features["LargeEndpointSets"] == ("EPS-07",) and features["HeadlessLabelIgnored"] == ("PROXY-04",)
    assert features["PodARecords"] == ("POD-09",) and features["SRVAdditionalSection"] == ("DNS-07",)
    assert all(len(ids) == 1 for ids in features.values())


def test_resolve_features_by_name_or_check_id():
    assert catalogue.resolve_features([]) == {}
    assert catalogue.resolve_features(["LargeEndpointSets"]) == {"LargeEndpointSets": ("EPS-07",)}
    # A check ID, any case, and comma-separated lists; the result is in catalogue order, once each.
    assert catalogue.resolve_features(["proxy-04,podarecords", "EPS-07", "LargeEndpointSets"]) == {
        "PodARecords": ("POD-09",), "LargeEndpointSets": ("EPS-07",), "HeadlessLabelIgnored": ("PROXY-04",)}
    assert catalogue.resolve_features([], all_features=True) == catalogue.features()


def test_unknown_or_core_feature_is_rejected_naming_the_valid_ones():
    with pytest.raises(catalogue.UnknownFeature, match=r"unknown feature 'Nope'.*LargeEndpointSets \(EPS-07\)"):
        catalogue.resolve_features(["Nope"])
    with pytest.raises(catalogue.UnknownFeature, match="DNS-03 is a core check, always required"):
        catalogue.resolve_features(["dns-03"])


def test_feature_rules_are_enforced_on_load(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("checks:\n  - {id: DNS-07, level: extended, area: DNS, title: x}\n")
    with pytest.raises(ValueError, match="needs a CamelCase feature name"):
        catalogue.load(bad)
    bad.write_text("checks:\n  - {id: DNS-01, level: core, area: DNS, feature: Foo, title: x}\n")
    with pytest.raises(ValueError, match="names no feature"):
        catalogue.load(bad)


def test_catalogue_page_has_one_anchor_per_check():
    import html
    from svc_conformance.reports import catalogue_html
    page = catalogue_html.render_catalogue()
    for check in catalogue.load().values():
        assert page.count(f'<tr id="{check.id}" class="{check.level}">') == 1
        assert html.escape(check.title) in page
    assert catalogue_html.link("PROXY-01") == "catalogue.html#PROXY-01"
