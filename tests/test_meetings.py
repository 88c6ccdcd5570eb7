"""Frozen meeting states (``kimtools sitzung``): what the committee sees stays as it was frozen; pages and printout
name the state and carry the coordinators' commentary.

The store is the base export (Herne, two cases: F1 begun 01.02.2024, F2 15.03.2024); the later delivery adds a
third case begun 10.04.2024, so that new cases in 2024-Q2 go from 0 to 1 in the live store only.
"""

from __future__ import annotations

import html
import os
import shutil
import stat

import numpy as np
import pytest

from conftest import BASE, indicator_count, write_export
from kimtools import Store, indicator_table
from kimtools.cli import main
from kimtools.errors import InputError
from kimtools.ingest.importer import import_export
from kimtools.present.report import lenkungskreis_html
from kimtools.store.meetings import COMMENT_LIMIT, PARTS, commentary, freeze, meeting, meeting_of, meetings, remove
from kimtools.present.steering import data_state, meeting_note

KEY = b"k" * 32
LATER_CASE = "F3;PERS-0003;Herne;Herne-Mitte;CM1;10.04.2024;;;erstintegration;sprache;duldung;;w;1991;1\n"


@pytest.fixture
def store(tmp_path) -> Store:
    path = tmp_path / "data" / "kim.duckdb"
    import_export(write_export(tmp_path / "export", BASE), path, key=KEY, show_progress=False)
    return Store(path)


def later_delivery(tmp_path, store: Store) -> None:
    files = dict(BASE, faelle=BASE["faelle"] + LATER_CASE)
    import_export(write_export(tmp_path / "later", files), store, key=KEY, show_progress=False)


def test_a_meeting_state_keeps_its_figures_across_a_later_import(store, tmp_path):
    frozen = freeze(store, "LK-2024-06", kommune="Herne", quartal="2024-Q2")
    assert indicator_count(indicator_table(frozen.store), "neuzugaenge", zeitraum="2024-Q2") == 0
    later_delivery(tmp_path, store)
    assert indicator_count(indicator_table(store), "neuzugaenge", zeitraum="2024-Q2") == 1   # the live store moved
    assert indicator_count(indicator_table(frozen.store), "neuzugaenge", zeitraum="2024-Q2") == 0   # the meeting did not
    assert stat.S_IMODE(os.stat(frozen.store.path).st_mode) == 0o400
    assert meeting_of(frozen.store).name == "LK-2024-06" and meeting_of(store) is None


def test_pages_and_printout_name_the_state_and_carry_the_commentary(store):
    frozen = freeze(store, "LK-2024-06", kommune="Herne", quartal="2024-Q2")
    text = frozen.commentary_path.read_text(encoding="utf-8")
    frozen.commentary_path.write_text(text.replace('trend = ""', 'trend = "Die Zugänge steigen seit dem Frühjahr."')
                                      .replace('luecken = ""', 'luecken = "Wartezeiten bei Sprachkursen klären."'),
                                      encoding="utf-8")
    assert commentary(frozen) == {"trend": "Die Zugänge steigen seit dem Frühjahr.",
                                  "gaps": "Wartezeiten bei Sprachkursen klären."}
    note = meeting_note(frozen.store)
    assert note.startswith("Sitzungsstand „LK-2024-06“, eingefroren am ")
    assert note.endswith(", Daten bis 30.06.2024: spätere Importe sind hier nicht enthalten.")
    assert data_state(frozen.store, ["Herne"]).startswith(note)
    page = html.unescape(lenkungskreis_html(frozen.store, "Herne", "2024-Q2"))
    assert note in page
    assert "Einschätzung der KIM-Koordination:</b> Die Zugänge steigen seit dem Frühjahr." in page
    assert "Einschätzung der KIM-Koordination:</b> Wartezeiten bei Sprachkursen klären." in page
    assert "Einschätzung der KIM-Koordination" not in html.unescape(lenkungskreis_html(store, "Herne", "2024-Q2"))
    from kimtools.panels import LenkungskreisPanel

    panel = LenkungskreisPanel(frozen.store)
    shown = " ".join(html.unescape(w.value) for w in panel.widget.children if hasattr(w, "value") and isinstance(w.value, str))
    assert "Die Zugänge steigen seit dem Frühjahr." in shown and note in html.unescape(panel.message.value)


