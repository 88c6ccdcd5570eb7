"""Dashboards in a real browser: Debian's chromium driven by Playwright against `kimtools serve`.

Screenshots are saved to ``test-artefacts/`` for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kimtools.serving import PLOTLY_PATH

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts"
CHROMIUM = "/usr/bin/chromium"
DASHBOARDS = sorted(p.name for p in (ROOT / "dashboards").glob("*.ipynb"))

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(demo_store):
    from kimtools.serving import running_server

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run 'make test', which installs it")
    ARTEFACTS.mkdir(exist_ok=True)
    with open(ARTEFACTS / "voila.log", "w") as log, running_server(demo_store, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield b
        b.close()


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    requests: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(url)
    try:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    except Exception as exc:   # rare in CI (twice in many runs): keep what the page showed for the next look
        shot = ARTEFACTS / f"timeout-{url.rsplit('/', 1)[-1]}.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"no figure drawn after 120 s ({shot}); page text: {page.inner_text('body')[:500]!r}; "
                             f"console: {console[-20:]}; requests: {requests[-20:]}") from exc
    # null-safe: a page the recover script reloads (serving.RECOVER_SCRIPT) has no figure for a moment
    page.wait_for_function("(p => !!(p && p.data && p.data.length > 0))(document.querySelector('.js-plotly-plot'))",
                           timeout=60_000)
    return page, requests


def _assert_clean(page, requests):
    text = page.inner_text("body")
    assert "Traceback" not in text and page.locator("div.kim-error").count() == 0
    assert not re.search(r"\d{5}-PER\d+", text), "a raw person ID is visible"
    # nothing from another host (plotly.js, fonts, stylesheets): the city's network may have no way out, and a
    # request to a CDN would tell it who is looking at which dashboard
    remote = [u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))]
    assert remote == [], f"loaded from another host: {remote}"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_dashboard_renders_a_figure(server, browser, name):
    page, requests = _open(browser, f"{server}/voila/render/{name}")
    _assert_clean(page, requests)
    # plotly.js from the server, once per page load (the browser may keep it), not through the kernel nor plotly's
    # 4.8 MB lab renderer; the page loads twice only when serving.RECOVER_SCRIPT reloaded it (a widget that a busy
    # server could not display), which that script records in sessionStorage, and then at most twice
    reloaded = page.evaluate("sessionStorage.getItem('kimtools-reloaded:' + location.pathname) !== null")
    fetched = [u for u in requests if "plotly" in u]
    assert fetched == [f"{server}/{PLOTLY_PATH}"] * (2 if reloaded and len(fetched) == 2 else 1), (fetched, reloaded)
    page.screenshot(path=str(ARTEFACTS / f"{Path(name).stem}.png"), full_page=True)
    page.close()


def test_datenstand_dropdown_changes_the_figure(server, browser):
    page, requests = _open(browser, f"{server}/voila/render/datenstand.ipynb")
    title = page.locator(".gtitle").first
    assert title.text_content().startswith("Bochum:")
    ys_before = page.evaluate("document.querySelector('.js-plotly-plot').data[0].y")
    table_before = page.locator(".kim-table").first.inner_text()
    page.locator("select").first.select_option("Herne")
    page.wait_for_function("document.querySelector('.gtitle').textContent.startsWith('Herne:')", timeout=30_000)
    ys_after = page.evaluate("document.querySelector('.js-plotly-plot').data[0].y")
    assert ys_after != ys_before
    assert page.locator(".kim-table").first.inner_text() != table_before
    # German number format in the summary table (Herne has more than 1,000 cases)
    assert re.search(r"\b1\.\d{3}\b", page.locator(".kim-table").first.inner_text())
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "datenstand-herne.png"), full_page=True)
    page.close()


_SMALL_COUNTS_JS = """() => {
  const found = [];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    for (const t of (gd._fullData || [])) {   // decoded arrays, as drawn
      if (t.meta === 'vzae') continue;   // full-time equivalents of posts: no persons
      if (t.type === 'bar' && t.orientation !== 'h') {
        Array.from(t.y || []).forEach(v => { if (v === 1 || v === 2) found.push(['bar', t.name, v]); });
      }
      if (t.type === 'heatmap') {
        (t.text || []).flat().forEach(v => { if (v === '1' || v === '2') found.push(['heatmap', v]); });
      }
      if (t.type === 'sankey') {
        Array.from((t.link && t.link.value) || []).forEach(v => { if (v === 1 || v === 2) found.push(['sankey', v]); });
      }
      if (t.type === 'funnel') {
        Array.from(t.x || []).forEach(v => { if (v === 1 || v === 2) found.push(['funnel', v]); });
      }
      if (t.type === 'scatter' && !t.error_x && t.mode && t.mode.includes('markers')) {
        Array.from(t.y || []).forEach(v => { if (v === 1 || v === 2) found.push(['line', t.name, v]); });
      }
    }
  }
  document.querySelectorAll('.kim-table td.num').forEach(e => {
    if (['1', '2'].includes(e.textContent.trim())) found.push(['table', e.textContent]);
  });
  document.querySelectorAll('.kim-tile-value').forEach(e => {
    if (['1', '2'].includes(e.textContent.trim())) found.push(['tile', e.textContent]);
  });
  return found;
}"""


def test_fallzahlen_filters_redraw_and_hide_small_counts(server, browser):
    page, requests = _open(browser, f"{server}/voila/render/fallzahlen.ipynb")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 8", timeout=120_000)
    assert page.locator(".kim-tile").count() == 4
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    # the staffing section: posts of all three Bausteine, filled and vacant, and per employer
    posts = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .filter(g => String(g.layout.title.text).includes('Stellen je'))
        .map(g => g._fullData.map(t => t.name))""")
    assert len(posts) == 2 and {"Baustein 1, besetzt", "Baustein 3, besetzt"} <= set(posts[0])
    assert "Stellen in allen Bausteinen" in page.inner_text("body")
    trend_before = page.evaluate("document.querySelector('.js-plotly-plot').data[0].y")
    tiles_before = page.locator(".kim-tiles").inner_text()
    district = page.locator("select").nth(1)
    options = district.locator("option").all_inner_texts()
    district.select_option(label=options[1])
    page.wait_for_function(f"document.querySelector('.gtitle').textContent.includes({options[1]!r})", timeout=60_000)
    assert page.evaluate("document.querySelector('.js-plotly-plot').data[0].y") != trend_before
    page.wait_for_function("t => document.querySelector('.kim-tiles').innerText !== t", arg=tiles_before, timeout=10_000)
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "fallzahlen-bezirk.png"), full_page=True)
    # one target group: the survival figure goes from one line per group to a single drawn line
    survival = "[...document.querySelectorAll('.js-plotly-plot')].find(g => g.layout.title.text.includes('Kaplan'))"
    drawn = f"{survival}.data.filter(t => t.visible !== false).length"
    assert page.evaluate(drawn) > 1
    page.locator("select").nth(4).select_option(label="Pflegesetting")
    page.wait_for_function(f"{drawn} === 1", timeout=60_000)
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    page.close()


