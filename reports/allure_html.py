"""Offline Allure HTML from ``allure-results`` with the Allure 3 CLI pinned in reports/package.json.

Outputs (next to the other reports):
- ``<out>/allure/index.html``: the multi-file report (serve the directory over HTTP to browse it);
- ``<out>/allure-single.html``: the same report as one file that opens from disk.

The CLI is installed on first use with ``npm ci`` into ``reports/node_modules`` (git-ignored) of a
checkout; an installed package (wheel) does not ship it, and says so in one line.
Analytics are off: the CLI runs with ``ALLURE_NO_ANALYTICS=true`` / ``DO_NOT_TRACK=1``, and the
analytics snippet the "awesome" report template always emits is removed from the HTML, which is
then checked to load no script or stylesheet from the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from svc_conformance.reports import catalogue_html

PACKAGE_DIR = Path(__file__).resolve().parent
ALLURE_BIN = PACKAGE_DIR / "node_modules" / ".bin" / "allure"
REPORT_NAME = "Service conformance"
# The tree reads like the catalogue: area > scenario > check (labels set by reports.allure_labels).
TREE_LEVELS = ("parentSuite", "suite", "subSuite")

# The template's analytics block: an async gtag loader followed by its inline config script.
_ANALYTICS = re.compile(
    r'<script async src="https://www\.googletagmanager\.com/[^"]*"></script>\s*<script>[^<]*?gtag\([^<]*?</script>',
    re.S)
# A script or stylesheet fetched from the network would make the page depend on being online.
_REMOTE_ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"', re.I)


class AllureError(Exception):
    """Report generation failed; the message is one line for the user."""


def quiet_env() -> dict:
    env = dict(os.environ)
    env.update({"ALLURE_NO_ANALYTICS": "true", "DO_NOT_TRACK": "1", "NO_UPDATE_NOTIFIER": "1",
                "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"})
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def ensure_cli(install: bool = True) -> Path:
    """The pinned allure executable, installed from package-lock.json when missing."""
    if ALLURE_BIN.exists():
        return ALLURE_BIN
    if not (PACKAGE_DIR / "package-lock.json").is_file():
        raise AllureError("Allure CLI not available: the installed package does not ship it (a checkout's "
                          "reports/ installs it with `npm ci`); the other reports are written")
    if not install:
        raise AllureError(f"Allure CLI not installed; run `npm ci` in {PACKAGE_DIR}")
    npm = shutil.which("npm")
    if npm is None:
        raise AllureError("npm not found; install Node.js >= 20 to generate the Allure HTML")
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PACKAGE_DIR, env=quiet_env(),
                          capture_output=True, text=True)
    if proc.returncode != 0 or not ALLURE_BIN.exists():
        raise AllureError(f"npm ci failed in {PACKAGE_DIR}: {_last_line(proc.stderr)}")
    return ALLURE_BIN


def _run_generate(cli: Path, results_dir: Path, out_dir: Path, single_file: bool, history: Path) -> Path:
    # historyPath: Allure appends this run to that file and draws history and trend from what it holds.
    config = {"name": REPORT_NAME, "historyPath": str(history),
              "plugins": {"awesome": {"options": {"singleFile": single_file, "reportName": REPORT_NAME,
                                                  "groupBy": list(TREE_LEVELS)}}}}
    with tempfile.TemporaryDirectory(prefix="allurerc-") as tmp:
        rc = Path(tmp, "allurerc.json")
        rc.write_text(json.dumps(config), encoding="utf-8")
        # cwd = the temp dir, so the CLI finds no other config and leaves nothing behind in the repo.
        proc = subprocess.run([str(cli), "generate", str(results_dir), "-c", str(rc), "-o", str(out_dir)],
                              cwd=tmp, env=quiet_env(), capture_output=True, text=True)
    index = out_dir / "index.html"
    if proc.returncode != 0 or not index.exists():
        raise AllureError(f"allure generate failed (exit {proc.returncode}): "
                          f"{_last_line(proc.stderr) if proc.stderr.strip() else _last_line(proc.stdout)}")
    return index


def make_offline(index: Path) -> None:
    html = _ANALYTICS.sub("", index.read_text(encoding="utf-8"))
    remote = _REMOTE_ASSET.findall(html)
    if remote or "googletagmanager" in html:
        raise AllureError(f"{index} still loads remote assets: {(remote or ['googletagmanager'])[0]}")
    index.write_text(html, encoding="utf-8")


def has_results(results_dir: Path) -> bool:
    return results_dir.is_dir() and any(results_dir.glob("*-result.json"))


HISTORY_FILE = "allure-history.jsonl"


def generate_allure_html(results_dir: Path, out_dir: Path, install: bool = True,
                         previous_history: Path | None = None) -> tuple[Path, Path]:
    """Build ``out_dir/allure/index.html`` and ``out_dir/allure-single.html``; raise AllureError on failure.

    ``out_dir/allure-history.jsonl`` keeps the runs' history: it starts from ``previous_history`` (a
    previous run's file) when given, and this run is appended once (the single file reads a copy)."""
    results_dir, out_dir = Path(results_dir).resolve(), Path(out_dir).resolve()
    history = out_dir / HISTORY_FILE
    if previous_history is not None and Path(previous_history).resolve() != history:
        if not Path(previous_history).is_file():
            raise AllureError(f"no Allure history at {previous_history}")
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(previous_history, history)
    if not has_results(results_dir):
        raise AllureError(f"no Allure results in {results_dir} (run pytest with --report-dir first)")
    cli = ensure_cli(install)
    multi_dir = out_dir / "allure"
    shutil.rmtree(multi_dir, ignore_errors=True)
    before = history.read_bytes() if history.exists() else b""
    multi_index = _run_generate(cli, results_dir, multi_dir, single_file=False, history=history)
    make_offline(multi_index)
    # Each check's "statement" link is relative (catalogue.html#ID): the multi-file report gets its own copy.
    catalogue_page = catalogue_html.render_catalogue()
    for where in (multi_dir, out_dir):      # out_dir: also when `report allure --out` is not the run's report dir
        (where / catalogue_html.FILE_NAME).write_text(catalogue_page, encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="allure-single-") as tmp:
        Path(tmp, HISTORY_FILE).write_bytes(before)
        single_index = _run_generate(cli, results_dir, Path(tmp, "report"), single_file=True,
                                     history=Path(tmp, HISTORY_FILE))
        make_offline(single_index)
        single = out_dir / "allure-single.html"
        shutil.move(single_index, single)
    return multi_index, single