def test_listing_and_removing(store):
    assert meetings(store) == []
    freeze(store, "LK-1")
    freeze(store, "LK-2", quartal="2024-Q1")
    assert [m.name for m in meetings(store)] == ["LK-1", "LK-2"]
    assert meeting(store, "LK-2").quartal == "2024-Q1" and meeting(store, "LK-1").kommune is None
    remove(store, "LK-1")
    assert [m.name for m in meetings(store)] == ["LK-2"]
    with pytest.raises(InputError) as err:
        meeting(store, "LK-1")
    assert "(vorhanden: LK-2)" in err.value.message_de


@pytest.mark.parametrize("name, kwargs, message", [
    ("LK 1", {}, "Sitzungsname 'LK 1'"),
    ("../x", {}, "Sitzungsname '../x'"),
    ("LK-1", {"kommune": "Bochum"}, "Bochum ist nicht im Datenbestand"),
    ("LK-1", {"quartal": "2024-Q5"}, "Quartal '2024-Q5': erwartet ein Quartal wie 2026-Q3"),
    ("LK-1", {"quartal": "2024"}, "Quartal '2024': erwartet ein Quartal"),
    (".", {}, "Sitzungsname '.'"),
    ("..", {}, "Sitzungsname '..'"),
    ("-LK", {}, "Sitzungsname '-LK'"),
    # the data run from 01.02.2024 to 30.06.2024: the quarters after the last and before the first day are refused
    ("LK-1", {"quartal": "2024-Q3"}, "reichen nicht in dieses Quartal (01.02.2024 bis 30.06.2024)"),
    ("LK-1", {"quartal": "2023-Q4"}, "reichen nicht in dieses Quartal (01.02.2024 bis 30.06.2024)"),
    ("LK/1", {}, "Sitzungsname 'LK/1'"),
])
def test_what_cannot_be_frozen_is_refused(store, name, kwargs, message):
    with pytest.raises(InputError) as err:
        freeze(store, name, **kwargs)
    assert message in err.value.message_de
    assert not (store.path.parent / "sitzungen").exists() or not any((store.path.parent / "sitzungen").iterdir())


