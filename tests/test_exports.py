"""Notebook exports a coordinator can hand on: every figure survives the export, offline, and reads.

Each notebook with figures is executed as ``jupyter nbconvert --execute`` does it and exported to HTML by nbconvert;
chromium, with every request to another host refused, then counts the figures drawn in the file against the figures
the notebook produced, and checks the kind of mismatch seen in them (issue 42): at a screen's width and at an A4
page's, no text of a figure lies outside it (a cut-off axis title or legend), no data label is clipped by its plot
area or lies over another (the providers' names in the middle of the network).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_dashboards_browser import browser  # noqa: F401 - the same chromium

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts"
PLOTLY_TYPE = "application/vnd.plotly.v1+json"
pytestmark = pytest.mark.browser


def _executed(name: str, folder: Path):
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor

    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    # run in a folder of the test's own, as a coordinator's export would from her folder: the notebook writes nothing
    # there that the test would not see
    ExecutePreprocessor(timeout=300, kernel_name="python3").preprocess(notebook, {"metadata": {"path": str(folder)}})
    return notebook


@pytest.mark.parametrize("name", ["02-fallzahlen.ipynb", "03-vermittlungen.ipynb", "04-vergleich.ipynb",
                                  "06-planung.ipynb"])
def test_every_figure_a_notebook_draws_is_drawn_in_its_html_export_offline(demo_store, demo_comparison, browser,
                                                                           tmp_path, name):
    from nbconvert import HTMLExporter

    notebook = _executed(name, tmp_path)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    produced = sum(PLOTLY_TYPE in o.get("data", {}) for o in outputs)
    carrying = [o for o in outputs if "text/html" in o.get("data", {}) and len(o["data"]["text/html"]) > 1_000_000]
    assert produced > 0, "the notebook drew no figure"
    assert len(carrying) == 1, "plotly.js travels once per document, in the first figure"
    html, _ = HTMLExporter().from_notebook_node(notebook)
    ARTEFACTS.mkdir(exist_ok=True)
    target = ARTEFACTS / name.replace(".ipynb", ".html")
    target.write_text(html, encoding="utf-8")
    page = browser.new_page()
    elsewhere: list[str] = []
    page.route("http*://**", lambda route: (elsewhere.append(route.request.url), route.abort()))
    page.goto(target.as_uri())
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {produced}",
                           timeout=60_000)
    drawn = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                          ".filter(p => p.querySelector('.main-svg')).length")
    assert drawn == produced
    # what the export asks of the network is nbconvert's template (require.js, MathJax), never plotly.js
    assert not [u for u in elsewhere if "plot" in u.lower()], elsewhere
    page.close()
    for width in (1100, 760):   # a screen, and an A4 page's width (plotly draws at the width it finds)
        page = browser.new_page(viewport={"width": width, "height": 1200})
        page.route("http*://**", lambda route: route.abort())
        page.goto(target.as_uri())
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {produced}",
                               timeout=60_000)
        page.wait_for_timeout(500)
        misplaced = [f for f in page.evaluate(LAYOUT_CHECK) if f["outside"] or f["clipped"] or f["overlapping"]]
        page.close()
        assert misplaced == [], f"at {width} px: {misplaced}"


#: per figure: its texts (titles, axis titles, ticks, legend, annotations, data labels) that lie outside the figure,
#: data labels clipped by their plot area, and data labels that lie over each other or over another point's marker
LAYOUT_CHECK = """() => [...document.querySelectorAll('.js-plotly-plot')].map(d => {
  const box = d.getBoundingClientRect();
  const rect = t => t.getBoundingClientRect();
  const all = [...d.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text, .xtick text, .ytick text, .legendtext, '
                                   + '.annotation-text, .textpoint text')]
    .filter(t => t.textContent.trim() && rect(t).width > 0);
  const outside = all.filter(t => { const r = rect(t); return r.left < box.left - 1 || r.right > box.right + 1
                                     || r.top < box.top - 1 || r.bottom > box.bottom + 1; }).map(t => t.textContent);
  const areas = [...d.querySelectorAll('.draglayer .nsewdrag')].map(rect);
  const labels = all.filter(t => t.closest('.textpoint'));
  const clipped = labels.filter(t => { const r = rect(t);
      return !areas.some(a => r.left >= a.left - 2 && r.right <= a.right + 2 && r.top >= a.top - 2 && r.bottom <= a.bottom + 2); })
    .map(t => t.textContent);
  const overlapping = [];
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
    const a = rect(labels[i]), b = rect(labels[j]);
    if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2)
      overlapping.push([labels[i].textContent, labels[j].textContent]);
  }
  // a label over another point's marker (its own marker's centre, where the label stands in it, does not count)
  const centres = [...d.querySelectorAll('.scatterlayer .point')].map(rect).filter(r => r.width > 0)
    .map(r => [(r.left + r.right) / 2, (r.top + r.bottom) / 2]);
  for (const t of labels) {
    const r = rect(t), c = [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
    const hit = centres.find(([x, y]) => x > r.left && x < r.right && y > r.top && y < r.bottom
                                         && Math.hypot(x - c[0], y - c[1]) > 4);
    if (hit) overlapping.push([t.textContent, 'a marker']);
  }
  return {title: (d.layout && d.layout.title && d.layout.title.text) || '', outside, clipped, overlapping};
})"""
