"""summary.html: one .cell per result, working evidence anchors, diff lists, plot, self-contained."""

import re
from html.parser import HTMLParser

from svc_conformance.reports.summary_html import render_summary
from reports_samples import result, sample_doc


class _Page(HTMLParser):
    """Collects what the tests look at: cells, ids, links, and anything that would load remotely."""

    def __init__(self, html: str):
        super().__init__()
        self.cells, self.ids, self.remote, self.lists = [], set(), [], {}
        self._list = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "cell" in classes:
            self.cells.append(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            if re.match(r"^(https?:)?//", attrs.get(key) or ""):
                self.remote.append(attrs[key])
        if tag == "ul" and any(c.startswith("diff-") for c in classes):
            self._list = classes[0].removeprefix("diff-")
            self.lists[self._list] = []
        if tag == "li" and self._list:
            self.lists[self._list].append("")

    def handle_endtag(self, tag):
        if tag == "ul":
            self._list = None

    def handle_data(self, data):
        if self._list and self.lists[self._list]:
            self.lists[self._list][-1] += data


def test_one_cell_per_result_with_its_outcome():
    doc = sample_doc()
    page = _Page(render_summary(doc, None))
    assert len(page.cells) == len(doc["results"])
    assert sorted(c["data-outcome"] for c in page.cells) == sorted(r["outcome"] for r in doc["results"])


def test_every_cell_links_to_an_existing_evidence_section():
    doc = sample_doc()
    html = render_summary(doc, None)
    page = _Page(html)
    targets = [c["href"] for c in page.cells]
    assert len(set(targets)) == len(targets)
    for target in targets:
        assert target.startswith("#") and target[1:] in page.ids
    # The failed DNS-03 ipv6 result shows expected next to observed in its section.
    index = next(i for i, r in enumerate(doc["results"]) if r["check"] == "DNS-03" and r["ip_family"] == "ipv6")
    section = html.split(f'id="r-{index}"', 1)[1].split("</section>", 1)[0]
    assert "A 10.96.0.10" in section and "A 10.244.1.7" in section and "A record is a pod IP" in section


def test_rows_split_by_family_when_the_run_has_several():
    html = render_summary(sample_doc(), None)
    assert "<th>family</th>" in html
    single = render_summary(sample_doc(results=[result("DNS-03", "a"), result("DNS-09", "a")]), None)
    assert "<th>family</th>" not in single and len(_Page(single).cells) == 2


def test_duplicate_results_still_get_one_cell_each():
    doc = sample_doc(results=[result("DNS-03", "a"), result("DNS-03", "a", outcome="failed")])
    assert [c["data-outcome"] for c in _Page(render_summary(doc, None)).cells] == ["passed", "failed"]


def test_page_is_self_contained():
    html = render_summary(sample_doc(), sample_doc(run_id="old"))
    assert _Page(html).remote == []
    assert "http://" not in html and "https://" not in html
    assert "<script src" not in html and "<link" not in html


def test_convergence_plot_has_one_dot_per_measurement():
    html = render_summary(sample_doc(), None)
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert svg.count("<circle") == 3  # the other_metric is not plotted
    assert "headless-deployment · ipv4" in svg
    assert "No DNS convergence metrics" in render_summary(sample_doc(metrics=[]), None)


def test_diff_sections_against_a_previous_run():
    previous = sample_doc(results=[result("DNS-03", "clusterip-deployment", "ipv6", "passed"),
                                   result("DNS-12", "headless-deployment", "ipv4", "failed"),
                                   result("REACH-01", "headless-deployment", "ipv4", "failed"),
                                   result("POD-09", "headless-deployment", "ipv4", "skipped", level="extended")],
                          run_id="old-run")
    html = render_summary(sample_doc(), previous)
    lists = _Page(html).lists
    assert "Compared with run old-run" in html
    assert [t.split(":")[0] for t in lists["newly_failed"]] == [
        "DNS-03 · clusterip-deployment · ipv6", "PROXY-04 · clusterip-deployment · -"]
    assert [t.split(":")[0] for t in lists["fixed"]] == [
        "DNS-12 · headless-deployment · ipv4", "REACH-01 · headless-deployment · ipv4"]
    assert lists["flipped"] == ["POD-09 · headless-deployment · ipv4: skipped → not-supported"]
    assert "Compared with" not in render_summary(sample_doc(), None)


def test_text_is_escaped():
    evil = result("DNS-03", "<script>alert(1)</script>", reason="<b>x</b>",
                  evidence=[{"name": "observed", "content": "</pre><img src=x>"}])
    html = render_summary(sample_doc(results=[evil]), None)
    assert "<script>alert" not in html and "<img src=x>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_empty_run_renders():
    html = render_summary(sample_doc(results=[], metrics=[]), None)
    assert "No results." in html and _Page(html).cells == []


def test_failed_check_links_its_logs_bundle():
    bundle = [{"name": "logs bundle", "content": "bundles/clusterip-deployment.tar.gz (namespace events, ...)"}]
    doc = sample_doc(results=[result("DNS-03", "clusterip-deployment", outcome="failed", evidence=bundle),
                              result("DNS-09", "clusterip-deployment")])
    html = render_summary(doc)
    assert html.count('href="bundles/clusterip-deployment.tar.gz"') == 1
    assert '<p class="bundle"><b>logs bundle:</b>' in html
