"""``svc-conformance report allure`` (offline Allure HTML), ``summary`` (re-render summary.html) and
``validate`` (check a conformance.json against the report schema); also ``python -m svc_conformance.reports``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_OUT = Path("reports/out")


def _allure(args) -> int:
    from svc_conformance.reports.allure_html import AllureError, generate_allure_html

    out_dir = Path(args.out)
    results = Path(args.results) if args.results else out_dir / "allure-results"
    try:
        multi, single = generate_allure_html(results, out_dir, install=not args.no_install,
                                             previous_history=Path(args.history) if args.history else None)
    except AllureError as exc:
        print(f"reports allure: {exc}", file=sys.stderr)
        return 1
    print(f"Allure HTML: {multi} (serve over HTTP) and {single} (single file)")
    return 0


def _read_document(path: Path, command: str) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"reports {command}: cannot read {path}: {exc}", file=sys.stderr)
        return None


def _summary(args) -> int:
    from svc_conformance.reports.writers import load_previous, write_summary

    results = Path(args.results)
    doc = _read_document(results, "summary")
    if doc is None:
        return 1
    previous = load_previous(args.previous) if args.previous else None
    if args.previous and previous is None:
        return 1
    out = Path(args.out) if args.out else results.with_name("summary.html")
    print(f"summary: {write_summary(doc, out, previous)}")
    return 0


def _validate(args) -> int:
    from svc_conformance.reports.schema import SCHEMA_PATH, schema_errors

    path = Path(args.results)
    doc = _read_document(path, "validate")
    if doc is None:
        return 1
    errors = schema_errors(doc)
    for line in errors:
        print(f"{path}{line}", file=sys.stderr)
    if not errors:
        print(f"{path}: valid ({SCHEMA_PATH.name})")
    return 1 if errors else 0


def main(argv: list[str] | None = None, prog: str = "python -m svc_conformance.reports") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    allure = commands.add_parser("allure", help="generate the Allure HTML offline")
    allure.add_argument("--results", help="allure-results directory (default <out>/allure-results)")
    allure.add_argument("--out", default=str(DEFAULT_OUT), help=f"output directory (default {DEFAULT_OUT})")
    allure.add_argument("--no-install", action="store_true", help="fail instead of running `npm ci` when missing")
    allure.add_argument("--history", metavar="JSONL", help="a previous run's allure-history.jsonl: the report "
                        "then shows history and trend (each run keeps <out>/allure-history.jsonl)")
    allure.set_defaults(run=_allure)

    summary = commands.add_parser("summary", help="re-render summary.html from conformance.json")
    summary.add_argument("--results", required=True, help="conformance.json")
    summary.add_argument("--previous", help="a previous conformance.json to compare with")
    summary.add_argument("--out", help="output file (default summary.html next to --results)")
    summary.set_defaults(run=_summary)

    validate = commands.add_parser("validate", help="check a conformance.json against the report schema")
    validate.add_argument("results", help="conformance.json")
    validate.set_defaults(run=_validate)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