_FUNNEL = "[...document.querySelectorAll('.js-plotly-plot')].find(g => g.data[0].type === 'funnel')"


def _pick_first_district(page) -> str:
    """Remember the funnel, choose the first district and wait until the titles name it; returns the district."""
    page.evaluate(f"window.kimFunnelBefore = JSON.stringify(Array.from({_FUNNEL}._fullData[0].x))")
    select = page.locator("select").nth(1)
    district = select.locator("option").all_inner_texts()[1]
    select.select_option(label=district)
    page.wait_for_function(f"document.querySelector('.gtitle').textContent.includes({district!r})", timeout=60_000)
    return district


def _printed(browser, target: Path, figures: int):
    """The downloaded printable page ``target`` opened offline (nothing but the file may load) with print styles, once
    its ``figures`` figures are drawn."""
    printed = browser.new_page()
    printed.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    printed.goto(target.as_uri())
    printed.emulate_media(media="print")
    printed.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}", timeout=60_000)
    return printed


def _wait_for_new_funnel(page) -> None:
    page.wait_for_function(f"JSON.stringify(Array.from({_FUNNEL}._fullData[0].x)) !== window.kimFunnelBefore",
                           timeout=30_000)


def test_netzwerk_filters_redraw_and_hide_small_counts(server, browser):
    page, requests = _open(browser, f"{server}/voila/render/netzwerk.ipynb")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=120_000)
    assert page.locator(".kim-tile").count() == 4
    assert page.locator(".kim-table").count() >= 1          # the top gaps
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    _pick_first_district(page)
    _wait_for_new_funnel(page)
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "netzwerk-bezirk.png"), full_page=True)
    page.close()


