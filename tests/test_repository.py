"""Repository hygiene: notebooks committed without outputs, no raw data or store under git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tracked(pattern: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines()]


def test_committed_notebooks_have_no_outputs():
    notebooks = _tracked("*.ipynb")
    assert notebooks, "no notebooks tracked"
    dirty = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if any(c.get("outputs") or c.get("execution_count") for c in nb["cells"]):
            dirty.append(path.name)
    assert dirty == [], f"notebooks committed with outputs (case data could leak): {dirty}"


def test_no_store_or_raw_export_in_git():
    data = [p.relative_to(ROOT).as_posix() for p in _tracked("data")]
    allowed = [p for p in data if p.endswith("README.md") or p.startswith("data/reference/")]
    assert data == allowed, f"only reference data and READMEs belong under data/: {sorted(set(data) - set(allowed))}"
    assert not _tracked("*.duckdb")


#: what the repository's top level holds, and nothing else
TOP_LEVEL = {".ci", ".gitignore", "Makefile", "README.md", "benchmarks", "dashboards", "data", "docs", "kimtools",
             "notebooks", "pyproject.toml", "tests"}
#: files that are outputs or data (workbooks, tables, pages, printouts, stores, archives): none outside tests/, but the
#: shipped reference data and the contract's code lists
GENERATED = (".xlsx", ".xlsm", ".xls", ".csv", ".html", ".pdf", ".duckdb", ".wal", ".zip", ".parquet")
SHIPPED = ("data/reference/", "kimtools/contract/")


def test_nothing_generated_is_tracked_and_the_top_level_is_as_agreed():
    """A problem report with 2,494 rows of echoed cell values was committed at the root once (issue 36)."""
    tracked = [p.relative_to(ROOT).as_posix() for p in _tracked(".")]
    assert {p.split("/")[0] for p in tracked} <= TOP_LEVEL
    generated = [p for p in tracked if p.lower().endswith(GENERATED) and not p.startswith(("tests/", *SHIPPED))]
    assert generated == []
    assert [p for p in tracked if p.startswith(SHIPPED) and p.lower().endswith(GENERATED) and not p.endswith(".csv")] == []


#: The only imports inside functions, each on purpose (docs/architecture.md, "Imports"): a dashboard kernel and the
#: ``kimtools`` command start without what they do not need. Every other import stands at the top of its module.
LAZY_IMPORTS = {
    # the server's own stack only when serving
    "serving.py": {"jupyter_server.base.handlers", "jupyter_server.utils", "tornado", "voila.app",
                   ".store.gastlinks", "jupyter_server.auth.decorator", ".store.zugriffe",
                   "voila.tornado.handler", ".present.pages", ".panels.plotview", ".store", ".store.meetings",
                   "voila.static_file_handler"},
    # report rendering (papermill, nbconvert, kaleido's figure images) and workbooks (openpyxl): only when a file is
    # written or read
    "present/report.py": {".notebook_report", "papermill"},
    "present/printing.py": {"kaleido"},
    "present/notebook_report.py": {"papermill", "playwright"},   # Playwright's list of browsers only at install
    "analysis/gaps.py": {"openpyxl.styles", "openpyxl.utils"},
    "ingest/files.py": {"openpyxl"},
    "ingest/beschluesse.py": {"openpyxl"},
    # the table widget of the list of decisions (ipydatagrid, with bqplot) only in the notebook that edits it
    "panels/beschluesse.py": {"ipydatagrid"},
    # the hub's database (demo accounts) only when the demo starts
    "hub/setup.py": {"bcrypt", "jupyterhub", "jupyterhub.spawner", "nativeauthenticator.orm"},
    # the guest service's web stack only when it serves (the command line imports its path)
    "hub/gast.py": {"tornado"},
    # the GIS stack (GDAL through pyogrio, PROJ, GEOS) only when a map file is read; maps are drawn from stored GeoJSON
    "ingest/boundaries.py": {"geopandas", "shapely"},
    # the foreign-layout demo only when asked for
    "ingest/demo.py": {".demo_foreign"},
    # statsmodels takes about a second to import: only when a forecast or a wait interval is asked (Wilson and Poisson intervals are closed formulas)
    "analysis/planning.py": {"statsmodels.tsa.exponential_smoothing.ets"},
    "analysis/network.py": {"statsmodels.duration.survfunc"},
    # the Word annual report (python-docx) only when the steering page's download is clicked
    "panels/lenkungskreis.py": {"..present.jahresbericht"},
    # the figures a notebook draws (plotly) only when one is asked for by its name in the package (``kim.funnel_plot``)
    "__init__.py": {".present"},
    # the funnel (scipy.stats, half a second more for ``import kimtools``) only when districts are compared
    "api.py": {".analysis.comparison"},
}


def test_imports_stand_at_the_top_of_each_module_but_the_listed_lazy_ones():
    import ast

    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "kimtools").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom):
                        name = "." * node.level + (node.module or "")
                    elif isinstance(node, ast.Import):
                        name = node.names[0].name
                    else:
                        continue
                    found.setdefault(path.relative_to(ROOT / "kimtools").as_posix(), set()).add(name)
    assert found == LAZY_IMPORTS


#: the stages in dependency order, lowest first (docs/architecture.md, "The stages"): a module may import from its own
#: stage and the ones before it, never from a later one. The modules at the top of the package are stages of their own.
STAGES = ["i18n", "errors", "_version", "paths", "periods", "progress", "spreadsheet",
          "contract", "store", "indicators", "ingest", "analysis", "exchange", "views", "present", "panels", "widgets",
          "serving", "hub", "cli", "api", "kimtools"]


def stage_graph() -> dict[tuple[str, str], list[str]]:
    """Every import between two stages, read from the code (also imports inside functions): (from, to) → modules."""
    import ast

    edges: dict[tuple[str, str], list[str]] = {}
    package = ROOT / "kimtools"
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        here = "kimtools" if rel.as_posix() == "__init__.py" else rel.parts[0].removesuffix(".py")
        parent = ["kimtools", *rel.parts[:-1]]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = parent[:len(parent) - node.level + 1] + (node.module.split(".") if node.module else [])
                targets = [target] if node.module else [target + [a.name] for a in node.names]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                targets = [n.split(".") for n in names if n and n.split(".")[0] == "kimtools"]
            else:
                continue
            for target in targets:
                there = target[1].removesuffix(".py") if len(target) > 1 else "kimtools"
                if there == "__version__":   # ``from kimtools import __version__``: the package root
                    there = "kimtools"
                if there != here:
                    edges.setdefault((here, there), []).append(rel.as_posix())
    return edges


def test_stages_depend_only_on_earlier_stages():
    """No cycle between stages, counting every import: each import goes to an earlier stage of :data:`STAGES`."""
    edges = stage_graph()
    unknown = {s for edge in edges for s in edge} - set(STAGES)
    assert not unknown, f"stages not in STAGES (add them where they belong): {sorted(unknown)}"
    upward = {f"{a} → {b}": sorted(set(files)) for (a, b), files in edges.items() if STAGES.index(b) > STAGES.index(a)}
    assert upward == {}, f"imports from a later stage: {upward}"


def test_the_version_is_one_number():
    import tomllib

    from kimtools import __version__

    assert tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"] == __version__


def test_errors_raised_in_python_name_parameters_not_command_line_options():
    """A message raised below the command line (``kimtools/cli/``) may be read in a notebook, where ``--quartal``
    means nothing: it names the parameter or the thing. A whole command to run (``kimtools profil … --ausgabe``) is
    advice and may stand; so may a module's own command line (``serving.py``, ``hub/``)."""
    import ast
    import re

    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    found = []
    for path in sorted((ROOT / "kimtools").rglob("*.py")):
        rel = path.relative_to(ROOT / "kimtools").as_posix()
        if rel.startswith(("cli/", "hub/")) or rel == "serving.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            texts = [n.value for n in ast.walk(node.exc) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            for text in texts:
                if flag.search(text) and "kimtools " not in text and "'kimtools" not in text:
                    found.append(f"{rel}:{node.lineno}: {text.strip()[:80]}")
    assert found == []


def test_every_function_of_the_notebook_api_shows_an_example_that_runs():
    """``import kimtools as kim`` gives the notebook API (``kimtools.__all__``): each of its functions and classes
    has an example in its docstring, which the suite runs as a doctest (``make test`` collects ``kimtools``)."""
    import inspect

    import kimtools

    missing = []
    for name in kimtools.__all__:
        obj = getattr(kimtools, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and ">>>" not in (obj.__doc__ or ""):
            missing.append(name)
    assert missing == []
