"""The notebook API reads like the question (issue 37): ``kim.kennzahlen(…)``, ``kim.wert``, ``kim.auswahl`` and
figures that pick their indicator and period from the table.

The base export (tests/conftest.py, by hand): Herne, F1 begins 01.02.2024 (Herne-Mitte, open), F2 begins
15.03.2024 and ends 30.06.2024 (Sodingen, goal reached).
"""

from __future__ import annotations

import pytest

import kimtools as kim
from kimtools.errors import InputError, UsageError


@pytest.fixture
def db(tmp_path, base_export):
    store = kim.Store(tmp_path / "kim.duckdb")
    kim.import_export(base_export, store, show_progress=False)
    return store


def test_the_question_names_the_period_and_the_table_holds_only_it(db):
    q = kim.kennzahlen("Herne", kennzahl=["neuzugaenge", "abschluesse"], quartal="2024-Q1", db=db)
    assert kim.zeitraeume(q) == ["2024-Q1"] and set(q["kennzahl"]) == {"neuzugaenge", "abschluesse"}
    assert (kim.wert(q, "neuzugaenge"), kim.wert(q, "abschluesse")) == (2.0, 0.0)
    assert q.attrs["zeitraum"] == "quarter" and q.attrs["kommune"] == "Herne"
    year = kim.kennzahlen("Herne", kennzahl="abschluesse", jahr=2024, db=db)   # the unit follows from jahr
    assert kim.zeitraeume(year) == ["2024"] and kim.wert(year, "abschluesse") == 1.0
    march = kim.kennzahlen("Herne", kennzahl="neuzugaenge", monat="2024-03", db=db)
    assert kim.wert(march, "neuzugaenge") == 1.0
    latest = kim.kennzahlen("Herne", kennzahl="neuzugaenge", quartal="letztes", db=db)
    assert kim.zeitraeume(latest) == ["2024-Q2"]   # the data end with F2's closure on 30.06.2024
    by_district = kim.kennzahlen("Herne", nach="stadtbezirk", kennzahl="neuzugaenge", quartal="2024-Q1", db=db)
    assert kim.wert(by_district, "neuzugaenge", stadtbezirk="Sodingen") == 1.0


def test_whole_table_and_the_rows_of_one_question(db):
    t = kim.kennzahlen("Herne", db=db)
    assert kim.zeitraeume(t) == ["2024-Q1", "2024-Q2"]
    rows = kim.auswahl(t, ["neuzugaenge", "faelle_offen"], "2024-Q2")
    assert rows[["kennzahl", "zaehler"]].values.tolist() == [["neuzugaenge", 0], ["faelle_offen", 1]]
    assert len(kim.auswahl(t, "neuzugaenge", "alle")) == 2


def test_a_question_the_data_cannot_answer_says_what_it_can(db):
    t = kim.kennzahlen("Herne", db=db)
    with pytest.raises(InputError, match="keinen Zeitraum '2023-Q4'; die jüngsten: 2024-Q1, 2024-Q2"):
        kim.kennzahlen("Herne", quartal="2023-Q4", db=db)
    with pytest.raises(InputError, match="keine Kennzahl abbruchquote"):
        kim.auswahl(t, "abbruchquote")
    with pytest.raises(InputError, match="2 Zeilen statt einer"):
        kim.wert(kim.kennzahlen("Herne", nach="stadtbezirk", db=db), "neuzugaenge", "2024-Q1")
    with pytest.raises(UsageError, match="nur eines von quartal, jahr, monat"):
        kim.kennzahlen("Herne", quartal="2024-Q1", jahr=2024, db=db)
    with pytest.raises(UsageError, match="zeitraum = 'jahr' passt nicht"):
        kim.kennzahlen("Herne", zeitraum="jahr", quartal="2024-Q1", db=db)


def test_figures_pick_their_indicator_and_period_from_the_table(db):
    t = kim.kennzahlen("Herne", nach="stadtbezirk", db=db)
    fig = kim.reach_by_district(t, minimum=1)   # reichweite_je_1000 of 2024-Q2, the latest (no count hidden)
    drawn = dict(zip(fig.data[0].y, fig.data[0].x))
    expected = kim.auswahl(t, "reichweite_je_1000", "2024-Q2").dropna(subset=["wert"])
    assert drawn == pytest.approx({r.stadtbezirk: float(r.wert) for r in expected.itertuples()})
    assert len(kim.reach_by_district(t, zeitraum="2030-Q1").data[0].x) == 0   # a dashboard's empty filter: no rows