@pytest.fixture(scope="module")
def report_file(demo_store, tmp_path_factory) -> Path:
    from kimtools.cli import main

    out = tmp_path_factory.mktemp("bericht") / "bericht_herne.html"
    assert main(["report", "--db", str(demo_store), "--kommune", "Herne", "--period", "2025", "--out", str(out)]) == 0
    return out


def test_report_opens_offline_with_figures_and_no_code(browser, report_file):
    ARTEFACTS.mkdir(exist_ok=True)
    html = report_file.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?://", html), "the report must not load scripts from the net"
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    asked: list[str] = []

    def offline(route):   # the file must do without any network at all
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(report_file.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=60_000)
    drawn = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(g => g.data.length)")
    assert len(drawn) == 6 and all(n > 0 for n in drawn)
    assert asked == []
    text = page.inner_text("body")
    assert text.startswith("KIM-Bericht Herne")
    assert "Die Bezirke im Überblick" in text and "Sodingen" in text
    for code in ("import ", "build_bundle", "report.show", "KOMMUNE ="):
        assert code not in text, f"code is visible: {code}"
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .highlight").count() == 0
    page.screenshot(path=str(ARTEFACTS / "bericht.png"), full_page=True)
    page.close()


def test_vergleich_switches_indicator_and_level(server, browser):
    page, requests = _open(browser, f"{server}/voila/render/vergleich.ipynb")
    _assert_clean(page, requests)
    title = "document.querySelector('.js-plotly-plot .gtitle').textContent"
    assert page.evaluate(title) == "Reichweite je 1.000 Einwohner: Kommunen, 2025"
    # ten demo cities in the funnel, each named on hover; none ranked
    units = page.evaluate("document.querySelector('.js-plotly-plot').data.at(-1).customdata")
    assert len(units) == 10 and "Herne" in units
    page.locator("select").nth(1).select_option(label="Annahmequote")
    page.wait_for_function(f"{title}.startsWith('Annahmequote')", timeout=30_000)
    page.locator("select").nth(0).select_option(label="Stadtbezirke aller Kommunen")
    page.wait_for_function(f"{title} == 'Annahmequote: Stadtbezirke, 2025'", timeout=30_000)
    units = page.evaluate("document.querySelector('.js-plotly-plot').data.at(-1).customdata")
    assert "Herne: Sodingen" in units
    assert "Median (Quartile)" in page.inner_text("body")
    page.screenshot(path=str(ARTEFACTS / "vergleich-bezirke.png"), full_page=True)
    page.close()


