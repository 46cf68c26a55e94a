"""Write conformance.json / conformance.yaml / junit.xml / summary.html into the report directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from svc_conformance.reports import catalogue_html
from svc_conformance.reports.junit import render_junit
from svc_conformance.reports.summary_html import render_summary


def load_previous(path: str | Path | None) -> dict | None:
    """A previous conformance.json, or None (with one warning line) when it cannot be read."""
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"conformance reports: ignoring previous results {path}: {exc}", file=sys.stderr)
        return None


def write_summary(doc: dict, path: Path, previous: dict | None = None) -> Path:
    path.write_text(render_summary(doc, previous), encoding="utf-8")
    return path


def write_outputs(doc: dict, report_dir: Path, previous: dict | None = None) -> list[Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        "conformance.json": json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
        "conformance.yaml": yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
        "junit.xml": render_junit(doc),
        catalogue_html.FILE_NAME: catalogue_html.render_catalogue(),   # the target of "statement" links
    }
    written = []
    for name, text in outputs.items():
        path = report_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    written.append(write_summary(doc, report_dir / "summary.html", previous))
    return written