def test_since_the_start_is_one_period_holding_every_quarter(db):
    """New cases and consultations since the start are the sums over every quarter; the table says 'gesamt'."""
    total = kim.kennzahlen("Herne", zeitraum="seit_beginn", kennzahl=["neuzugaenge", "beratungen"], db=db)
    assert kim.zeitraeume(total) == ["gesamt"]
    quarters = kim.kennzahlen("Herne", kennzahl=["neuzugaenge", "beratungen"], db=db)
    for k in ("neuzugaenge", "beratungen"):
        assert kim.wert(total, k) == quarters.loc[quarters["kennzahl"] == k, "zaehler"].sum()
    with pytest.raises(UsageError, match="seit_beginn"):
        kim.kennzahlen("Herne", zeitraum="immer", db=db)


def test_a_kommune_district_or_provider_that_is_not_there_is_named_with_the_known_ones(db):
    import unicodedata

    same = kim.kennzahlen("Herne", kennzahl="neuzugaenge", db=db)
    for spelled in ("herne", " HERNE", unicodedata.normalize("NFD", "Herne")):   # case, blanks, decomposed form
        assert kim.kennzahlen(spelled, kennzahl="neuzugaenge", db=db).equals(same)
    with pytest.raises(InputError, match=r"kommune = 'Atlantis': keine Kommune im Datenbestand; bekannt sind: Herne\."):
        kim.kennzahlen("Atlantis", db=db)
    # the base export's districts are Herne-Mitte and Sodingen (the cases' own)
    with pytest.raises(InputError, match=r"stadtbezirk = 'Wanne-Eickel': kein Bezirk von Herne im Datenbestand; "
                                         r"bekannt sind: Herne-Mitte, Sodingen\."):
        kim.kennzahlen("Herne", filter={"stadtbezirk": "Wanne-Eickel"}, db=db)
    sodingen = kim.kennzahlen("Herne", kennzahl="neuzugaenge", filter={"stadtbezirk": "sodingen"}, quartal="2024-Q1",
                              db=db)
    assert kim.wert(sodingen, "neuzugaenge") == 1.0   # F2, counted by hand
    with pytest.raises(InputError, match=r"traeger = 'CM9': kein Träger von Herne im Datenbestand; bekannt sind: CM1\."):
        kim.kennzahlen("Herne", filter={"traeger": "CM9"}, db=db)


def test_a_kommune_outside_a_login_s_scope_is_refused_as_such_not_called_unknown(db):
    from kimtools.errors import AccessError

    scoped = kim.Store(db.path, scope=["Bochum"])
    with pytest.raises(AccessError):
        kim.kennzahlen("Herne", db=scoped)


def test_a_store_says_which_file_it_is_and_an_installed_package_never_falls_back_to_its_own_folder(monkeypatch, tmp_path):
    from kimtools.errors import StoreError
    from kimtools.store import files

    monkeypatch.setenv("KIMTOOLS_DB", str(tmp_path / "kim.duckdb"))
    assert repr(kim.Store()) == f"Store({str(tmp_path / 'kim.duckdb')!r})"
    monkeypatch.delenv("KIMTOOLS_DB")
    assert files.default_db_path() == files.DATA / "kim.duckdb"   # a checkout: its data folder, where make builds the demo
    installed = tmp_path / "site-packages" / "data"   # an installation: no pyproject.toml beside its folder
    monkeypatch.setattr(files, "DATA", installed)
    with pytest.raises(StoreError, match="Kein Datenbestand angegeben: bitte KIMTOOLS_DB setzen"):
        kim.Store()