def test_landing_page_lists_every_dashboard(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(server + "/")
    links = page.locator("ul.kim-dashboards a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert sorted(h.rsplit("/", 1)[1] for h in hrefs) == DASHBOARDS
    assert all(len(t) > 30 for t in page.locator("ul.kim-dashboards p").all_inner_texts())   # a German line each
    page.screenshot(path=str(ARTEFACTS / "startseite.png"), full_page=True)
    links.first.click()                       # a link opens its dashboard
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    page.close()


def test_lenkungskreis_filters_redraw_hide_small_counts_and_print(server, browser, tmp_path):
    page, requests = _open(browser, f"{server}/voila/render/lenkungskreis.ipynb")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=120_000)
    assert page.locator(".kim-tile").count() == 5
    notes = page.locator(".kim-tile-note").all_inner_texts()
    assert all("Vorquartal" in n and "Vorjahresquartal" in n for n in notes[:4])      # each figure with its periods
    assert all(page.locator(".kim-tile").nth(i).get_attribute("title") for i in range(5))   # and its definition
    # since the start, up to the end of the quarter shown: persons, consultations, household members
    since = page.locator(".kim-tile").nth(4).inner_text()
    assert "Seit Beginn" in since and "Beratungen:" in since and "mitberatenen Angehörigen" in since
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    body = page.inner_text("body")
    assert "Partner, bei denen Vermittlungen stocken" in body and "Die größten Angebotslücken" in body
    assert "Datenstand" in body
    tiles_before = page.locator(".kim-tiles").inner_text()
    district = _pick_first_district(page)
    page.wait_for_function("t => document.querySelector('.kim-tiles').innerText !== t", arg=tiles_before, timeout=10_000)
    _wait_for_new_funnel(page)
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "lenkungskreis-bezirk.png"), full_page=True)
    # the printable version: a download of one self-contained HTML file, checked with print emulation
    with page.expect_download(timeout=120_000) as info:
        page.get_by_text("Druckfassung (A4, HTML) herunterladen").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name.startswith("lenkungskreis_") and district.replace(" ", "-") in target.name
    # the annual report of the quarter's year, in Word, built in the kernel and handed over as bytes
    with page.expect_download(timeout=120_000) as info:
        page.get_by_text("Jahresbericht des Quartalsjahres (Word) herunterladen").click()
    word = tmp_path / info.value.suggested_filename
    info.value.save_as(word)
    from docx import Document

    assert word.name.startswith("jahresbericht_") and Document(str(word)).paragraphs[0].text.startswith("KIM ")
    page.close()
    printed = _printed(browser, target, figures=3)
    assert printed.inner_text("h1").startswith("KIM-Lenkungskreis")
    assert printed.locator("tfoot .kim-footer").inner_text().count("Datenstand") == 1
    import pypdfium2 as pdfium

    pages = pdfium.PdfDocument(printed.pdf(format="A4"))   # one sheet, printed on both sides
    assert len(pages) == 2 and all("Datenstand" in page.get_textpage().get_text_range() for page in pages)
    printed.close()


_STAFFING_JS = """() => {
    const plot = [...document.querySelectorAll('.js-plotly-plot')]
        .find(p => p.layout && p.layout.title && String(p.layout.title.text).includes('Stellen heute und nötig'));
    // horizontal bars, first district on top (last in the arrays)
    return plot ? {today: Array.from(plot._fullData[0].x).reverse(), needed: Array.from(plot._fullData[1].x).reverse(),
                   legend: plot._fullData[1].name} : null;
}"""


def test_planung_scenario_changes_redraw_the_staffing(server, browser):
    page, requests = _open(browser, f"{server}/voila/render/planung.ipynb")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=120_000)
    body = page.inner_text("body")
    assert "Personen mit § 104c" in body and "95-%-Prognoseintervall" in body and "Bedarfsindex" in body
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    before = page.evaluate(_STAFFING_JS)
    assert before and len(before["today"]) >= 2
    # posts of the first district + 2: the bar of posts held follows, nothing else has to be reloaded
    first = page.locator(".widget-gridbox input[type='number']").first
    first.fill(str(before["today"][0] + 2))
    first.press("Enter")
    page.wait_for_function(f"() => ({_STAFFING_JS})().today[0] === {before['today'][0] + 2}", timeout=60_000)
    # the target load halves the posts needed
    readout = page.locator(".widget-slider .widget-readout").first
    readout.fill("70")
    readout.press("Enter")
    page.wait_for_function(f"() => ({_STAFFING_JS})().legend.includes('70,0 Fällen je VZÄ')", timeout=60_000)
    after = page.evaluate(_STAFFING_JS)
    assert after["needed"][0] == pytest.approx(before["needed"][0] / 2, abs=0.11)
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "planung-szenario.png"), full_page=True)
    page.close()


