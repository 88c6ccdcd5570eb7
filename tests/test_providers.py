"""Provider deliveries (contract 1.1, *Deliveries*): a kommune assembled from its providers' own exports.

Herne has two providers, the Caritas (``CM1``) and the AWO (``CM2``). Each numbers its cases, consultations and
referrals 1, 2, 3 on its own and lists the partners it knows. Every expected value is counted by hand from the
rows written here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import write_export
from kimtools import Store, indicator_table
from kimtools.analysis.network import referral_edges
from kimtools.views.planung import planning_views
from kimtools.errors import DeliveryRefused, ImportValidationError
from kimtools.exchange.content import default_range
from kimtools.ingest.demo import generate_demo
from kimtools.ingest.demo_deliveries import lagging_export, provider_deliveries
from kimtools.ingest.files import write_export_csv
from kimtools.ingest.importer import import_export
from kimtools.ingest.providers import map_partners
from kimtools.panels.lenkungskreis import LenkungskreisPanel

KEY = b"k" * 32
PARTNER_HEAD = "partner_id;kommune;name;typ;rechtskreis;case_management;stadtbezirk\n"
PARTNERS = {
    "CM1": "CM1;Herne;Caritas Herne;wohlfahrtsverband;;ja;Herne-Mitte\nJC;Herne;Jobcenter Herne;jobcenter;sgb2;nein;\n",
    # the AWO spells the Jobcenter its own way (the same after case and punctuation) and knows the Caritas
    "CM2": "CM2;Herne;AWO Herne;wohlfahrtsverband;;ja;Sodingen\nJC;Herne;JOBCENTER  HERNE;jobcenter;sgb2;nein;\n"
           "CM1;Herne;Caritas Herne;wohlfahrtsverband;;ja;Herne-Mitte\n",
}
CASE_HEAD = ("fall_id;person_id;kommune;stadtbezirk;traeger;beginn;ende;abschlussgrund;zielgruppe;handlungsfelder;"
             "aufenthaltsstatus;zugang_ueber;geschlecht;geburtsjahr;haushalt_personen\n")


def case(fid: str, person: str, provider: str, beginn: str, ende: str = "") -> str:
    closed = "ziel_erreicht" if ende else ""
    return f"{fid};{person};Herne;Herne-Mitte;{provider};{beginn};{ende};{closed};erstintegration;sprache;duldung;;w;1990;1\n"


def delivery(provider: str, cases: list[tuple], partner_rows: str | None = None, posts: float = 1.0) -> dict[str, str]:
    """A provider's export: ``cases`` as (id, person, beginn[, ende]); each case has one consultation on its first day
    and one referral to the Jobcenter the day after, numbered 1, 2, 3 by the provider."""
    b = "".join(f"{i + 1};{c[0]};{c[2]};30;persoenlich;sprache\n" for i, c in enumerate(cases))
    v = "".join(f"{i + 1};{c[0]};{c[2]};JC;arbeit;angenommen;;\n" for i, c in enumerate(cases))
    return {
        "partner": PARTNER_HEAD + (partner_rows if partner_rows is not None else PARTNERS[provider]),
        "faelle": CASE_HEAD + "".join(case(c[0], c[1], provider, *c[2:]) for c in cases),
        "beratungen": "beratung_id;fall_id;datum;dauer_min;form;handlungsfeld\n" + b,
        "vermittlungen": "vermittlung_id;fall_id;datum;an_partner;handlungsfeld;status;erstkontakt;luecke\n" + v,
        "stellen": f"traeger;stadtbezirk;vzae;von;bis\n{provider};;{str(posts).replace('.', ',')};01.01.2024;\n",
    }


def deliver(tmp_path, store, name, files, providers, **kw):
    return import_export(write_export(tmp_path / name, files), store, key=KEY, show_progress=False,
                         providers=providers, **kw)


def cases_of(store: Store) -> pd.DataFrame:
    return store.query("SELECT fall_id, traeger FROM faelle ORDER BY fall_id")


def per_provider(store: Store, kennzahl: str, zeitraum: str) -> dict[str, int]:
    t = indicator_table(store, by="traeger", period="quarter")
    sel = t[(t["kennzahl"] == kennzahl) & (t["zeitraum"] == zeitraum)]
    return dict(zip(sel["traeger"], sel["zaehler"].astype(int)))


CM1_CASES = [("1", "P-A", "05.01.2024"), ("2", "P-B", "10.01.2024")]
CM2_CASES = [("1", "P-C", "08.01.2024"), ("2", "P-D", "12.02.2024"), ("3", "P-E", "01.03.2024")]


@pytest.fixture
def two_providers(tmp_path) -> Store:
    store = Store(tmp_path / "kim.duckdb")
    deliver(tmp_path, store, "cm1", delivery("CM1", CM1_CASES), ("CM1",))
    deliver(tmp_path, store, "cm2", delivery("CM2", CM2_CASES), ("CM2",))
    return store


def test_case_ids_that_clash_between_providers_are_kept_apart(two_providers):
    # both number their cases from 1: five cases, each consultation and referral on its own provider's case
    assert cases_of(two_providers).values.tolist() == [["CM1:1", "CM1"], ["CM1:2", "CM1"], ["CM2:1", "CM2"],
                                                       ["CM2:2", "CM2"], ["CM2:3", "CM2"]]
    assert per_provider(two_providers, "neuzugaenge", "2024-Q1") == {"CM1": 2, "CM2": 3}
    assert per_provider(two_providers, "beratungen", "2024-Q1") == {"CM1": 2, "CM2": 3}
    assert per_provider(two_providers, "vermittlungen", "2024-Q1") == {"CM1": 2, "CM2": 3}
    assert two_providers.query("SELECT sum(vzae) AS v FROM stellen")["v"][0] == 2.0


def test_a_provider_delivery_again_changes_only_its_slice(tmp_path, two_providers):
    before = two_providers.query("SELECT * FROM faelle WHERE traeger = 'CM1' ORDER BY fall_id")
    result, _ = deliver(tmp_path, two_providers, "cm2b", delivery("CM2", CM2_CASES + [("4", "P-F", "02.03.2024")]),
                        ("CM2",))
    assert not result.unchanged
    assert per_provider(two_providers, "neuzugaenge", "2024-Q1") == {"CM1": 2, "CM2": 4}
    pd.testing.assert_frame_equal(before, two_providers.query("SELECT * FROM faelle WHERE traeger = 'CM1' ORDER BY fall_id"))
    # the same delivery once more: nothing to do
    again, _ = deliver(tmp_path, two_providers, "cm2b", delivery("CM2", CM2_CASES + [("4", "P-F", "02.03.2024")]),
                       ("CM2",))
    assert again.unchanged


def test_a_case_moved_to_another_provider(tmp_path, two_providers):
    # the Caritas hands P-B's case over to the AWO, which numbers it 4
    deliver(tmp_path, two_providers, "cm2b", delivery("CM2", CM2_CASES + [("4", "P-B", "10.01.2024")]), ("CM2",))
    assert len(cases_of(two_providers)) == 6   # until the Caritas delivers again, both have it
    deliver(tmp_path, two_providers, "cm1b", delivery("CM1", CM1_CASES[:1]), ("CM1",), force=True)
    assert per_provider(two_providers, "neuzugaenge", "2024-Q1") == {"CM1": 1, "CM2": 4}
    assert cases_of(two_providers)["fall_id"].tolist() == ["CM1:1", "CM2:1", "CM2:2", "CM2:3", "CM2:4"]


@pytest.mark.parametrize("after, refused", [(8, False), (7, True)])
def test_a_delivery_that_would_shrink_its_own_slice_is_refused(tmp_path, after, refused):
    """Ten Caritas cases against 40 of the AWO: a delivery of 7 loses 30 % of the Caritas' slice (refused, though
    the kommune loses only 6 %), one of 8 loses 20 % (not more than a fifth: goes through)."""
    store = Store(tmp_path / "kim.duckdb")
    ten = [(str(i), f"P-{i}", "05.01.2024") for i in range(1, 11)]
    forty = [(str(i), f"Q-{i}", "05.01.2024") for i in range(1, 41)]
    deliver(tmp_path, store, "cm1", delivery("CM1", ten), ("CM1",))
    deliver(tmp_path, store, "cm2", delivery("CM2", forty), ("CM2",))
    attempt = lambda: deliver(tmp_path, store, "cm1b", delivery("CM1", ten[:after]), ("CM1",))  # noqa: E731
    if refused:
        with pytest.raises(DeliveryRefused) as exc:
            attempt()
        assert "faelle.csv: 10 → 7 Zeilen" in exc.value.message("de")
        assert per_provider(store, "neuzugaenge", "2024-Q1") == {"CM1": 10, "CM2": 40}   # nothing changed
    else:
        attempt()
        assert per_provider(store, "neuzugaenge", "2024-Q1") == {"CM1": 8, "CM2": 40}


def test_an_export_of_some_providers_without_traeger_is_refused_with_the_command(tmp_path, two_providers):
    source = write_export(tmp_path / "only cm1", delivery("CM1", CM1_CASES))
    with pytest.raises(DeliveryRefused) as exc:
        import_export(source, two_providers, key=KEY, show_progress=False)
    text = exc.value.message("de")
    assert "nur Fälle der Träger CM1; gespeichert sind auch CM2" in text
    assert f"kimtools import '{source}' --traeger CM1" in text
    assert len(cases_of(two_providers)) == 5


def test_a_case_of_a_provider_the_delivery_does_not_cover_is_a_problem(tmp_path, two_providers):
    files = delivery("CM1", CM1_CASES)
    files["faelle"] += case("9", "P-Z", "CM2", "05.01.2024")
    files["partner"] += "CM2;Herne;AWO Herne;wohlfahrtsverband;;ja;Sodingen\n"
    with pytest.raises(ImportValidationError) as exc:
        deliver(tmp_path, two_providers, "mixed", files, ("CM1",))
    p = exc.value.problems
    assert p[["datei", "zeile", "spalte", "wert"]].values.tolist() == [["faelle.csv", 4, "traeger", "CM2"]]
    assert "nicht abdeckt (sie deckt CM1)" in p["grund_de"].iloc[0]


def test_a_contradicting_partner_row_is_reported_and_the_stored_one_kept_unless_forced(tmp_path, two_providers):
    rows = PARTNERS["CM2"].replace("JOBCENTER  HERNE;jobcenter;sgb2", "Volkshochschule Herne;vhs;")
    result, _ = deliver(tmp_path, two_providers, "cm2b", delivery("CM2", CM2_CASES[:2] + [("3", "P-E", "02.03.2024")],
                                                                   rows), ("CM2",))
    clash = result.contradictions
    assert clash[["schluessel", "spalte", "gespeichert", "geliefert"]].values.tolist() == [
        ["JC", "name", "Jobcenter Herne", "Volkshochschule Herne"], ["JC", "typ", "jobcenter", "vhs"],
        ["JC", "rechtskreis", "sgb2", None]]
    jc = lambda: two_providers.query("SELECT name, typ FROM partner WHERE partner_id = 'JC'").values.tolist()  # noqa: E731
    assert jc() == [["Jobcenter Herne", "jobcenter"]]
    deliver(tmp_path, two_providers, "cm2c", delivery("CM2", CM2_CASES[:2] + [("3", "P-E", "03.03.2024")], rows),
            ("CM2",), force=True)
    assert jc() == [["Volkshochschule Herne", "vhs"]]
    # the AWO's spelling of the Jobcenter alone is no contradiction, and its partner list adds no second Jobcenter
    assert two_providers.query("SELECT count(*) AS n FROM partner")["n"][0] == 3


@pytest.mark.parametrize("shared, reached, met", [(True, 4, 1), (False, 5, 0)])
def test_a_person_with_cases_at_two_providers(tmp_path, shared, reached, met):
    """P-B has a case at each provider. With shared person keys four persons are reached in Q1 (P-A, P-B, P-C,
    P-D) and the second delivery's persons meet one stored person; with each provider's own keys P-B counts twice."""
    store = Store(tmp_path / "kim.duckdb")
    deliver(tmp_path, store, "cm1", delivery("CM1", CM1_CASES), ("CM1",), shared_person_keys=shared)
    deliver(tmp_path, store, "cm2", delivery("CM2", [("1", "P-C", "08.01.2024"), ("2", "P-B", "12.02.2024"),
                                                      ("3", "P-D", "01.03.2024")]), ("CM2",), shared_person_keys=shared)
    t = indicator_table(store, period="quarter")
    assert int(t[(t["kennzahl"] == "personen_erreicht") & (t["zeitraum"] == "2024-Q1")]["zaehler"].iloc[0]) == reached
    log = store.import_log().iloc[0]
    assert (log["traeger"], log["personenschluessel"], log["personen"], log["personen_geteilt"]) == (
        "CM2", "gemeinsam" if shared else "eigen", 3, met)


@pytest.mark.parametrize("cm2_end, q1, q2, bundle_to", [("31.03.2024", False, True, "2024-Q1"),
                                                        ("01.04.2024", False, True, "2024-Q1"),
                                                        ("30.03.2024", True, True, "2023-Q4"),
                                                        ("30.06.2024", False, False, "2024-Q2")])
def test_a_period_not_yet_delivered_by_every_provider_is_marked(tmp_path, cm2_end, q1, q2, bundle_to):
    """The Caritas has delivered up to 30.06.2024 (its last date); the AWO up to ``cm2_end``. A quarter is complete
    when every provider's data reach its last day (or the kommune's data end): the AWO's 31.03. completes Q1, its
    30.03. does not; Q2 is complete only once the AWO reaches 30.06. too. A comparison bundle ends by default with
    the last quarter complete for every provider."""
    store = Store(tmp_path / "kim.duckdb")
    deliver(tmp_path, store, "cm1", delivery("CM1", CM1_CASES + [("3", "P-X", "30.06.2024")]), ("CM1",))
    deliver(tmp_path, store, "cm2", delivery("CM2", CM2_CASES[:1] + [("2", "P-Y", cm2_end)]), ("CM2",))
    t = indicator_table(store, period="quarter")
    marks = t.drop_duplicates("zeitraum").set_index("zeitraum")["unvollstaendig"]
    assert (bool(marks["2024-Q1"]), bool(marks["2024-Q2"])) == (q1, q2)
    assert default_range(store, "Herne")[1] == bundle_to
    state = store.delivery_state()
    assert state[["traeger", "datenende"]].values.tolist() == [
        ["CM1", pd.Timestamp("2024-06-30")], ["CM2", pd.to_datetime(cm2_end, dayfirst=True)]]


def test_the_demo_city_delivered_provider_by_provider_gives_its_whole_export(tmp_path):
    """Herne's five demo providers, each with its own numbering and spelling, one a month behind, imported in two
    orders with shared person keys, give the indicator table of Herne's whole-kommune export of the same data (all
    columns but the mark of incomplete periods, which only separate deliveries can know)."""
    cut, lagging = lagging_export(generate_demo(show_progress=False), "Herne")
    whole = Store(tmp_path / "whole.duckdb")
    folder = tmp_path / "whole"
    folder.mkdir()
    for name, frame in cut.items():
        write_export_csv(frame, folder / f"{name}.csv")
    import_export(folder, whole, key=KEY, show_progress=False)
    parts = provider_deliveries(cut)
    with_cases = {p: d for p, d in parts.items() if len(d["faelle"])}
    assert len(with_cases) == 5 and all(d["faelle"]["fall_id"].iloc[0] == "1" for d in with_cases.values())
    # the coordination (Baustein 1), the Ausländer- and the Einbürgerungsbehörde (Baustein 3) deliver posts only
    assert {frozenset(d["stellen"]["baustein"]) for p, d in parts.items() if p not in with_cases} == \
        {frozenset({"1"}), frozenset({"3"})} and len(parts) == 8
    for order in (sorted(parts), sorted(parts, reverse=True)):
        store = Store(tmp_path / f"parts-{order[0]}.duckdb")
        for provider in order:
            target = tmp_path / f"{order[0]}-{provider}"
            target.mkdir()
            for name, frame in parts[provider].items():
                write_export_csv(frame, target / f"{name}.csv")
            import_export(target, store, key=KEY, show_progress=False, providers=(provider,), shared_person_keys=True)
        for by in ("kommune", "stadtbezirk", "traeger"):
            for merkmal in (None, "zielgruppe", "an_partner", "baustein"):
                a = indicator_table(whole, by=by, period="quarter", merkmal=merkmal)
                b = indicator_table(store, by=by, period="quarter", merkmal=merkmal)
                pd.testing.assert_frame_equal(a.drop(columns="unvollstaendig"), b.drop(columns="unvollstaendig"))
        marked = b.loc[b["unvollstaendig"], "zeitraum"].unique().tolist()
        assert marked == ["2026-Q3"] and not a["unvollstaendig"].any()
        assert store.delivery_state().set_index("traeger").loc[lagging, "datenende"] < pd.Timestamp("2026-09-01")


def test_the_partner_register_maps_each_providers_own_ids_and_lists_the_unknown(tmp_path, two_providers):
    """The AWO's system calls the Jobcenter PAR-7 and knows a Tafel (PAR-9) nobody has delivered before. PAR-7 is
    the register's JC (same type and name, spelled otherwise), PAR-9 is new and listed for checking. The network
    then has one Jobcenter node with the two Caritas and the three AWO referrals to it."""
    files = delivery("CM2", CM2_CASES, "CM2;Herne;AWO Herne;wohlfahrtsverband;;ja;Sodingen\n"
                                       "PAR-7;Herne;Jobcenter  Herne;jobcenter;sgb2;nein;\n"
                                       "PAR-9;Herne;Tafel Herne e.V.;sonstige;;nein;\n")
    files["vermittlungen"] = files["vermittlungen"].replace(";JC;", ";PAR-7;")
    files["vermittlungen"] += "4;3;05.03.2024;PAR-9;finanzen;vermittelt;;\n"
    result, _ = deliver(tmp_path, two_providers, "cm2-own-ids", files, ("CM2",))
    assert result.register[["partner_id_traeger", "partner_id", "herkunft"]].values.tolist() == [
        ["CM2", "CM2", "gleich"], ["PAR-7", "JC", "name"], ["PAR-9", "PAR-9", "neu"]]
    edges = referral_edges(two_providers, "Herne").query("richtung == 'aus'")
    assert dict(zip(zip(edges["quelle"], edges["ziel"]), edges["n"])) == {
        ("CM1", "JC"): 2, ("CM2", "JC"): 3, ("CM2", "PAR-9"): 1}
    assert sorted(two_providers.query("SELECT partner_id FROM partner")["partner_id"]) == ["CM1", "CM2", "JC", "PAR-9"]
    # the next delivery finds PAR-7 in the register's map, even spelled otherwise
    again = files | {"partner": files["partner"].replace("Jobcenter  Herne", "JC")}
    result, _ = deliver(tmp_path, two_providers, "cm2-again", again, ("CM2",))
    assert result.register.set_index("partner_id_traeger").loc["PAR-7", ["partner_id", "herkunft"]].tolist() == [
        "JC", "zuordnung"]


def test_the_pages_mark_a_quarter_not_yet_delivered_by_every_provider(tmp_path):
    """The AWO has delivered up to 31.03.2024, the Caritas up to 30.06.2024: on the steering committee's page Q1 is
    complete and says nothing, Q2 says it is incomplete and who is outstanding, on its tiles and above them, and the
    trend figure shades Q2 (the second of its two quarters) and no other."""
    store = Store(tmp_path / "kim.duckdb")
    deliver(tmp_path, store, "cm1", delivery("CM1", CM1_CASES + [("3", "P-X", "30.06.2024")]), ("CM1",))
    deliver(tmp_path, store, "cm2", delivery("CM2", CM2_CASES[:1] + [("2", "P-Y", "31.03.2024")]), ("CM2",))
    panel = LenkungskreisPanel(store)
    for quarter, marked in (("2024-Q1", False), ("2024-Q2", True)):
        panel.show({**panel.filters.value, "zeitraum": quarter})
        assert ("ist noch unvollständig" in panel.message.value) == marked
        assert ("ausstehend: AWO Herne" in panel.message.value) == marked
        assert ("(unvollständig: nicht alle Träger geliefert)" in panel.tiles.value) == marked
    shapes = panel.figures["trend"].figure["layout"].get("shapes", [])
    assert [(s["x0"], s["x1"]) for s in shapes] == [(0.5, 1.5)]


@pytest.mark.parametrize("spelled, also, mapped", [
    ("Caritasverband Herne e.V.", "", "CM1"),   # the register's "Caritas Herne": "caritas" starts "caritasverband"
    ("Diakonie Herne", "", None),               # shares only the place: another partner
    ("Herne", "", None),                        # the place's name alone tells nothing
    ("Caritas Herne Süd", "P-6;Herne;Caritas Herne Nord;wohlfahrtsverband;;nein;\n", None),   # two alike: neither
])
def test_a_partner_spelled_otherwise_is_mapped_only_when_its_name_is_alike_one_to_one(tmp_path, two_providers,
                                                                                       spelled, also, mapped):
    files = delivery("CM2", CM2_CASES, f"CM2;Herne;AWO Herne;wohlfahrtsverband;;ja;Sodingen\nJC;Herne;Jobcenter Herne;"
                                       f"jobcenter;sgb2;nein;\nP-5;Herne;{spelled};wohlfahrtsverband;;nein;\n{also}")
    files["faelle"] = files["faelle"].replace(";;w;1990", ";P-5;w;1990", 1)   # the AWO's case 1 came through it
    result, _ = deliver(tmp_path, two_providers, "spelled", files, ("CM2",))
    row = result.register.set_index("partner_id_traeger").loc["P-5"]
    assert (row["partner_id"], row["herkunft"]) == ((mapped, "aehnlich") if mapped else ("P-5", "neu"))
    came = two_providers.query("SELECT zugang_ueber FROM faelle WHERE fall_id = 'CM2:1'")["zugang_ueber"][0]
    assert came == (mapped or "P-5")


def test_the_place_name_alone_makes_no_partner_alike():
    """The register's only welfare organisation is the Caritas Herne; a delivered "Herne" (type alike) shares only the
    place and stays new, a delivered "Caritas" is it."""
    register = pd.DataFrame({"partner_id": ["CV"], "name": ["Caritas Herne"], "typ": ["wohlfahrtsverband"]})
    none = pd.DataFrame(columns=["traeger", "partner_id_traeger", "partner_id"])
    for name, expected in (("Herne", ("P", "neu")), ("Caritas", ("CV", "aehnlich"))):
        delivered = pd.DataFrame({"kommune": ["Herne"], "partner_id": ["P"], "name": [name], "typ": ["wohlfahrtsverband"]})
        m = map_partners(register, none, delivered, ("AWO",))
        assert tuple(m[["partner_id", "herkunft"]].iloc[0]) == expected


@pytest.mark.parametrize("cm2_end, quarters", [("31.03.2024", ["2024Q1"]), ("30.06.2024", ["2024Q1", "2024Q2"])])
def test_planning_forecasts_from_quarters_every_provider_has_delivered(tmp_path, cm2_end, quarters):
    """The Caritas has delivered up to 30.06.2024; while the AWO has delivered only up to 31.03.2024, Q2 is no
    history to forecast from."""
    store = Store(tmp_path / "kim.duckdb")
    deliver(tmp_path, store, "cm1", delivery("CM1", CM1_CASES + [("3", "P-X", "30.06.2024")]), ("CM1",))
    deliver(tmp_path, store, "cm2", delivery("CM2", CM2_CASES[:1] + [("2", "P-Y", cm2_end)]), ("CM2",))
    views = planning_views(store, "Herne")
    assert [str(q) for q in views["history"][("neuzugaenge", None)].index] == quarters
    assert views["quarters"] == [q.replace("Q", "-Q") for q in quarters]
