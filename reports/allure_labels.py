"""Allure labels for a conformance item, from its user_properties (only when allure-pytest is active)."""

from __future__ import annotations

import allure


def allure_active(config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


def label_item(props: dict, blocked: bool = False) -> None:
    """Label the current Allure test case so the report can be filtered by check, level, family, mode.

    A blocked check keeps Allure's status ``skipped`` (with the reason as its message) and is labelled
    ``outcome=blocked`` and tagged ``blocked`` so it can be told from a plain skip."""
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
    if blocked:
        allure.dynamic.label("outcome", "blocked")
        tags.append("blocked")
    allure.dynamic.tag(*tags)