def test_english_dashboards(demo_store, browser):
    import os

    from kimtools.serving import running_server

    with running_server(demo_store, env=dict(os.environ, KIMTOOLS_LANG="en"), args=["--vorheizen", "0"]) as url:
        page, requests = _open(browser, f"{url}/voila/render/lenkungskreis.ipynb")
        text = page.inner_text("body")
        assert "Steering committee" in text and "previous quarter" in text and "How to read." in text
        for german in ("Vorquartal", "Lesehilfe", "Stadtbezirk", "Erreichte Personen"):
            assert german not in text, german
        page.close()
        page, requests = _open(browser, f"{url}/voila/render/planung.ipynb")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=120_000)
        text = page.inner_text("body")
        assert "persons holding § 104c" in text and "Staffing" in text and "95 % prediction interval" in text
        for german in ("Stellenplanung", "Bedarfsindex", "Personen mit", "Lesehilfe", "Prognoseintervall"):
            assert german not in text, german
        page.close()
        page = browser.new_page()
        page.goto(url + "/")
        assert "KIM dashboards" in page.inner_text("h1")
        page.close()


def test_a_widget_that_cannot_be_displayed_reloads_the_page_once(server, browser):
    """Rarely a page opened while Voilà handed out its preheated kernels said 'Error displaying widget: model not
    found' instead of drawing. The server's pages then load themselves again (a fresh kernel), at most once a minute:
    here the message is planted by hand, the page reloads and draws, and a second message right after does not
    reload it again."""
    page, _ = _open(browser, f"{server}/voila/render/datenstand.ipynb")
    plant = """() => { const d = document.createElement('div'); d.className = 'jupyter-widgets';
                       d.textContent = 'Error displaying widget: model not found'; document.body.appendChild(d); }"""
    with page.expect_navigation(timeout=30_000):
        page.evaluate(plant)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    page.evaluate("window.kimMarker = 1")
    page.evaluate(plant)
    page.wait_for_timeout(3_000)
    assert page.evaluate("window.kimMarker") == 1, "the page reloaded a second time within a minute"
    page.close()


# ----------------------------------------------------------------------------- district maps (issue: maps)
_MAP = "[...document.querySelectorAll('.js-plotly-plot')].find(g => g.layout && g.layout.meta && g.layout.meta.kim === 'karte')"
_MAP_STATE_JS = f"""() => {{
    const g = {_MAP};
    if (!g || !g._fullData) return null;
    const areas = g._fullData.filter(t => t.fill === 'toself');
    return {{colours: areas.map(t => t.fillcolor), hover: areas.map(t => t.name),
             source: [...g.querySelectorAll('.annotation-text')].map(a => a.textContent),
             drawn: g.querySelectorAll('path.js-fill').length, title: g.layout.title.text}};
}}"""


