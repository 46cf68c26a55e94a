"""catalogue.html: the check catalogue as a page with one anchor per check ID.

Every report directory gets one (and the multi-file Allure report a copy beside its index.html), so a
check's "statement" link (`catalogue.html#DNS-03`) opens from disk or a web server, without the
project's repository or a public URL.
"""

from __future__ import annotations

import html

from svc_conformance.checks import catalogue

FILE_NAME = "catalogue.html"


def link(check_id: str) -> str:
    """Relative URL of a check's statement, from any page in the same directory as catalogue.html."""
    return f"{FILE_NAME}#{check_id}"


def render_catalogue(checks=None) -> str:
    checks = list(checks if checks is not None else catalogue.load().values())
    ident = catalogue.identity()
    rows = []
    for area in catalogue.AREAS:
        for check in (c for c in checks if c.area == area):
            feature = f" (feature <code>{html.escape(check.feature)}</code>)" if check.feature else ""
            rows.append(f'<tr id="{html.escape(check.id)}" class="{check.level}"><td><a href="#{check.id}">'
                        f"{html.escape(check.id)}</a></td><td>{area}</td><td>{check.level}{feature}</td>"
                        f"<td>{html.escape(check.title)}</td></tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>svc-conformance check catalogue</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; }}
tr:target {{ background: #fff3b0; }} tr.extended td:nth-child(3) {{ color: #555; }}
</style></head><body>
<h1>Check catalogue</h1>
<p>What each check ID states (core checks decide conformance; extended ones count when their feature is
declared supported). Catalogue {html.escape(ident["digest"])}, {ident["checks"]} checks, DNS spec schema
{html.escape(ident["dns_spec_schema"])}.</p>
<table><thead><tr><th>ID</th><th>area</th><th>level</th><th>what must hold</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
