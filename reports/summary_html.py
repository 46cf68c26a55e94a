"""summary.html: one self-contained page (inline CSS, JS and SVG, no external URL).

Layout: cluster facts and profile roll-up, then a matrix with one row per scenario (per
scenario × ip family when the run has several families) and one column per check ID. Every
result is exactly one ``<a class="cell" data-outcome=...>`` linking to its evidence section
``#r-<index>`` (index into ``results``). Then the diff against a previous run, the DNS
convergence plot, and the evidence sections.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from svc_conformance.reports import catalogue_html
from svc_conformance.reports.diff import compare_runs
from svc_conformance.reports.document import check_sort_key, count_outcomes, document_verdict, roll_up_profiles
from svc_conformance.reports.svg_plot import convergence_plot

SYMBOLS = {"passed": "✓", "failed": "✗", "skipped": "–", "not-supported": "∅", "blocked": "⊘"}
VERDICT_TEXT = {
    "conformant": ("ok", "conformant: every core check passed or is not supported"),
    "non-conformant": ("bad", "not conformant: a core check (or a declared feature) failed"),
    "incomplete": ("warn", "incomplete: core checks were blocked, skipped or errored; not a conformance result"),
}

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff}
.ok{background:#2e7d32}.bad{background:#c62828}.warn{background:#6a4c93}
.matrix th.check{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;padding:4px 2px}
.matrix th.ext{font-style:italic;color:#666}.matrix td{text-align:center;padding:1px}
.cell{display:inline-block;width:1.6em;height:1.6em;line-height:1.6em;text-decoration:none;color:#fff;
border-radius:3px;font-weight:bold}
.cell[data-outcome=passed],.o-passed{background:#2e9d4f}.cell[data-outcome=failed],.o-failed{background:#d0342c}
.cell[data-outcome=skipped],.o-skipped{background:#9aa0a6}
.cell[data-outcome=not-supported],.o-not-supported{background:#e3a21a}
.cell[data-outcome=blocked],.o-blocked{background:#6a4c93}
body.hide-passed .cell[data-outcome=passed],body.hide-skipped .cell[data-outcome=skipped],
body.hide-not-supported .cell[data-outcome=not-supported],body.hide-failed .cell[data-outcome=failed],
body.hide-blocked .cell[data-outcome=blocked]{opacity:.12}
.badge{padding:0 6px;border-radius:3px;color:#fff}
.r-success{background:#2e9d4f}.r-failure{background:#d0342c}.r-partial{background:#e3a21a}
.r-incomplete{background:#6a4c93}
.legend label{margin-right:1em}
.evidence{border:1px solid #ddd;border-radius:4px;padding:.5em 1em;margin:.8em 0}
.evidence:target{outline:3px solid #1565c0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#f6f8fa;padding:.5em;overflow:auto;max-height:24em;white-space:pre-wrap;margin:.2em 0}
.plot text{font-size:12px;fill:#333}.plot .grid{stroke:#e0e0e0}.plot .dot{fill:#1565c0;fill-opacity:.75}
"""

# Dim the cells of outcomes unticked in the legend.
JS = """
document.querySelectorAll('.legend input').forEach(function (box) {
  box.addEventListener('change', function () {
    document.body.classList.toggle('hide-' + box.value, !box.checked);
  });
});
"""


def _text(value) -> str:
    return escape("" if value is None else str(value))


def _facts_table(doc: dict) -> str:
    cluster = doc.get("cluster") or {}
    dns = cluster.get("dns") or {}
    rows = [("run id", doc.get("run_id")), ("started", doc.get("started")), ("finished", doc.get("finished")),
            ("server version", cluster.get("server_version")),
            ("DNS", f"{dns.get('implementation', '?')} {dns.get('version', '')}".strip()),
            ("proxy mode", cluster.get("proxy_mode")),
            ("IP families", ", ".join(cluster.get("ip_families") or []))]
    known = {"server_version", "dns", "proxy_mode", "ip_families"}
    rows += [(key, value) for key, value in cluster.items() if key not in known]
    body = "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def _profiles_table(doc: dict) -> str:
    profiles = doc.get("profiles") or roll_up_profiles(doc.get("results", []))
    columns = ("passed", "failed", "errored", "skipped", "not-supported", "blocked")
    head = "<tr><th>area</th><th>level</th><th>result</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    body = "".join(
        f"<tr><td>{_text(p['name'])}</td><td>{_text(p['level'])}</td>"
        f"<td><span class='badge r-{_text(p['result'])}'>{_text(p['result'])}</span></td>"
        + "".join(f"<td>{_text(p.get(c, 0))}</td>" for c in columns) + "</tr>"
        for p in profiles)
    return f'<table class="profiles">{head}{body}</table>'


def _cell(index: int, result: dict) -> str:
    outcome = result["outcome"]
    title = f"{result['check']} · {result.get('scenario')} · {result.get('ip_family')}: {outcome}"
    if result.get("reason"):
        title += f" — {result['reason']}"
    return (f'<a class="cell" data-outcome="{_text(outcome)}" href="#r-{index}" '
            f'title="{_text(title)}">{SYMBOLS.get(outcome, "?")}</a>')


