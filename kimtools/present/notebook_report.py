"""A notebook as a report to hand on: run with its parameters (papermill), exported without code (nbconvert), as one
HTML file that opens offline or as a PDF printed by chromium.

Used by ``kimtools bericht --notebook NAME`` and, in JupyterLab, by *File → Save and Export Notebook As → KIM-Bericht
(HTML)* / *KIM-Bericht (PDF)*: the two exporters below are registered with nbconvert (``pyproject.toml``,
``nbconvert.exporters``), so JupyterLab lists them beside its own. What the export leaves out:

* every code cell's input (the reader sees text, tables and figures),
* the cells tagged :data:`HIDDEN_TAG` (``ausblenden``): those that speak to the person running the notebook ("set the
  kommune in the next cell, then run all cells") — the export is addressed to its reader,
* anything from the net: the template's MathJax and require.js tags (the figures carry plotly.js themselves, once per
  document: :mod:`kimtools.present.figures.export`).

The report notebooks (:data:`REPORT_NOTEBOOKS`) have a cell tagged ``parameters`` (papermill's convention); a
parameter is given as ``NAME=WERT`` and must be one that cell names.

JupyterLab's own *PDF via HTML* (nbconvert's webpdf, with code) works offline too: :func:`configure_jupyter`, run by
``make install``, links Debian's chromium where Playwright looks for its browser and lets webpdf draw each figure as
an image first (:class:`FiguresAsImages`).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import html
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import plotly.io as pio
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from traitlets import default

from ..errors import InputError, KimtoolsError, UsageError
from ..i18n import current_lang
from ..paths import NOTEBOOKS
from .printing import chromium, figure_images, print_pdf, svg_image

__all__ = ["HIDDEN_TAG", "REPORT_NOTEBOOKS", "ReportExporter", "ReportPdfExporter", "FiguresAsImages", "PrintImages",
           "configure_jupyter",
           "report_notebook",
           "notebook_parameters", "parse_parameters", "render_notebook", "report_html"]

#: the tag of cells that speak to the person running the notebook, left out of every export
HIDDEN_TAG = "ausblenden"
#: the notebooks ``kimtools bericht --notebook`` runs (a number, its name, or its file name selects one)
REPORT_NOTEBOOKS = ("02-fallzahlen", "03-vermittlungen", "04-vergleich", "06-planung")

#: what makes the exported page read as a document: A4 when printed, tables that fit its width, figures too
REPORT_CSS = """<style>
@page { size: A4; margin: 14mm 12mm 14mm 12mm; }
body { font-family: Arial, Helvetica, sans-serif; }
.jp-RenderedHTMLCommon table, .kim-table { font-size: 12px; }
.kim-table { max-width: 100%; }
.js-plotly-plot, .plotly-graph-div { max-width: 100%; }
@media print {
  .modebar-container { display: none !important; }
  body { font-size: 10pt; }
  .jp-Cell { break-inside: avoid-page; }
  .jp-RenderedHTMLCommon h1, .jp-RenderedHTMLCommon h2 { break-after: avoid-page; }
  .kim-table { font-size: 8.5pt; }
  .kim-table th, .kim-table td { padding: 2px 5px; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
}
</style>"""


class ReportExporter(HTMLExporter):
    """HTML without code and without the cells tagged :data:`HIDDEN_TAG`, nothing from the net, A4 when printed."""

    export_from_notebook = "KIM-Bericht (HTML)"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("template_name", "lab")
        super().__init__(*args, **kwargs)
        self.exclude_input = True
        self.exclude_input_prompt = True
        self.exclude_output_prompt = True
        self.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDDEN_TAG}, enabled=True), enabled=True)
        configured = any("PrintImages" in str(p) for p in self.preprocessors)
        if type(self) is ReportExporter and not configured:   # the PDF draws every figure as an image anyway
            self.register_preprocessor(PrintImages(enabled=True), enabled=True)

    def from_notebook_node(self, nb, resources=None, **kw):
        body, resources = super().from_notebook_node(nb, resources, **kw)
        return _offline(body), resources


class ReportPdfExporter(ReportExporter):
    """The same page printed to PDF (A4) by headless chromium, each figure drawn beforehand as an SVG image by kaleido
    (plotly.js in chromium, waiting until it is drawn): printed from the page's own plotly.js, the x axes' labels and
    titles were missing, redrawn after the page was printed."""

    export_from_notebook = "KIM-Bericht (PDF)"

    @default("file_extension")
    def _file_extension_default(self):
        return ".pdf"

    @default("template_extension")
    def _template_extension_default(self):
        return ".html.j2"   # the HTML template, as nbconvert's own webpdf uses it

    def from_notebook_node(self, nb, resources=None, **kw):
        body, resources = super().from_notebook_node(as_images(nb), resources, **kw)
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "bericht.html"
            page.write_text(body, encoding="utf-8")
            pdf = print_pdf(page, Path(tmp) / "bericht.pdf").read_bytes()
        return pdf, resources


#: the width a figure is drawn at for an A4 page (186 mm at 96 px per inch)
PRINT_WIDTH = 700


#: shown only when printed: the image a figure is printed as, in place of the interactive figure (printed from
#: plotly.js its x axis is lost); one style per image, so that any output carries what it needs
_PRINT_ONLY = ("<style>.kim-druck {display: none} @media print {.kim-druck {display: block; max-width: 100%; height: auto}"
               " .kim-mit-druckbild .plotly-graph-div, .kim-mit-druckbild .js-plotly-plot {display: none !important}}"
               "</style>")


def as_images(nb, keep_interactive: bool = False):
    """A copy of the executed notebook ``nb`` whose figures are SVG images (:func:`~kimtools.present.printing.svg_image`)
    at :data:`PRINT_WIDTH`, each in place of its output's HTML; a figure kaleido cannot draw keeps its HTML.
    ``keep_interactive``: the interactive figure stays on screen and the image is what is printed."""
    nb = copy.deepcopy(nb)
    if not any("application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])):
        return nb   # no figure: no browser started
    with figure_images() as images:
        if not images:
            return nb
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                spec = data.get("application/vnd.plotly.v1+json")
                if not spec:
                    continue
                fig = pio.from_json(json.dumps({k: spec[k] for k in ("data", "layout") if k in spec}), skip_invalid=True)
                height = int(fig.layout.height or 450)
                fig.update_layout(width=PRINT_WIDTH, height=height)
                svg = svg_image(fig)
                if not svg:
                    continue
                title = html.escape(str(fig.layout.title.text or ""), quote=True)
                image = (f"<img src='data:image/svg+xml;base64,{svg}' width='{PRINT_WIDTH}' height='{height}' "
                         f"alt='{title}' style='max-width:100%;height:auto'")
                if keep_interactive and "text/html" in data:
                    data["text/html"] = (f"{_PRINT_ONLY}<div class='kim-mit-druckbild'>{''.join(data['text/html'])}"
                                         f"{image} class='kim-druck'></div>")
                else:
                    data["text/html"] = image + ">"
                    del data["application/vnd.plotly.v1+json"]
    return nb


class PrintImages(Preprocessor):
    """Each figure keeps its interactive HTML on screen and is printed as an SVG image (:func:`as_images` with
    ``keep_interactive``): an HTML export printed from the browser keeps its axes. Used by :class:`ReportExporter`
    and, through :func:`configure_jupyter`, by JupyterLab's and nbconvert's own HTML export."""

    def preprocess(self, nb, resources):
        return as_images(nb, keep_interactive=True), resources


class FiguresAsImages(Preprocessor):
    """Each figure as an SVG image (:func:`as_images`), for exports that are printed: JupyterLab's *PDF via HTML*
    (webpdf) takes it from the configuration :func:`configure_jupyter` writes."""

    def preprocess(self, nb, resources):
        return as_images(nb), resources


#: the configuration written into the environment's Jupyter folder (``make`` runs :func:`configure_jupyter`)
_JUPYTER_CONFIG = """# Written by kimtools (make install): JupyterLab's export "PDF via HTML" (webpdf) prints with Debian's chromium,
# which Playwright finds in the folder below (Playwright's own download cannot work offline), and draws each figure as
# an image first (printed from plotly.js, the x axes were cut off). See docs/anleitung.md, section 9.
import os

os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", {browsers!r})
c.WebPDFExporter.preprocessors = ["kimtools.present.notebook_report.FiguresAsImages"]
c.WebPDFExporter.disable_sandbox = os.geteuid() == 0   # chromium runs as root only without its sandbox
"""
#: … and for ``jupyter nbconvert --to html``: printed from the browser, each figure is its image (not in the
#: server's configuration: Voilà renders its pages through nbconvert's HTML exporter)
_NBCONVERT_CONFIG = _JUPYTER_CONFIG + """c.HTMLExporter.preprocessors = ["kimtools.present.notebook_report.PrintImages"]
"""


def configure_jupyter(prefix: str | Path | None = None) -> list[Path]:
    """Make JupyterLab's *PDF via HTML* (webpdf) work in the environment ``prefix`` (default: this one) without
    Playwright's own browser: Debian's chromium linked where Playwright looks for its browsers, and a configuration for
    the Jupyter server and ``jupyter nbconvert`` that names that folder and draws figures as images. Returns the files
    written."""
    prefix = Path(prefix or sys.prefix)
    browsers = prefix / "playwright-browsers"
    written = []
    try:
        import playwright

        listed = json.loads((Path(playwright.__file__).parent / "driver" / "package" / "browsers.json").read_text())
    except (ImportError, OSError, ValueError):
        listed = {"browsers": []}
    executables = {"chromium": ("chromium-{}", "chrome-linux64", "chrome"),
                   "chromium-headless-shell": ("chromium_headless_shell-{}", "chrome-headless-shell-linux64",
                                               "chrome-headless-shell")}
    for browser in listed["browsers"]:
        if browser["name"] in executables:
            folder, inner, name = executables[browser["name"]]
            place = browsers / folder.format(browser["revision"]) / inner
            place.mkdir(parents=True, exist_ok=True)
            link = place / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(chromium() or "/usr/bin/chromium")
            (place.parent / "INSTALLATION_COMPLETE").touch()
            written.append(link)
    config = prefix / "etc" / "jupyter"
    config.mkdir(parents=True, exist_ok=True)
    for name, text in (("jupyter_server_config.py", _JUPYTER_CONFIG), ("jupyter_nbconvert_config.py", _NBCONVERT_CONFIG)):
        (config / name).write_text(text.format(browsers=str(browsers)), encoding="utf-8")
        written.append(config / name)
    return written


def _offline(body: str) -> str:
    """The exported page without the template's scripts from the net (the report needs neither MathJax nor
    require.js), in the report's language, with :data:`REPORT_CSS`."""
    body = re.sub(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>', "", body)
    body = re.sub(r'<link[^>]+href="https?://[^"]+"[^>]*>', "", body)
    body = re.sub(r"<html([^>]*)>", f'<html lang="{current_lang()}">', body, count=1)
    return body.replace("</head>", REPORT_CSS + "</head>", 1)


def report_html(nb) -> str:
    """An executed notebook as the report's HTML (:class:`ReportExporter`)."""
    return ReportExporter().from_notebook_node(nb)[0]


def report_notebook(name: str) -> Path:
    """The report notebook ``name`` (``04``, ``vergleich``, ``04-vergleich`` or ``04-vergleich.ipynb``), else an error
    naming them.

    >>> report_notebook("vergleich").name
    '04-vergleich.ipynb'
    >>> report_notebook("07")
    Traceback (most recent call last):
    kimtools.errors.UsageError: Kein Bericht-Notebook '07'; möglich: 02-fallzahlen, 03-vermittlungen, 04-vergleich, 06-planung.
    """
    wanted = Path(str(name)).stem.lower()
    hits = [n for n in REPORT_NOTEBOOKS if wanted in (n, n[:2], n[3:])]
    if len(hits) != 1:
        raise UsageError(f"Kein Bericht-Notebook {name!r}; möglich: {', '.join(REPORT_NOTEBOOKS)}.",
                         f"No report notebook {name!r}; possible: {', '.join(REPORT_NOTEBOOKS)}.")
    return NOTEBOOKS / f"{hits[0]}.ipynb"


def notebook_parameters(path: Path) -> dict[str, str]:
    """The parameters of a notebook's cell tagged ``parameters``: name → default as written."""
    import papermill as pm

    return {name: p["default"] for name, p in pm.inspect_notebook(str(path)).items()}


def parse_parameters(pairs: list[str] | None, known: Mapping[str, str]) -> dict[str, object]:
    """``NAME=WERT`` pairs as parameters: a Python literal where the value is one (``8``, ``0.1``, ``None``,
    ``True``), else the text; every name one of ``known``; all problems at once.

    >>> parse_parameters(["HORIZONT=4", "KOMMUNE=Herne"], {"HORIZONT": "8", "KOMMUNE": '"Herne"'})
    {'HORIZONT': 4, 'KOMMUNE': 'Herne'}
    >>> parse_parameters(["TIEFE=3", "HORIZONT"], {"HORIZONT": "8"})
    Traceback (most recent call last):
    kimtools.errors.UsageError: Parameter 'TIEFE=3': TIEFE gibt es in diesem Notebook nicht (möglich: HORIZONT). Parameter 'HORIZONT': erwartet NAME=WERT.
    """
    out: dict[str, object] = {}
    problems: list[tuple[str, str]] = []
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append((f"Parameter {pair!r}: erwartet NAME=WERT.", f"Parameter {pair!r}: expected NAME=VALUE."))
        elif name not in known:
            problems.append((f"Parameter {pair!r}: {name} gibt es in diesem Notebook nicht (möglich: {', '.join(known)}).",
                             f"Parameter {pair!r}: this notebook has no {name} (possible: {', '.join(known)})."))
        else:
            try:
                out[name] = ast.literal_eval(text.strip())
            except (ValueError, SyntaxError):
                out[name] = text.strip()
    if problems:
        raise UsageError(" ".join(de for de, _ in problems), " ".join(en for _, en in problems))
    return out


@contextlib.contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """``values`` in the environment for the block (a kernel started in it inherits them), the old ones after."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is not None:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def render_notebook(name: str, out: str | Path, parameters: Mapping[str, object] | None = None,
                    db: str | Path | None = None, show_progress: bool = True) -> Path:
    """Run the report notebook ``name`` with ``parameters`` on the store ``db`` (default: ``KIMTOOLS_DB`` or the
    checkout's) and write it to ``out``: ``.html`` (one file, offline) or ``.pdf`` (A4, chromium). The notebook runs
    in a temporary folder; only ``out`` is written, through a temporary file beside it, so that a failed run leaves
    nothing. Returns ``out``."""
    import papermill as pm

    path = report_notebook(name)
    out = Path(out)
    if out.suffix.lower() not in (".html", ".pdf"):
        raise UsageError(f"Die Ausgabedatei {out.name} muss auf .html oder .pdf enden.",
                         f"The output file {out.name} must end in .html or .pdf.")
    if out.suffix.lower() == ".pdf" and chromium() is None:
        raise UsageError("Für ein PDF fehlt chromium (Debian: apt-get install chromium); als .html schreiben und im "
                         "Browser drucken.", "A PDF needs chromium (Debian: apt-get install chromium); write .html "
                         "and print it from a browser.")
    if not out.parent.is_dir():
        raise InputError(f"Den Ordner {out.parent} gibt es nicht; bitte anlegen oder einen anderen wählen.",
                         f"The folder {out.parent} does not exist; please create it or choose another.")
    known = notebook_parameters(path)
    unknown = sorted(set(parameters or {}) - set(known))
    if unknown:
        raise UsageError(f"Parameter {', '.join(unknown)} gibt es in {path.name} nicht (möglich: {', '.join(known)}).",
                         f"{path.name} has no parameter {', '.join(unknown)} (possible: {', '.join(known)}).")
    env = {"KIMTOOLS_DB": str(Path(db).resolve()) if db is not None else None, "KIMTOOLS_LANG": current_lang()}
    with tempfile.TemporaryDirectory() as tmp, _environment(env):
        executed = Path(tmp) / path.name
        try:
            nb = pm.execute_notebook(str(path), str(executed), parameters=dict(parameters or {}), kernel_name="python3",
                                     progress_bar=show_progress, cwd=tmp)
        except pm.PapermillExecutionError as e:
            raise KimtoolsError(f"{path.name} ließ sich nicht ausführen: {e.evalue}",
                                f"{path.name} could not be run: {e.evalue}") from None
        exporter = ReportPdfExporter() if out.suffix.lower() == ".pdf" else ReportExporter()
        body, _ = exporter.from_notebook_node(nb)
    tmp_out = out.with_name(f".{out.name}.tmp")
    try:
        if isinstance(body, bytes):
            tmp_out.write_bytes(body)
        else:
            tmp_out.write_text(body, encoding="utf-8")
        tmp_out.replace(out)
    finally:
        tmp_out.unlink(missing_ok=True)
    return out


if __name__ == "__main__":   # make install: python -m kimtools.present.notebook_report
    for path in configure_jupyter():
        print(path)