def test_a_window_counts_its_first_and_last_day_and_sees_the_cases_begun_before_it(db):
    def count(kennzahl, von, bis):
        return kim.wert(kim.kennzahlen("Herne", kennzahl=kennzahl, von=von, bis=bis, db=db), kennzahl)

    # F1 begins 01.02.2024, F2 15.03.2024: both days belong to a window that starts or ends on them
    assert count("neuzugaenge", "01.02.2024", "15.03.2024") == 2
    assert count("neuzugaenge", "01.02.2024", "14.03.2024") == 1
    assert count("neuzugaenge", "02.02.2024", "15.03.2024") == 1
    # open on the window's last day, both begun before the window: F2 ends 30.06.2024 and is no longer open that day
    assert count("faelle_offen", "01.04.2024", "29.06.2024") == 2
    assert count("faelle_offen", "01.04.2024", "30.06.2024") == 1
    assert count("abschluesse", "01.04.2024", "29.06.2024") == 0
    assert count("abschluesse", "01.04.2024", "30.06.2024") == 1
    # pooled: V1 (10.02., angenommen) and V2 (01.04., abgelehnt) answered in the window, one of them accepted
    both = kim.kennzahlen("Herne", kennzahl="annahmequote", von="2024-02-10", bis="2024-04-01", db=db)
    assert both[["zeitraum", "zaehler", "nenner", "wert"]].values.tolist() == [["2024-02-10/2024-04-01", 1, 2, 0.5]]
    assert kim.kennzahlen("Herne", kennzahl="annahmequote", von="2024-02-11", bis="2024-04-01", db=db)["zaehler"].tolist() == [0]


def test_the_last_twelve_months_end_on_the_data_end_and_a_year_holds_its_quarters(db):
    last = kim.kennzahlen("Herne", kennzahl="neuzugaenge", zeitraum="letzte_12_monate", db=db)
    assert last[["zeitraum", "zaehler"]].values.tolist() == [["2023-07-01/2024-06-30", 2]]   # data end: F2's end
    quarters = kim.kennzahlen("Herne", kennzahl="neuzugaenge", zeitraum="quartal", jahr=2024, db=db)
    assert quarters[["zeitraum", "zaehler"]].values.tolist() == [["2024-Q1", 2], ["2024-Q2", 0]]
    months = kim.kennzahlen("Herne", kennzahl="neuzugaenge", zeitraum="monat", von="01.02.2024", bis="31.03.2024", db=db)
    assert months[["zeitraum", "zaehler"]].values.tolist() == [["2024-02", 1], ["2024-03", 1]]
    with pytest.raises(UsageError, match="liegt nach dem Datenende von Herne \\(30.06.2024\\)"):
        kim.kennzahlen("Herne", von="01.01.2024", bis="01.07.2024", db=db)
    with pytest.raises(UsageError, match="von \\(2024-03-01\\) liegt nach bis"):
        kim.kennzahlen("Herne", von="01.03.2024", bis="01.02.2024", db=db)
    with pytest.raises(UsageError, match="bis '31.02.2024': kein Datum"):
        kim.kennzahlen("Herne", von="01.01.2024", bis="31.02.2024", db=db)


def test_one_value_of_a_breakdown_by_its_code_label_or_partner(db):
    housing = kim.kennzahlen("Herne", kennzahl="faelle_offen", merkmal="handlungsfeld", auspraegung="Wohnen",
                             quartal="2024-Q1", db=db)
    assert housing[["auspraegung", "zaehler"]].values.tolist() == [["wohnen", 1]]   # F1: sprache, wohnen
    jobcenter = kim.kennzahlen("Herne", kennzahl="vermittlungen", merkmal="an_partner", auspraegung="jobcenter",
                               jahr=2024, db=db)
    assert jobcenter[["auspraegung", "zaehler"]].values.tolist() == [["JC", 1]]
    by_name = kim.kennzahlen("Herne", kennzahl="vermittlungen", merkmal="an_partner",
                             auspraegung="Ausländerbehörde Herne", jahr=2024, db=db)
    assert by_name["auspraegung"].tolist() == ["ABH"]
    with pytest.raises(InputError, match="auspraegung = 'Astronomie': nicht unter handlungsfeld; da sind: .*wohnen"):
        kim.kennzahlen("Herne", kennzahl="faelle_offen", merkmal="handlungsfeld", auspraegung="Astronomie", db=db)
    # a need area of the code list no case of the question has: said, not an empty table
    with pytest.raises(InputError, match="auspraegung = 'Gesundheit': ohne Zeilen in dieser Frage"):
        kim.kennzahlen("Herne", kennzahl="faelle_offen", merkmal="handlungsfeld", auspraegung="Gesundheit", db=db)
    with pytest.raises(UsageError, match="auspraegung braucht ein merkmal"):
        kim.kennzahlen("Herne", auspraegung="wohnen", db=db)