def _matrix(results: list[dict]) -> str:
    checks = sorted({r["check"] for r in results}, key=check_sort_key)
    extended = {r["check"] for r in results if r.get("level") == "extended"}
    families = sorted({r.get("ip_family", "-") for r in results})
    per_family = len(families) > 1
    grid: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, result in enumerate(results):
        row = (result.get("scenario", "-"), result.get("ip_family", "-") if per_family else "")
        grid[row][result["check"]].append(index)

    areas: list[list] = []  # [area, colspan] in column order
    for check in checks:
        area = check.split("-", 1)[0]
        if areas and areas[-1][0] == area:
            areas[-1][1] += 1
        else:
            areas.append([area, 1])
    row_heads = 2 if per_family else 1
    head = (f'<tr><th colspan="{row_heads}"></th>'
            + "".join(f'<th colspan="{span}">{_text(area)}</th>' for area, span in areas) + "</tr>"
            + f'<tr><th>scenario</th>{"<th>family</th>" if per_family else ""}'
            + "".join(f'<th class="check{" ext" if c in extended else ""}"><a class="statement" '
                      f'href="{catalogue_html.link(c)}">{_text(c)}</a></th>' for c in checks)
            + "</tr>")
    body = []
    for row in sorted(grid):
        cells = "".join(
            "<td>" + "".join(_cell(i, results[i]) for i in grid[row].get(check, [])) + "</td>" for check in checks)
        family = f"<th>{_text(row[1])}</th>" if per_family else ""
        body.append(f"<tr><th>{_text(row[0])}</th>{family}{cells}</tr>")
    legend = "".join(f'<label><input type="checkbox" value="{o}" checked> <span class="badge o-{o}">'
                     f'{SYMBOLS[o]}</span> {o}</label>' for o in SYMBOLS)
    return (f'<p class="legend">{legend}<span>(italic columns are extended checks; blocked = blocked by '
            f'the environment, e.g. no privileged inspector allowed)</span></p>'
            f'<table class="matrix">{head}{"".join(body)}</table>')


def _diff_section(doc: dict, previous: dict | None) -> str:
    if previous is None:
        return ""
    diff = compare_runs(doc, previous)
    parts = [f"<h2>Compared with run {_text(previous.get('run_id', '?'))}</h2>"]
    for key, title in (("newly_failed", "Newly failed"), ("fixed", "Fixed"), ("flipped", "Flipped")):
        entries = diff[key]
        items = "".join(f"<li>{_text(e['check'])} · {_text(e['scenario'])} · {_text(e['ip_family'])}: "
                        f"{_text(e['before'] or 'absent')} → {_text(e['after'])}</li>" for e in entries)
        parts.append(f'<h3>{title} ({len(entries)})</h3><ul class="diff-{key}">{items or "<li>none</li>"}</ul>')
    return "".join(parts)


BUNDLE = "logs bundle"       # evidence naming the scenario's logs archive (conformance/checks/bundle.py)


def _evidence_section(index: int, result: dict) -> str:
    evidence = {e["name"]: e["content"] for e in result.get("evidence", ())}
    pair = ""
    if "expected" in evidence or "observed" in evidence:
        pair = ('<div class="pair">'
                + "".join(f"<div><h4>{name}</h4><pre>{_text(evidence.get(name, '(not recorded)'))}</pre></div>"
                          for name in ("expected", "observed")) + "</div>")
    others = "".join(f"<details><summary>{_text(name)}</summary><pre>{_text(content)}</pre></details>"
                     for name, content in evidence.items() if name not in ("expected", "observed", BUNDLE))
    if BUNDLE in evidence:      # "<relative path> (what it holds)": the archive sits next to summary.html
        path, _, what = str(evidence[BUNDLE]).partition(" ")
        others = (f'<p class="bundle"><b>logs bundle:</b> <a href="{_text(path)}">{_text(path)}</a> '
                  f"{_text(what)}</p>") + others
    outcome = result["outcome"]
    return (f'<section class="evidence" id="r-{index}">'
            f"<h3>{_text(result['check'])} · {_text(result.get('scenario'))} · {_text(result.get('ip_family'))} "
            f"<span class='badge o-{_text(outcome)}'>{_text(outcome)}</span></h3>"
            f"<p>level {_text(result.get('level'))}, area {_text(result.get('area'))}, "
            f"{_text(result.get('duration_s', 0))} s, <code>{_text(result.get('nodeid'))}</code></p>"
            f"<p><b>reason:</b> {_text(result.get('reason') or '—')}</p>{pair}{others}</section>")


def render_summary(results_doc: dict, previous: dict | None = None) -> str:
    results = results_doc.get("results", [])
    counts = results_doc.get("summary") or count_outcomes(results)
    css, text = VERDICT_TEXT.get(document_verdict(results_doc), ("bad", "unknown verdict"))
    verdict = f'<span class="verdict {css}" data-verdict="{_text(document_verdict(results_doc))}">{_text(text)}</span>'
    declared = results_doc.get("supported_features") or []
    features = (f"<p>Declared supported features (judged like core checks): {_text(', '.join(declared))}</p>"
                if declared else "<p>No extended feature declared supported: extended results are reported only.</p>")
    plot = convergence_plot(results_doc.get("metrics") or []) or "<p>No DNS convergence metrics recorded.</p>"
    totals = ", ".join(f"{key} {counts.get(key, 0)}" for key in SYMBOLS)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Service conformance {_text(results_doc.get('run_id', ''))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Service conformance — run {_text(results_doc.get('run_id', '?'))}</h1>",
        f"<p>{verdict} &nbsp; {counts.get('total', len(results))} results: {totals}</p>",
        features,
        "<h2>Cluster</h2>", _facts_table(results_doc),
        "<h2>Profiles</h2>", _profiles_table(results_doc),
        "<h2>Results</h2>", _matrix(results) if results else "<p>No results.</p>",
        _diff_section(results_doc, previous),
        "<h2>DNS convergence</h2>", plot,
        "<h2>Evidence</h2>", "".join(_evidence_section(i, r) for i, r in enumerate(results)),
        f"<script>{JS}</script>",
        "</body></html>",
    ])
