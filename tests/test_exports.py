"""Notebook exports a coordinator can hand on: every figure survives the export, offline.

Each notebook with figures is executed as ``jupyter nbconvert --execute`` does it and exported to HTML by nbconvert;
chromium, with every request to another host refused, then counts the figures drawn in the file against the figures
the notebook produced.
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
