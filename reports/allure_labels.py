"""Allure labels for a conformance item, from its user_properties (only when allure-pytest is active)."""

from __future__ import annotations

import allure

from svc_conformance.reports import catalogue_html


def allure_active(config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


def suite_marks(props: dict) -> list:
    """The Suites tree reads like the catalogue: area > scenario > check. As collection-time marks, because
    allure-pytest fills parentSuite/suite/subSuite from the module and class unless marks name them."""
    check = props.get("check")
    if not check:
        return []
    return [allure.parent_suite(props.get("area") or check.split("-", 1)[0]),
            allure.suite(props.get("scenario") or "-"), allure.sub_suite(check)]


def label_item(props: dict, blocked: bool = False) -> None:
    """Label the current Allure test case so the report can be filtered by check, level, family, mode.

    A blocked check keeps Allure's status ``skipped`` (with the reason as its message) and is labelled
    ``outcome=blocked`` and tagged ``blocked`` so it can be told from a plain skip."""
    check = props.get("check")
    if not check:
        return
    level = props.get("level", "unknown")
    family = f" [{props['ip_family']}]" if props.get("ip_family") not in (None, "", "-") else ""
    if props.get("statement"):
        allure.dynamic.title(f"{check}{family}: {props['statement']}")
        allure.dynamic.description(f"**{check}** ({level}): {props['statement']}\n\nscenario "
                                   f"`{props.get('scenario', '-')}`, family `{props.get('ip_family', '-')}`")
    allure.dynamic.link(catalogue_html.link(check), name=f"{check} in the check catalogue")
    allure.dynamic.label("check", check)
    allure.dynamic.label("level", level)
    allure.dynamic.severity(allure.severity_level.CRITICAL if level == "core" else allure.severity_level.NORMAL)
    if props.get("area"):
        allure.dynamic.epic(props["area"])
    if props.get("feature"):
        allure.dynamic.feature(props["feature"])
    if props.get("scenario"):
        allure.dynamic.story(props["scenario"])
    for key in ("ip_family", "proxy_mode"):
        if props.get(key):
            allure.dynamic.label(key, props[key])
    tags = [check, level] + [f"{key}:{props[key]}" for key in ("ip_family", "proxy_mode") if props.get(key)]
    if blocked:
        allure.dynamic.label("outcome", "blocked")
        tags.append("blocked")
    allure.dynamic.tag(*tags)
