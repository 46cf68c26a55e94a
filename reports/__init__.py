"""Report builders for the Service conformance suite.

- ``reports.plugin``: the pytest plugin that records one result per check and writes the outputs.
- ``reports.document``: builds ``conformance.json`` (counts, profile roll-up) from results.
- ``reports.summary_html``: the self-contained ``summary.html`` page.
- ``reports.allure_html``: offline Allure HTML through the pinned Allure CLI (``svc-conformance report allure``).
"""
