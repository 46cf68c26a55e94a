"""The JSON Schema of conformance.json (reports/schema/conformance-report-v1.json) and its validation."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema") / "conformance-report-v1.json"


@lru_cache(maxsize=1)
def report_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema_errors(doc: dict) -> list[str]:
    """Every way ``doc`` departs from the schema, one line each (path: message); [] when valid."""
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(report_schema(), format_checker=FormatChecker())
    return [f"/{'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
            for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]
