"""Report builders for the Service conformance suite.

- ``reports.plugin``: the pytest plugin that records one result per check and writes the outputs; its hooks are
  thin over ``reports.recording`` (state, public API, results), ``reports.writing`` (the outputs at session end)
  and ``reports.exit_status`` (the verdict's exit status).
- ``reports.document``: builds ``conformance.json`` (counts, profile roll-up) from results.
- ``reports.summary_html``: the self-contained ``summary.html`` page.
- ``reports.allure_html``: offline Allure HTML through the pinned Allure CLI (``svc-conformance report allure``).
"""