def test_the_commands(store, tmp_path, capsys):
    db = str(store.path)
    assert main(["sitzung", "anlegen", "LK-2024-06", "--kommune", "Herne", "--quartal", "2024-Q2", "--db", db]) == 0
    assert main(["sitzung", "anlegen", "LK-2024-06", "--db", db]) == 1   # exists already: bad input, nothing changed
    assert main(["sitzung", "liste", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "LK-2024-06: eingefroren am " in out and ", Daten bis 30.06.2024 (Herne, 2024-Q2)" in out
    later_delivery(tmp_path, store)
    page = tmp_path / "lk.html"
    assert main(["report", "--lenkungskreis", "--sitzung", "LK-2024-06", "--db", db, "--out", str(page), "--kein-pdf"]) == 0
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert "KIM-Lenkungskreis: Herne, 2024-Q2" in text and "Sitzungsstand „LK-2024-06“" in text
    # chromium drew every figure as an image, the status figure without a change of three or more too (plotly.js
    # cannot draw a Sankey without links: the page kept its scripts)
    assert text.count("<img class='kim-figure'") == 4 and "<script" not in text
    assert main(["sitzung", "entfernen", "LK-2024-06", "--db", db]) == 0
    assert main(["sitzung", "liste", "--db", db]) == 0
    assert "Keine Sitzungsstände." in capsys.readouterr().out


def test_serving_a_meeting_prepares_a_kernel_for_each_attendee(store, monkeypatch):
    """`kimtools serve --sitzung NAME --teilnehmende 15`: the frozen copy, and a pool of 15 prepared kernels for the
    steering committee's page only (the other pages keep one each)."""
    import json

    from kimtools.cli import main

    freeze(store, "LK-1")
    started = {}
    monkeypatch.setattr(os, "execve", lambda exe, cmd, env: started.update(cmd=cmd, env=env))
    assert main(["serve", "--db", str(store.path), "--sitzung", "LK-1", "--teilnehmende", "15"]) == 0
    assert started["env"]["KIMTOOLS_DB"] == str((store.path.parent / "sitzungen" / "LK-1" / "datenbestand.duckdb").resolve())
    pools = next(a for a in started["cmd"] if a.startswith("--VoilaKernelManager.kernel_pools_config="))
    assert json.loads(pools.split("=", 1)[1]) == {"default": {"pool_size": 1}, "lenkungskreis.ipynb": {"pool_size": 15}}
    assert started["cmd"].count("--preheat_kernel=True") == 1


def _full_commentary(frozen) -> dict[str, str]:
    """Every part commented up to the limit with ordinary German sentences (so that lines wrap as real text does)."""
    sentence = ("Die Zahlen bestätigen die Entwicklung, die wir im letzten Lenkungskreis berichtet haben; wir schlagen "
                "vor, die Maßnahmen fortzusetzen und im nächsten Quartal erneut zu prüfen. ")
    texts = {key: (f"{heading}: " + sentence * 3)[:COMMENT_LIMIT].rsplit(" ", 1)[0] + "."
             for key, (_part, heading) in PARTS.items()}
    frozen.commentary_path.write_text("".join(f'{k} = "{v}"\n' for k, v in texts.items()), encoding="utf-8")
    assert all(COMMENT_LIMIT - 15 <= len(v) <= COMMENT_LIMIT for v in texts.values())
    return texts


@pytest.mark.browser
def test_the_printout_is_one_sheet_with_every_part_commented(demo_store, tmp_path):
    """The largest demo city (Dortmund: twelve districts, eleven partners where referrals stall, five gaps that name
    every district, status changes), every part commented up to the limit: at most two A4 pages in the printout of
    ``kimtools report`` (figures as images) and in the dashboard's download printed by a browser (plotly.js), and the
    decisions' part on an annex page of its own; every
    comment printed, the meeting state in each page's footer, and the first page used to its foot."""
    import pypdfium2 as pdfium

    from kimtools.present.report import print_pdf, write_lenkungskreis

    copy = tmp_path / "data" / "kim.duckdb"
    copy.parent.mkdir()
    shutil.copy(demo_store, copy)
    frozen = freeze(Store(copy), "LK-DO", kommune="Dortmund")
    texts = _full_commentary(frozen)
    html_file, report_pdf = write_lenkungskreis(frozen.store, "Dortmund", tmp_path / "lk.html")
    download = tmp_path / "download.html"
    download.write_text(lenkungskreis_html(frozen.store, "Dortmund"), encoding="utf-8")
    for pdf in (report_pdf, print_pdf(download, tmp_path / "download.pdf")):
        pages = pdfium.PdfDocument(pdf)
        read = [" ".join(page.get_textpage().get_text_range().split()) for page in pages]
        # two pages, then the annex with the decisions' part (commented, so it is printed though no list was read)
        assert len(pages) == 3 and read[2].startswith("Anlage: Beschlüsse und ihre Wirkung"), pdf
        assert "Beschlüsse und ihre Wirkung: Noch keine Beschlussliste eingelesen" in read[1]
        for text in texts.values():
            assert text[:60] in " ".join(read), text[:60]
        assert all("Sitzungsstand „LK-DO“" in r for r in read)
        first = pages[0].render(scale=1, grayscale=True).to_numpy()   # the sheet as a black-and-white printer sees it
        inked = np.flatnonzero(first.reshape(len(first), -1).min(axis=1) < 128) / len(first)   # rows with dark ink
        assert inked[-1] > 0.9   # the footer at the foot of the sheet …
        assert inked[inked < 0.85][-1] > 0.75   # … and the page filled above it, not half empty
    assert "<script" not in html_file.read_text(encoding="utf-8")


def test_a_commentary_longer_than_the_limit_is_refused_with_its_part(store):
    frozen = freeze(store, "LK-1")
    frozen.commentary_path.write_text(f'trend = "{"a" * 300}"\nstatus = " {"b" * 300} "\n', encoding="utf-8")
    assert commentary(frozen) == {"trend": "a" * 300, "status": "b" * 300}   # 300 after trimming: still allowed
    frozen.commentary_path.write_text(f'trend = "{"a" * 301}"\nstatus = "kurz"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        commentary(frozen)
    assert "höchstens 300 Zeichen je Teil" in err.value.message_de and "zu lang: trend (301 Zeichen)" in err.value.message_de


def test_the_dashboards_of_a_meeting_state_open_at_its_quarter(store):
    from kimtools.panels import LenkungskreisPanel

    assert LenkungskreisPanel(store).filters.value["zeitraum"] == "2024-Q2"   # the live store: its last quarter
    frozen = freeze(store, "LK-1", kommune="Herne", quartal="2024-Q1")
    assert LenkungskreisPanel(frozen.store).filters.value["zeitraum"] == "2024-Q1"


@pytest.mark.browser
def test_the_meeting_view_opens_at_once_with_the_commentary_as_it_is_now(store):
    """`kimtools sitzung anlegen` draws the first view; `kimtools serve --sitzung` hands it out with the commentary
    written after freezing, under its part, on the page and (from the kernel) on the interactive page."""
    from playwright.sync_api import sync_playwright

    from kimtools.serving import running_server

    db = str(store.path)
    assert main(["sitzung", "anlegen", "LK-1", "--kommune", "Herne", "--quartal", "2024-Q2", "--db", db]) == 0
    frozen = meeting(store, "LK-1")
    assert [f.name for f in frozen.views_folder.iterdir()] == ["lenkungskreis_Herne_2024-Q2.html"]
    frozen.commentary_path.write_text('trend = "Die Zugänge steigen seit dem Frühjahr."\n'
                                      'luecken = "Wartezeiten bei Sprachkursen klären."\n', encoding="utf-8")
    under = """() => Object.fromEntries([...document.querySelectorAll('section.kim-block')].map(s =>
        [s.querySelector('h2').innerText, [...s.querySelectorAll('.kim-comment')].map(c => c.innerText).join(' | ')]))"""
    with running_server(store.path, args=["--sitzung", "LK-1", "--vorheizen", "0"]) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(url + "/")
        page.get_by_text("Sitzungsansicht LK-1: Herne, 2024-Q2").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/kimtools/sitzung/lenkungskreis_Herne_2024-Q2")
        assert page.evaluate("[...document.querySelectorAll('img.kim-figure')].filter(i => i.naturalWidth > 0).length") == 4
        assert page.locator("script").count() == 0
        said = page.evaluate(under)
        assert said["Verlauf"] == "Einschätzung der KIM-Koordination: Die Zugänge steigen seit dem Frühjahr."
        assert said["Die größten Angebotslücken"] == "Einschätzung der KIM-Koordination: Wartezeiten bei Sprachkursen klären."
        assert said["Die Stadtbezirke"] == said["Aufenthaltsstatus"] == ""
        assert "Sitzungsstand „LK-1“" in page.inner_text("body")
        page.get_by_text("Interaktiv: nach Stadtbezirk und Quartal filtern").click()
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
        page.wait_for_selector("text=Die Zugänge steigen seit dem Frühjahr.", timeout=60_000)
        assert "Wartezeiten bei Sprachkursen klären." in page.inner_text("body")
        browser.close()


def test_the_notebook_editor_keeps_the_commentary_and_refuses_a_text_too_long(store):
    from kimtools.panels import CommentaryEditor

    frozen = freeze(store, "LK-1")
    editor = CommentaryEditor(frozen)
    editor.fields["trend"].value = "Die Zugänge steigen."
    editor.fields["status"].value = "x" * 301
    assert "301 von höchstens 300 Zeichen – bitte kürzen" in html.unescape(editor.counts["status"].value)
    before = frozen.commentary_path.read_text(encoding="utf-8")
    editor.save.click()
    assert "zu lang: status (301 Zeichen)" in html.unescape(editor.message.value)
    assert frozen.commentary_path.read_text(encoding="utf-8") == before   # refused: the file as it was
    said = 'Wartezeit „Sprache“ klären: "Kurs C:\\Plätze"\nzweite Zeile'   # quotes, a backslash, a line break
    editor.fields["status"].value = "x" * 300
    editor.fields["luecken"].value = said
    editor.save.click()
    assert "Gespeichert am" in editor.message.value
    assert commentary(frozen) == {"trend": "Die Zugänge steigen.", "status": "x" * 300, "gaps": said}
    again = CommentaryEditor(meeting(store, "LK-1"))   # opened again: the fields hold what was saved
    assert again.fields["luecken"].value == said and again.fields["bezirke"].value == ""


def test_the_meeting_view_says_why_when_the_commentary_cannot_be_read(store):
    """A `kommentar.toml` broken by hand after freezing: the view keeps the texts it was drawn with, names the problem
    in its bar, and shows the texts again once the file is fixed."""
    from kimtools.present.pages import meeting_view_html, meeting_views
    from kimtools.present.report import write_meeting_views

    frozen = freeze(store, "LK-1", kommune="Herne", quartal="2024-Q2")
    frozen.commentary_path.write_text('trend = "Die Zugänge steigen."\n', encoding="utf-8")
    write_meeting_views(frozen, show_progress=False)
    (what, file), = meeting_views(frozen)
    assert what == "Herne, 2024-Q2"
    frozen.commentary_path.write_text('trend = "Die Zugänge steigen, und das "Ziel" fehlt.\n', encoding="utf-8")
    page = html.unescape(meeting_view_html(frozen, file))
    assert "Einschätzung der KIM-Koordination:</b> Die Zugänge steigen." in page   # as drawn
    assert "<div class='kim-bar-problem'>" in page and "ist kein gültiges TOML" in page
    frozen.commentary_path.write_text('trend = "Die Zugänge sinken."\nstatus = "Neu: Beratung zu Fristen."\n', encoding="utf-8")
    page = html.unescape(meeting_view_html(frozen, file))
    assert "Die Zugänge steigen." not in page and "<div class='kim-bar-problem'>" not in page
    assert "</b> Die Zugänge sinken." in page and "</b> Neu: Beratung zu Fristen." in page
    assert page.index("<nav class='kim-bar'") < page.index("<h1>")   # the bar above the page, not printed


def test_the_quarters_the_data_reach_into_can_be_frozen(store):
    """The first quarter (data from its second month) and the last (data to its last day) are both accepted."""
    assert freeze(store, "LK-Q1", quartal="2024-Q1").quartal == "2024-Q1"
    assert freeze(store, "LK-Q2", quartal="2024-Q2").quartal == "2024-Q2"


def test_removal_removes_only_a_meeting_state_that_is_what_it_claims(store, tmp_path):
    """'.', '..' and names with paths are refused before anything is touched; a folder whose description names
    another state, or a link planted in sitzungen/, is not removed (seen to remove the whole sitzungen/ folder)."""
    freeze(store, "LK-A")
    folder = store.path.parent / "sitzungen"
    for name in (".", "..", "../data", "LK-A/.."):
        with pytest.raises(InputError):
            remove(store, name)
    assert (folder / "LK-A" / "datenbestand.duckdb").exists()
    other = folder / "LK-B"
    other.mkdir()
    (other / "sitzung.toml").write_text((folder / "LK-A" / "sitzung.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match="nennt 'LK-A'"):
        remove(store, "LK-B")
    assert other.exists()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    (folder / "LK-C").symlink_to(outside)
    with pytest.raises(InputError, match="führt aus dem Ordner"):
        remove(store, "LK-C")
    assert (outside / "keep.txt").exists() and (folder / "LK-A").exists()


def test_a_commentary_names_every_fault_at_once(store):
    """An unknown part, a value that is no text and a text too long: one refusal naming all three (issue 41)."""
    frozen = freeze(store, "LK-F")
    frozen.commentary_path.write_text(f'tren = "x"\nstatus = 42\ngaps = ["a"]\nluecken = "{"l" * 301}"\n',
                                      encoding="utf-8")
    with pytest.raises(InputError) as err:
        commentary(frozen)
    text = err.value.message_de
    assert "unbekannte Teile: gaps, tren" in text and "kein Text: status = 42" in text
    assert "zu lang: luecken (301 Zeichen)" in text
