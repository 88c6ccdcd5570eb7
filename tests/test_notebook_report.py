"""``kimtools bericht --notebook NAME`` and the exporters JupyterLab lists: a notebook as a report for its reader
(issue 42): no code, no cell that speaks to the person running it, tables as people read them, every figure,
nothing from the net; notebook 04 protected as the kommune's comparison bundle.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kimtools.cli import main
from kimtools.present.notebook_report import HIDDEN_TAG, REPORT_NOTEBOOKS, notebook_parameters, report_notebook
from test_dashboards_browser import browser  # noqa: F401 - the same chromium

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts"
#: what a table for people never shows: raw codes of the demo's partner types and verdicts, pandas' blanks and flags
RAW = ("wohlfahrtsverband", "<NA>", "NaN", ">nan<", ">False<", ">True<", ">None<")
#: … nor a code or column name (``kommunales_integrationszentrum``, ``ueber_95``, ``faelle_je_vzae``)
SNAKE = re.compile(r"\b[a-zäöüß]+_[a-z0-9_,]+\b")


def _text(html: str) -> str:
    """The page's text and tags without its scripts and styles (plotly.js and the figures' data hold every word)."""
    return re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)


@pytest.mark.parametrize("name", REPORT_NOTEBOOKS)
def test_each_report_notebook_names_every_parameter_papermill_can_set(name):
    """papermill reads a parameters cell line by line and skips a line it cannot parse (a comment with ';' or '='
    made QUARTAL unknown to -p): every assignment of the cell is a parameter, and the cell is tagged."""
    path = report_notebook(name)
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1
    assigned = re.findall(r"^([A-Z_]+)\s*=", "".join(cells[0]["source"]), flags=re.M)
    assert list(notebook_parameters(path)) == assigned and "KOMMUNE" in assigned
    # the cell that tells the person running the notebook what to do is hidden in exports
    hidden = ["".join(c["source"]) for c in nb["cells"] if HIDDEN_TAG in c.get("metadata", {}).get("tags", [])]
    assert any("Zum Ausführen" in text for text in hidden)


def test_the_referral_report_as_html_reads_as_a_document(demo_store, demo_comparison, browser, tmp_path, capsys):
    out = tmp_path / "vermittlungen.html"
    assert main(["bericht", "--notebook", "03", "--kommune", "Herne", "--zeitraum", "2026-Q2", "--db", str(demo_store),
                 "--ausgabe", str(out)]) == 0
    assert "Bericht 03-vermittlungen geschrieben" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    text = _text(html)
    assert "Vermittlungen, Netzwerk und Angebotslücken" in text and "zwölf Monate vom 01.07.2025 bis 30.06.2026" in text
    assert "Zum Ausführen" not in text and "import kimtools" not in html and "KOMMUNE =" not in html
    assert [w for w in RAW if w in text] == [] and SNAKE.findall(re.sub(r"<[^>]+>", " ", text)) == []
    assert "Kommunales Integrationszentrum" in text and "Wohlfahrtsverband" in text   # the codes' labels
    assert re.search(r"\d+,\d\xa0%", text)   # German per cent
    assert not re.search(r'<script[^>]+src="https?://', html) and html.count("Plotly.newPlot") >= 5
    ARTEFACTS.mkdir(exist_ok=True)
    (ARTEFACTS / "bericht-03.html").write_text(html, encoding="utf-8")
    page = browser.new_page()
    page.route("http*://**", lambda route: route.abort())
    page.goto(out.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5", timeout=60_000)
    assert page.locator(".jp-InputArea-editor, .jp-CodeMirrorEditor").count() == 0
    # printed from the browser, each figure is its image (plotly.js, printed, loses its x axis); on screen, plotly
    shown = "el => getComputedStyle(el).display !== 'none'"
    count = lambda selector: page.evaluate(f"[...document.querySelectorAll('{selector}')].filter({shown}).length")  # noqa: E731
    assert (count(".kim-druck"), count(".kim-mit-druckbild .js-plotly-plot")) == (0, 5)
    page.emulate_media(media="print")
    assert (count(".kim-druck"), count(".kim-mit-druckbild .js-plotly-plot")) == (5, 0)
    page.close()


def test_the_comparison_report_as_pdf_keeps_its_figures_and_only_protected_figures(demo_store, demo_comparison,
                                                                                   tmp_path, monkeypatch):
    import pypdfium2 as pdfium

    from kimtools import Store
    from kimtools.exchange.bundle import build_bundle

    out = tmp_path / "vergleich.pdf"
    assert main(["bericht", "--notebook", "vergleich", "--kommune", "Herne", "-p", "QUARTAL=2025-Q4",
                 "--db", str(demo_store), "--ausgabe", str(out)]) == 0
    pdf = pdfium.PdfDocument(out)
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert 2 <= len(pdf) <= 8 and "Bezirke fair vergleichen" in text and "Herne, 2025-Q4" in text
    assert "Zum Ausführen" not in text and "import" not in text and [w for w in RAW if w in text] == []
    assert SNAKE.findall(text) == []
    # the funnel's x axis with its ticks and its title, the denominator (both missing when printed from plotly.js)
    assert re.search(r"(\d{2,3}\.000 ){3,}", text) and re.search(r"^Einwohner\r?$", text, flags=re.M)
    ARTEFACTS.mkdir(exist_ok=True)
    (ARTEFACTS / "bericht-04.pdf").write_bytes(out.read_bytes())
    # the districts' values are those of Herne's bundle for the quarter, with its protection
    bundle = build_bundle(Store(demo_store), "Herne", "2025-Q4", "2025-Q4").kennzahlen
    reach = bundle.loc[(bundle["kennzahl"] == "reichweite_je_1000") & (bundle["stadtbezirk"] != "Gesamt")]
    from kimtools.views.vergleich import own_districts

    own = own_districts(Store(demo_store), "Herne")
    own = own.loc[(own["kennzahl"] == "reichweite_je_1000") & (own["zeitraum"] == "2025-Q4")]
    pd.testing.assert_frame_equal(own[["stadtbezirk", "zaehler", "nenner"]].reset_index(drop=True),
                                  reach[["stadtbezirk", "zaehler", "nenner"]].reset_index(drop=True), check_dtype=False)
    source = report_notebook("04").read_text(encoding="utf-8")
    assert "own_districts(store, KOMMUNE)" in source and 'nach="stadtbezirk"' not in source


def test_a_wrong_parameter_or_notebook_is_named_with_what_there_is(demo_store, tmp_path, capsys):
    assert main(["bericht", "--notebook", "06", "-p", "TIEFE=3", "--db", str(demo_store),
                 "--ausgabe", str(tmp_path / "p.html")]) != 0
    err = capsys.readouterr().err
    assert "TIEFE gibt es in diesem Notebook nicht (möglich: KOMMUNE, HORIZONT" in err
    assert main(["bericht", "--notebook", "07", "--db", str(demo_store), "--ausgabe", str(tmp_path / "p.html")]) != 0
    assert "Kein Bericht-Notebook '07'; möglich: 02-fallzahlen, 03-vermittlungen, 04-vergleich, 06-planung" in capsys.readouterr().err
    assert main(["bericht", "--notebook", "02", "--db", str(demo_store), "--kommune", "Herne",
                 "--ausgabe", str(tmp_path / "p.docx")]) != 0
    assert "muss auf .html oder .pdf enden" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []   # nothing written


def test_jupyterlab_lists_the_report_exporters_and_nbconvert_runs_them(tmp_path):
    """JupyterLab's "Save and Export Notebook As" lists nbconvert's exporters: ours are there by their names, and
    ``jupyter nbconvert --to kim_bericht`` (what the menu runs on the server) writes the report without code."""
    from nbconvert.exporters import get_export_names, get_exporter

    assert {"kim_bericht", "kim_bericht_pdf"} <= set(get_export_names())
    assert get_exporter("kim_bericht")().export_from_notebook == "KIM-Bericht (HTML)"
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Für die Leserin"},
                    {"cell_type": "markdown", "id": "b", "metadata": {"tags": [HIDDEN_TAG]}, "source": "Zum Ausführen: …"},
                    {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 1, "source": "geheim = 1 + 1",
                     "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                                  "data": {"text/plain": "2"}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    source = tmp_path / "kurz.ipynb"
    source.write_text(json.dumps(nb), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "kim_bericht", str(source)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "kurz.html").read_text(encoding="utf-8")
    assert "Für die Leserin" in html and "Zum Ausführen" not in html and "geheim" not in html and '<html lang="de">' in html


def test_jupyterlabs_pdf_via_html_prints_with_debians_chromium_and_keeps_the_axes(tmp_path):
    """*PDF via HTML* (nbconvert's webpdf, what JupyterLab's menu runs) needs Playwright's own chromium, which cannot
    be downloaded here: ``make`` links Debian's where Playwright looks and configures the environment's Jupyter
    (``configure_jupyter``) to draw figures as images first. The figure's x axis, with ticks and title, is in the PDF."""
    import pypdfium2 as pdfium

    nb = {"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": "import plotly.graph_objects as go\nimport kimtools.present.figures\n"
                               "go.Figure(go.Scatter(x=[20000, 40000, 60000], y=[1, 3, 2]),\n"
                               "          layout=dict(title='Probe', xaxis_title='Einwohner', height=400))"}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    source = tmp_path / "probe.ipynb"
    source.write_text(json.dumps(nb), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "webpdf", "--execute", str(source)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    pdf = pdfium.PdfDocument(tmp_path / "probe.pdf")
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Probe" in text and re.search(r"^Einwohner\r?$", text, flags=re.M) and "40k" in text
