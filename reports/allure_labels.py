"""Allure labels for a conformance item, from its user_properties (only when allure-pytest is active)."""

from __future__ import annotations

import allure


def allure_active(config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


def label_item(props: dict) -> None:
    """Label the current Allure test case so the report can be filtered by check, level, family, mode."""
    check = props.get("check")
    if not check:
        return
    level = props.get("level", "unknown")
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
    allure.dynamic.tag(*tags)