def test_the_duisburg_map_has_its_attribution_recolours_on_a_filter_change_and_hides_small_counts(server, browser):
    """Duisburg's seven districts on the steering committee's page, from the shipped OpenStreetMap outlines: the
    attribution drawn under the map, a colour per district from the funnel, a new quarter recolours it, and no count
    below three anywhere (the hover texts hold rates with intervals, never a count)."""
    page, requests = _open(browser, f"{server}/voila/render/lenkungskreis.ipynb")
    page.locator("select").nth(0).select_option("Duisburg")
    page.wait_for_function(f"() => ({_MAP_STATE_JS})() !== null", timeout=60_000)
    first = page.evaluate(_MAP_STATE_JS)
    assert first["drawn"] >= 7 and len(first["colours"]) == 7
    assert first["source"] == ["Karte: © OpenStreetMap-Mitwirkende (ODbL)"]
    assert all(h.startswith("<b>") and ("Reichweite je 1.000" in h or "zu wenige Fälle" in h) for h in first["hover"])
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    body = page.inner_text("body")
    assert "Die Stadtbezirke" in body and "je Stadtbezirk: Farbe nur, wo ein Stadtbezirk klar" in body
    page.screenshot(path=str(ARTEFACTS / "karte-duisburg.png"), full_page=True)
    quarter = page.locator("select").nth(2)
    changed = None
    for option in quarter.locator("option").all_inner_texts()[1:6]:
        quarter.select_option(label=option)
        page.wait_for_function(f"() => ({_MAP_STATE_JS})().title.includes({option!r})", timeout=60_000)
        state = page.evaluate(_MAP_STATE_JS)
        if state["colours"] != first["colours"]:
            changed = state
            break
    assert changed is not None, "no quarter of five recoloured the map"
    assert changed["hover"] != first["hover"] and page.evaluate(_SMALL_COUNTS_JS) == []
    _assert_clean(page, requests)
    page.close()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A store of Duisburg and the Kreis Unna alone (the demo's), and no comparison bundle anywhere."""
    import os

    from kimtools.ingest.demo import write_demo
    from kimtools.ingest.importer import import_export
    from kimtools.serving import running_server

    folder = tmp_path_factory.mktemp("eigen")
    import_export(write_demo(folder / "export", kommunen=["Duisburg", "Kreis Unna"], show_progress=False),
                  folder / "kim.duckdb", show_progress=False)
    env = dict(os.environ, KIMTOOLS_VERGLEICH=str(folder / "keine-pakete"), KIMTOOLS_DB=str(folder / "kim.duckdb"))
    with open(ARTEFACTS / "voila-eigen.log", "w") as log, running_server(folder / "kim.duckdb", log=log, env=env) as url:
        yield url


def test_the_comparison_page_on_a_store_without_bundles_draws_the_districts(own_server, browser):
    page, requests = _open(browser, f"{own_server}/voila/render/vergleich.ipynb")
    body = page.inner_text("body")
    assert "Noch keine Vergleichspakete anderer Kommunen zusammengeführt" in body and "keine-pakete" not in body
    page.locator("select").nth(0).select_option(label="Stadtbezirke und Gemeinden aller Kommunen")
    title = "document.querySelector('.js-plotly-plot .gtitle').textContent"
    page.wait_for_function(f"{title}.includes('Stadtbezirke und Gemeinden')", timeout=60_000)
    units = page.evaluate("document.querySelector('.js-plotly-plot').data.at(-1).customdata")
    assert {"Duisburg: Walsum", "Duisburg: Süd", "Kreis Unna: Nord"} <= set(units)
    state = page.evaluate(_MAP_STATE_JS)
    assert len(state["colours"]) == 7 and state["source"] == ["Karte: © OpenStreetMap-Mitwirkende (ODbL)"]
    assert "Die Stadtbezirke auf der Karte" in page.inner_text("body")
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "vergleich-ohne-pakete.png"), full_page=True)
    page.close()


def test_a_kreis_page_says_gemeinde(own_server, browser):
    page, requests = _open(browser, f"{own_server}/voila/render/lenkungskreis.ipynb")
    page.locator("select").nth(0).select_option("Kreis Unna")
    page.wait_for_function("document.body.innerText.includes('Die Gemeinden')", timeout=60_000)
    assert page.locator("label").nth(1).inner_text() == "Gemeinde"   # the filter names the Kreis's sub-units
    headings = page.locator("h3").all_inner_texts()
    assert "Die Gemeinden" in headings and not any("Stadtbezirk" in h for h in headings)
    assert "Erreichte Personen je 1.000 Einwohner je Gemeinde" in page.inner_text("body")
    _assert_clean(page, requests)
    page.screenshot(path=str(ARTEFACTS / "lenkungskreis-kreis.png"), full_page=True)
    page.close()


#: four decisions of Dortmund (the demo's partner IDs): one overdue (due 30.09.2025, still being implemented), one
#: being implemented and not yet due, one implemented (the Jobcenter's acceptance before and after), one rejected
DORTMUND_DECISIONS = """\
beschluss_id;kommune;datum;gremium;titel;zustaendig;luecke;handlungsfeld;kennzahl;stadtbezirk;merkmal;auspraegung;richtung;frist;status;umgesetzt_am
LK-2024-07;Dortmund;09.07.2024;Lenkungskreis;Feste Sprechstunde des Jobcenters im KIM-Büro;05913-PAR06;;arbeit;annahmequote;;an_partner;05913-PAR06;steigen;31.12.2024;umgesetzt;01.10.2024
LK-2025-03;Dortmund;18.03.2025;Lenkungskreis;Wartezeit bei der Ausländerbehörde senken;05913-PAR08;wartezeit;aufenthalt;luecken;;luecke;wartezeit;sinken;30.09.2025;in_umsetzung;
LK-2025-09;Dortmund;16.09.2025;Planungskonferenz;Sprachmittlung in der Innenstadt-Nord;05913-PAR15;sprachbarriere;gesundheit;luecken;Innenstadt-Nord;luecke;sprachbarriere;sinken;30.06.2099;in_umsetzung;
LK-2025-12;Dortmund;09.12.2025;Lenkungskreis;Zweite Case-Management-Stelle in Eving;05913-PAR05;;;neuzugaenge;Eving;;;steigen;;verworfen;
"""


