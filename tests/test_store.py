"""The store: atomic replacement per kommune, idempotent re-import, readers never see a mix.

Property tests (hypothesis) cover: a failed import leaves every stored table
(and the file itself) as it was; a repeated import changes nothing; a reader in
another process never sees a half-imported kommune.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASE, indicator_count, write_export
from kimtools import ImportValidationError, Store, StoreError, import_export
from kimtools.store import SCHEMA

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _snapshot(store: Store) -> dict[str, pd.DataFrame]:
    with store.snapshot():
        return {name: store.table(name).sort_values(list(store.table(name).columns)[:3]).reset_index(drop=True)
                for name in [*SCHEMA, "import_log"]}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _oberhausen(files: dict[str, str], n_cases: int = 1) -> dict[str, str]:
    files = dict(files)
    files["partner"] += "O-CM;Oberhausen;DRK Oberhausen;wohlfahrtsverband;;ja;Sterkrade\n"
    for i in range(n_cases):
        files["faelle"] += f"O-F{i};P-{i};Oberhausen;Sterkrade;O-CM;01.03.2024;;;pflegesetting;pflege;eingebuergert;;;;\n"
    return files


def test_import_replaces_each_kommune_as_a_whole(tmp_path):
    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "a", _oberhausen(BASE, 3)), store, show_progress=False)
    assert store.query("SELECT kommune, count(*) n FROM faelle GROUP BY 1 ORDER BY 1").values.tolist() == [
        ["Herne", 2], ["Oberhausen", 3]]
    # a later Herne export with one more case replaces Herne only; Oberhausen stays
    later = dict(BASE)
    later["faelle"] += "F3;PERS-0003;Herne;Wanne;CM1;01.07.2024;;;sonstige;teilhabe;ungeklaert;;;;\n"
    import_export(write_export(tmp_path / "b", later), store, show_progress=False)
    assert store.query("SELECT kommune, count(*) n FROM faelle GROUP BY 1 ORDER BY 1").values.tolist() == [
        ["Herne", 3], ["Oberhausen", 3]]
    log = store.import_log()
    assert log["kommune"].tolist() == ["Herne", "Herne", "Oberhausen"]
    assert log.iloc[0]["n_faelle"] == 3 and log.iloc[0]["quelle"] == "b"


def _hold_lock(path: str, held, release) -> None:
    from filelock import FileLock

    with FileLock(path):
        held.set()
        release.wait(60)


def test_an_import_waits_while_another_process_holds_the_writer_lock(tmp_path, base_export):
    """Only one writer at a time, across processes: the lock beside the store (``filelock``, which also works on
    Windows) keeps an import from starting until the other writer lets go."""
    import threading

    store = Store(tmp_path / "kim.duckdb")
    held, release = mp.Event(), mp.Event()
    holder = mp.get_context("fork").Process(target=_hold_lock, args=(str(tmp_path / ".kim.duckdb.lock"), held, release))
    holder.start()
    try:
        assert held.wait(30)
        importing = threading.Thread(target=import_export, args=(base_export, store), kwargs={"show_progress": False})
        importing.start()
        importing.join(2)
        assert importing.is_alive() and not store.exists()   # waiting, nothing written
        release.set()
        importing.join(60)
        assert not importing.is_alive() and store.kommunen() == ["Herne"]
    finally:
        release.set()
        holder.join(10)


def test_import_log_records_source_checksum_and_counts(tmp_path, base_export):
    store = Store(tmp_path / "kim.duckdb")
    import_export(base_export, store, show_progress=False)
    row = store.import_log().iloc[0]
    expected = hashlib.sha256()
    for name in sorted(p.name for p in base_export.iterdir()):
        data = (base_export / name).read_bytes()
        expected.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    assert row["sha256"] == expected.hexdigest()
    assert (row["n_faelle"], row["n_beratungen"], row["n_vermittlungen"], row["n_partner"]) == (2, 2, 2, 3)
    assert row["datenstand"] == pd.Timestamp("2024-06-30")
    assert row["kimtools_version"]


def test_older_export_is_refused_unless_forced(tmp_path):
    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "new", BASE), store, show_progress=False)
    older = dict(BASE)
    older["faelle"] = older["faelle"].replace("30.06.2024;ziel_erreicht", "30.04.2024;ziel_erreicht")
    older["statuswechsel"] = "fall_id;datum;nach_status\n"
    before = _digest(store.path)
    with pytest.raises(StoreError, match="faelle.csv endet am 30.04.2024, gespeichert bis 30.06.2024"):
        import_export(write_export(tmp_path / "old", older), store, show_progress=False)
    assert _digest(store.path) == before
    import_export(tmp_path / "old", store, force=True, show_progress=False)
    assert store.query("SELECT max(ende) m FROM faelle")["m"][0] == pd.Timestamp("2024-04-30")


def test_raw_person_ids_are_not_in_the_store_file(tmp_path, base_export):
    store = Store(tmp_path / "kim.duckdb")
    import_export(base_export, store, show_progress=False)
    raw = store.path.read_bytes()
    assert b"PERS-0001" not in raw and b"PERS-0002" not in raw
    assert "person_id" not in store.table("faelle").columns


def test_no_store_gives_an_actionable_message(tmp_path):
    with pytest.raises(StoreError, match="kimtools import"):
        Store(tmp_path / "missing.duckdb").connect()


# ----------------------------------------------------------------------------- properties
_BREAKAGES = st.sampled_from([
    ("faelle", ";duldung;", ";geduldet;"),
    ("faelle", "01.02.2024;;", "31.02.2024;;"),
    ("beratungen", ";45;", ";601;"),
    ("vermittlungen", "V1;F1", "V1;F9"),
    ("partner", ";jobcenter;", ";amt;"),
    ("stellen", ";1,5;", ";0;"),
    ("statuswechsel", ";ae_25b", ";xx"),
])


@SETTINGS
@given(breakage=_BREAKAGES, extra_cases=st.integers(0, 3))
def test_failed_import_leaves_store_unchanged(tmp_path_factory, breakage, extra_cases):
    tmp = tmp_path_factory.mktemp("fail")
    store = Store(tmp / "kim.duckdb")
    import_export(write_export(tmp / "good", _oberhausen(BASE, 2)), store, show_progress=False)
    before_tables, before_file = _snapshot(store), _digest(store.path)
    table, old, new = breakage
    files = _oberhausen(BASE, extra_cases + 1)
    files[table] = files[table].replace(old, new)
    with pytest.raises(ImportValidationError):
        import_export(write_export(tmp / "bad", files), store, show_progress=False)
    assert _digest(store.path) == before_file
    after = _snapshot(store)
    for name, frame in before_tables.items():
        pd.testing.assert_frame_equal(frame, after[name])
    assert not list(tmp.glob(".kim.duckdb.*.tmp"))


@SETTINGS
@given(n_oberhausen=st.integers(1, 5), with_herne_case=st.booleans())
def test_repeated_import_changes_nothing(tmp_path_factory, n_oberhausen, with_herne_case):
    tmp = tmp_path_factory.mktemp("repeat")
    files = _oberhausen(BASE, n_oberhausen)
    if with_herne_case:
        files["faelle"] += "F9;PERS-0009;Herne;Eickel;CM1;01.06.2024;;;sonstige;familie;duldung;;;;\n"
    source = write_export(tmp / "export", files)
    store = Store(tmp / "kim.duckdb")
    first, _ = import_export(source, store, show_progress=False)
    assert not first.unchanged
    before_tables, before_file = _snapshot(store), _digest(store.path)
    again, _ = import_export(source, store, show_progress=False)
    assert again.unchanged
    assert _digest(store.path) == before_file
    for name, frame in before_tables.items():
        pd.testing.assert_frame_equal(frame, _snapshot(store)[name])


def _reader(path: str, stop: mp.Event, ready: mp.Event, results: mp.Queue) -> None:
    """Read in a loop; every snapshot must be one of the states an import can leave."""
    store = Store(path)
    seen, errors = set(), []
    while not stop.is_set():
        try:
            with store.snapshot() as con:
                row = con.execute("""
                    SELECT (SELECT count(*) FROM faelle WHERE kommune = 'Oberhausen'),
                           (SELECT count(*) FROM beratungen WHERE kommune = 'Oberhausen'),
                           (SELECT max(n_faelle) FROM import_log WHERE kommune = 'Oberhausen'
                              AND import_id = (SELECT max(import_id) FROM import_log WHERE kommune = 'Oberhausen')),
                           (SELECT count(*) FROM faelle WHERE kommune = 'Herne')""").fetchone()
            seen.add(tuple(row))
            ready.set()
        except Exception as exc:  # noqa: BLE001 - any error is a failure of the guarantee
            errors.append(repr(exc))
    results.put((sorted(seen), errors))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 40), min_size=3, max_size=6))
def test_concurrent_reader_never_sees_half_an_import(tmp_path_factory, sizes):
    tmp = tmp_path_factory.mktemp("concurrent")
    store = Store(tmp / "kim.duckdb")

    def export(n: int, tag: str) -> Path:
        files = _oberhausen(BASE, n)
        files["beratungen"] += "".join(f"O-B{i};O-F{i};02.03.2024;;aufsuchend;\n" for i in range(n))
        return write_export(tmp / tag, files)

    import_export(export(sizes[0], "s0"), store, force=True, show_progress=False)   # Oberhausen has no referrals
    ctx = mp.get_context("spawn")
    stop, ready, results = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_reader, args=(str(store.path), stop, ready, results))
    proc.start()
    assert ready.wait(timeout=120), "the reader process did not start reading"
    for i, n in enumerate(sizes[1:], start=1):   # forced: a shrinking state is one of those to switch between
        import_export(export(n, f"s{i}"), store, force=True, show_progress=False)
        time.sleep(0.2)
    stop.set()
    seen, errors = results.get(timeout=60)
    proc.join(timeout=30)
    assert errors == []
    assert seen, "the reader saw nothing"
    for faelle, beratungen, logged, herne in seen:
        # a whole state: cases, consultations and the log entry all belong to one import
        assert faelle == beratungen == logged and faelle in sizes and herne == 2


def test_a_snapshot_reads_one_state_also_from_worker_threads(tmp_path):
    """Queries inside a snapshot, from this thread and from in_parallel's workers, keep reading the state the
    snapshot began with while an import replaces the file; the first query after it sees the import."""
    from kimtools.store import in_parallel

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "a", _oberhausen(BASE, 3)), store, show_progress=False)
    count = lambda: int(store.query("SELECT count(*) n FROM faelle WHERE kommune = 'Oberhausen'")["n"][0])  # noqa: E731
    with store.snapshot():
        assert count() == 3
        import_export(write_export(tmp_path / "b", _oberhausen(BASE, 5)), Store(store.path), show_progress=False)
        assert count() == 3 and in_parallel({"a": count, "b": count}) == {"a": 3, "b": 3}
    assert count() == 5 and in_parallel({"a": count, "b": count}) == {"a": 5, "b": 5}


def test_quality_summary_is_recorded_at_import_and_equals_the_live_one(tmp_path):
    """The summary the data-state page shows is stored with each import (so that the page never reads every case);
    it equals quality_summary of the stored tables, follows a re-import, and a store from before it was recorded
    gets the live computation."""
    import duckdb

    from kimtools.ingest.quality import quality_summary, stored_quality

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "a", _oberhausen(BASE, 3)), store, show_progress=False)
    import_export(write_export(tmp_path / "b", _oberhausen(BASE, 5)), store, show_progress=False)

    def live(k):
        return quality_summary(store.load(k, ("faelle", "beratungen", "vermittlungen")))

    for k in ("Herne", "Oberhausen"):
        stored = store.query("SELECT * FROM datenqualitaet WHERE kommune = ?", [k])
        pd.testing.assert_frame_equal(stored, live(k), check_dtype=False)
        pd.testing.assert_frame_equal(stored_quality(store, k), live(k), check_dtype=False)
    assert int(stored_quality(store, "Oberhausen")["faelle"][0]) == 5   # the re-import replaced the first summary
    old = tmp_path / "old.duckdb"   # as a store written before the summary was recorded
    shutil.copyfile(store.path, old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE datenqualitaet")
    pd.testing.assert_frame_equal(stored_quality(Store(old), "Herne"), live("Herne"), check_dtype=False)


def test_data_span_and_cells_are_stored_at_import_and_older_stores_compute_them(tmp_path):
    """Each kommune's first and last date (where open cases and waits are censored) and its cells (new, ended
    and open cases; referrals and waits) are stored with the import instead of being computed from every row by every query; they follow
    a re-import, and a store written before them gets the same answers."""
    import datetime as dt

    import duckdb

    from kimtools import indicator_table
    from kimtools.indicators.table import case_durations
    from kimtools.analysis.network import waiting_times
    from kimtools.indicators.cells import CELL_TABLES

    store = Store(tmp_path / "kim.duckdb")
    import_export(write_export(tmp_path / "a", _oberhausen(BASE, 3)), store, show_progress=False)
    # Herne by hand: first case begins 01.02.2024, the last date is F2's end 30.06.2024 (later than every
    # consultation and referral); Oberhausen's cases all begin 01.03.2024 and nothing else happens there
    spans = store.query("SELECT kommune, d0, d1 FROM datenspanne ORDER BY kommune")
    assert spans.values.tolist() == [["Herne", pd.Timestamp("2024-02-01"), pd.Timestamp("2024-06-30")],
                                     ["Oberhausen", pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01")]]
    files = _oberhausen(BASE, 2)
    files["faelle"] = files["faelle"].replace("O-F1;P-1;Oberhausen;Sterkrade;O-CM;01.03.2024;;",
                                              "O-F1;P-1;Oberhausen;Sterkrade;O-CM;01.03.2024;31.08.2024;ziel_erreicht")
    import_export(write_export(tmp_path / "b", files), store, show_progress=False)
    assert store.query("SELECT d1 FROM datenspanne WHERE kommune = 'Oberhausen'")["d1"][0] == pd.Timestamp("2024-08-31")
    assert store.info().set_index("kommune")["daten_bis"].dt.date.to_dict() == {
        "Herne": dt.date(2024, 6, 30), "Oberhausen": dt.date(2024, 8, 31)}
    # the re-import left Oberhausen two cases begun 01.03.2024, O-F1 ended 31.08.2024
    counts = ["neuzugaenge", "abschluesse", "faelle_offen"]
    cells = indicator_table(store, "Oberhausen", kennzahlen=counts)
    assert [[indicator_count(cells, k, zeitraum=q) for k in counts] for q in ("2024-Q1", "2024-Q2", "2024-Q3")] == [
        [2, 0, 2], [0, 0, 2], [0, 1, 1]]

    old = tmp_path / "old.duckdb"
    shutil.copyfile(store.path, old)
    with duckdb.connect(str(old)) as con:
        con.execute("; ".join(f"DROP TABLE {name}" for name in ("datenspanne", *CELL_TABLES)))
    assert Store(old).query("SELECT count(*) n FROM information_schema.tables WHERE table_name = 'datenspanne'")["n"][0] == 0
    pd.testing.assert_frame_equal(indicator_table(Store(old), by="stadtbezirk"), indicator_table(store, by="stadtbezirk"))
    for kennzahlen in ([*counts, "personen_erreicht"], ["annahmequote", "wartezeit_median_tage", "luecken"]):
        pd.testing.assert_frame_equal(indicator_table(Store(old), by="stadtbezirk", kennzahlen=kennzahlen),
                                      indicator_table(store, by="stadtbezirk", kennzahlen=kennzahlen))
    pd.testing.assert_frame_equal(waiting_times(Store(old), "Herne"), waiting_times(store, "Herne"))
    pd.testing.assert_frame_equal(Store(old).info(), store.info())
    # Herne's open case F1 runs from 01.02.2024 to the data end 30.06.2024: 150 days (29 + 31 + 30 + 31 + 29)
    for source in (store, Store(old)):
        durations = case_durations(source, "Herne").set_index("beendet")["dauer"]
        assert durations[False] == 150 and durations[True] == 107   # F2: 15.03. to 30.06.2024