@pytest.fixture(scope="module")
def decided_server(demo_store, tmp_path_factory):
    """A copy of the demo store with Dortmund's list of decisions read in."""
    import os
    import shutil

    from kimtools.ingest.beschluesse import import_decisions
    from kimtools.serving import running_server

    folder = tmp_path_factory.mktemp("beschluesse")
    shutil.copy(demo_store, folder / "kim.duckdb")
    (folder / "beschluesse.csv").write_text(DORTMUND_DECISIONS, encoding="utf-8")
    import_decisions(folder / "beschluesse.csv", folder / "kim.duckdb")
    env = dict(os.environ, KIMTOOLS_DB=str(folder / "kim.duckdb"))
    with open(ARTEFACTS / "voila-beschluesse.log", "w") as log, running_server(folder / "kim.duckdb", log=log, env=env) as url:
        yield url


def test_the_steering_page_shows_the_decisions_overdue_first_and_prints_them_in_an_annex(decided_server, browser,
                                                                                          tmp_path):
    page, requests = _open(browser, f"{decided_server}/voila/render/lenkungskreis.ipynb")
    page.locator("select").nth(0).select_option("Dortmund")
    page.wait_for_function("document.body.innerText.includes('Überfällig (1)')", timeout=60_000)
    page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')].some(p => p.layout && "
                           "(p.layout.annotations || []).some(a => String(a.text).startsWith('LK-2024-07')))",
                           timeout=60_000)
    body = page.inner_text("body")
    part = body[body.index("Beschlüsse und ihre Wirkung"):body.index("Aufenthaltsstatus", body.index("Beschlüsse und ihre Wirkung"))]
    # overdue first, then those being implemented, then the implemented with before and after; the rejected counted
    assert part.index("Überfällig (1)") < part.index("LK-2025-03") < part.index("Offen oder in Umsetzung (1)") \
        < part.index("LK-2025-09") < part.index("Umgesetzt: vorher und nachher (1)") < part.index("LK-2024-07")
    assert "Verworfen: 1." in part and "LK-2025-12" not in part
    assert "Annahmequote" in part and "%" in part and "nicht, dass der Beschluss es bewirkt hat" in part
    assert page.evaluate(_SMALL_COUNTS_JS) == []
    _assert_clean(page, requests)
    page.locator("h3", has_text="Beschlüsse und ihre Wirkung").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "lenkungskreis-beschluesse.png"), full_page=True)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_text("Druckfassung (A4, HTML) herunterladen").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    page.close()
    printed = _printed(browser, target, figures=4)
    import pypdfium2 as pdfium

    pdf = tmp_path / "lenkungskreis.pdf"
    pdf.write_bytes(printed.pdf(format="A4"))
    pages = [" ".join(p.get_textpage().get_text_range().split()) for p in pdfium.PdfDocument(pdf)]
    # the two pages as before, the decisions named in one line at the end; the annex on a page of its own
    assert len(pages) == 3 and "1 überfällig – LK-2025-03 (30.09.2025)" in pages[1]
    assert pages[2].startswith("Anlage: Beschlüsse und ihre Wirkung") and "Überfällig (1)" in pages[2]
    assert "LK-2024-07" in pages[2] and all("Datenstand" in p for p in pages)
    printed.screenshot(path=str(ARTEFACTS / "lenkungskreis-beschluesse-druck.png"), full_page=True)
    printed.close()
