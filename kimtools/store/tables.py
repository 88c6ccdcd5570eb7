"""The store's tables: their columns and types, the import log, and the data span every reader relies on.

The store knows tables, not indicators: the tables derived from the data at import (data quality, data span, the
indicator table's cells) are written by what the importer hands it (:data:`Derive`).
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import duckdb
import pandas as pd

from .._version import __version__

__all__ = ["SCHEMA", "LATER_COLUMNS", "BOUNDARY_TABLE", "DECISIONS_TABLE", "DECISION_COLUMNS", "DATA_TABLES", "DATA_SPAN_SQL", "SPAN_TABLE", "LOG_COUNTS", "DELIVERY_COLUMNS", "Derive", "ensure_schema",
           "log_import",
           "row_counts"]

#: Column types of every stored table. ``kommune`` leads every data table.
SCHEMA: dict[str, dict[str, str]] = {
    "faelle": {
        "kommune": "VARCHAR", "fall_id": "VARCHAR", "person_pseudonym": "VARCHAR", "stadtbezirk": "VARCHAR",
        "traeger": "VARCHAR", "beginn": "DATE", "ende": "DATE", "abschlussgrund": "VARCHAR",
        "zielgruppe": "VARCHAR", "handlungsfelder": "VARCHAR", "aufenthaltsstatus": "VARCHAR",
        "zugang_ueber": "VARCHAR", "geschlecht": "VARCHAR", "geburtsjahr": "INTEGER", "haushalt_personen": "INTEGER",
        "mitberatene": "INTEGER",
    },
    "fall_handlungsfelder": {"kommune": "VARCHAR", "fall_id": "VARCHAR", "handlungsfeld": "VARCHAR"},
    "beratungen": {
        "kommune": "VARCHAR", "beratung_id": "VARCHAR", "fall_id": "VARCHAR", "datum": "DATE",
        "dauer_min": "INTEGER", "form": "VARCHAR", "handlungsfeld": "VARCHAR",
    },
    "vermittlungen": {
        "kommune": "VARCHAR", "vermittlung_id": "VARCHAR", "fall_id": "VARCHAR", "datum": "DATE",
        "an_partner": "VARCHAR", "handlungsfeld": "VARCHAR", "status": "VARCHAR", "erstkontakt": "DATE",
        "luecke": "VARCHAR",
    },
    "partner": {
        "kommune": "VARCHAR", "partner_id": "VARCHAR", "name": "VARCHAR", "typ": "VARCHAR",
        "rechtskreis": "VARCHAR", "case_management": "BOOLEAN", "stadtbezirk": "VARCHAR",
    },
    "stellen": {
        "kommune": "VARCHAR", "traeger": "VARCHAR", "baustein": "VARCHAR", "funktion": "VARCHAR",
        "stadtbezirk": "VARCHAR", "vzae": "DOUBLE", "besetzt": "BOOLEAN", "foerderung": "VARCHAR",
        "von": "DATE", "bis": "DATE",
    },
    "statuswechsel": {"kommune": "VARCHAR", "fall_id": "VARCHAR", "datum": "DATE", "nach_status": "VARCHAR"},
    # the partner register's map: which register partner a provider's own partner ID is (provider deliveries)
    "partner_zuordnung": {"kommune": "VARCHAR", "traeger": "VARCHAR", "partner_id_traeger": "VARCHAR",
                          "partner_id": "VARCHAR", "herkunft": "VARCHAR"},
    # the figures every rate per 1,000 uses: one per district (herkunft: amtlich, export or mitgeliefert)
    "bezirke": {
        "kommune": "VARCHAR", "stadtbezirk": "VARCHAR", "einwohner": "BIGINT", "auslaender": "BIGINT",
        "stand": "DATE", "quelle": "VARCHAR", "herkunft": "VARCHAR",
    },
    # every official figure imported from the statistics office (kimtools bezirke), each date kept
    "bezirkszahlen": {
        "kommune": "VARCHAR", "stadtbezirk": "VARCHAR", "einwohner": "BIGINT", "auslaender": "BIGINT",
        "stand": "DATE", "quelle": "VARCHAR", "importiert": "TIMESTAMP",
    },
}
DATA_TABLES = tuple(SCHEMA)
#: columns added by later versions (contract 1.2), with what the rows of an older store mean in them: its posts are
#: filled, Land-funded case-management posts of Baustein 2, as every post of a 1.1 export; its cases have no
#: household members recorded. :func:`ensure_schema` adds them at the next write; until then readers see these
#: values (:func:`~kimtools.store.queries.run_read`).
LATER_COLUMNS: dict[str, dict[str, str]] = {
    "faelle": {"mitberatene": "NULL::INTEGER"},
    "stellen": {"baustein": "'2'", "funktion": "'case_management'", "besetzt": "true", "foerderung": "'land'"},
}
#: per kommune the first and the last date in its data (``kommune, d0, d1``): case starts and ends,
#: consultations, referrals. ``d1`` is the data end, where open cases and waits are censored.
DATA_SPAN_SQL = """SELECT kommune, min(d) AS d0, max(d) AS d1 FROM (
    SELECT kommune, beginn AS d FROM faelle UNION ALL SELECT kommune, ende FROM faelle
    UNION ALL SELECT kommune, datum FROM beratungen UNION ALL SELECT kommune, datum FROM vermittlungen)
    GROUP BY kommune"""
#: the table holding :data:`DATA_SPAN_SQL`, written at every import (queries name it instead of scanning all four
#: tables each time); :func:`run_read` puts the query in its place for a store written before it existed
SPAN_TABLE = "datenspanne"
#: what an import or a deletion hands the store to write the tables derived from the data (data quality, data
#: span, cells) into its copy, for the kommunen it changed: the store knows tables, not indicators
Derive = Callable[[duckdb.DuckDBPyConnection, tuple[str, ...]], None]



LOG_COUNTS = ("faelle", "beratungen", "vermittlungen", "partner", "stellen", "statuswechsel", "bezirke")

_LOG_DDL = """
CREATE TABLE IF NOT EXISTS import_log (
    import_id INTEGER, zeitpunkt TIMESTAMP, quelle VARCHAR, sha256 VARCHAR, kommune VARCHAR,
    datenstand DATE, kimtools_version VARCHAR,
    """ + ", ".join(f"n_{t} BIGINT" for t in LOG_COUNTS) + ")"
#: columns the import log gained later (added to older stores at their next import): the fingerprint of the
#: pseudonymisation key (:func:`~kimtools.ingest.pseudonym.key_fingerprint`, never the key), whether the import started
#: over with a new key on purpose, and whether it was forced past the look before replacing
_LOG_LATER = {"schluessel": "VARCHAR", "neuer_schluessel": "BOOLEAN", "erzwungen": "BOOLEAN"}
#: … and, per delivery (contract 1.1): the providers a provider delivery covered (comma-separated; empty: the
#: kommune as a whole), whose person keys it used (``kommune``: one export of the whole kommune; ``gemeinsam``: the
#: kommune's shared keys; ``eigen``: the providers' own), its persons, and how many of them also have cases with
#: another provider of the kommune (the same pseudonym: where the keys meet); and, for a source read through an
#: import profile, the profile's name and the tables it declares not delivered (comma-separated: their indicators
#: show no data for the kommune until a delivery has them)
DELIVERY_COLUMNS = {"traeger": "VARCHAR", "personenschluessel": "VARCHAR", "personen": "BIGINT",
                    "personen_geteilt": "BIGINT", "profil": "VARCHAR", "fehlende_tabellen": "VARCHAR"}


#: the data-quality summary of each kommune, computed from its stored tables at its import (what a dashboard shows
#: without reading every case; :func:`~kimtools.ingest.quality.quality_summary`)
_QUALITY_DDL = """
CREATE TABLE IF NOT EXISTS datenqualitaet (
    kommune VARCHAR, stichtag DATE, faelle BIGINT, ohne_beratung BIGINT, vermittlungen_offen_30 BIGINT,
    doku_luecken_monate BIGINT, parallele_faelle BIGINT, vollstaendigkeit DOUBLE)"""


#: the district boundaries a kommune supplied (``kimtools bezirke --karte``): one GeoJSON geometry (WGS 84) per district and a
#: point inside it for its name.
#: Not a data table: an import of cases leaves them as they are (public geodata, no person in them).
BOUNDARY_TABLE = "bezirksgrenzen"
_BOUNDARY_DDL = f"""
CREATE TABLE IF NOT EXISTS {BOUNDARY_TABLE} (
    kommune VARCHAR, stadtbezirk VARCHAR, geometrie VARCHAR, lon DOUBLE, lat DOUBLE, quelle VARCHAR, datei VARCHAR,
    importiert TIMESTAMP)"""


#: the steering committee's decisions (the Beschlussliste, ``kimtools beschluesse einlesen``), by kommune: the list's
#: columns, the row of the file each came from, the file and when it was read. Not a data table: an import of cases
#: leaves them as they are; a later list replaces a kommune's decisions as a whole; a frozen meeting state keeps them.
DECISIONS_TABLE = "beschluesse"
DECISION_COLUMNS = {
    "kommune": "VARCHAR", "beschluss_id": "VARCHAR", "datum": "DATE", "gremium": "VARCHAR", "titel": "VARCHAR",
    "beschreibung": "VARCHAR", "zustaendig": "VARCHAR", "luecke": "VARCHAR", "handlungsfeld": "VARCHAR",
    "kennzahl": "VARCHAR", "stadtbezirk": "VARCHAR", "merkmal": "VARCHAR", "auspraegung": "VARCHAR",
    "richtung": "VARCHAR", "zielwert": "DOUBLE", "frist": "DATE", "status": "VARCHAR", "umgesetzt_am": "DATE",
    "zeile": "INTEGER", "quelle": "VARCHAR", "eingelesen": "TIMESTAMP"}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in SCHEMA.items():
        cols = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    for name, columns in LATER_COLUMNS.items():
        for column, value in columns.items():
            con.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {column} {SCHEMA[name][column]} DEFAULT {value}")
    con.execute(_LOG_DDL)
    for column, kind in {**_LOG_LATER, **DELIVERY_COLUMNS}.items():
        con.execute(f"ALTER TABLE import_log ADD COLUMN IF NOT EXISTS {column} {kind}")
    con.execute(_QUALITY_DDL)
    con.execute(_BOUNDARY_DDL)
    con.execute(f"CREATE TABLE IF NOT EXISTS {DECISIONS_TABLE} ({', '.join(f'{c} {t}' for c, t in DECISION_COLUMNS.items())})")


def log_import(con: duckdb.DuckDBPyConnection, kommunen, source: str, sha256: str | None, stand: dict, counts: pd.DataFrame,
         fingerprint: str | None, new_key: bool, force: bool, delivery: dict[str, dict] | None = None) -> None:
    """One entry of the import log per kommune (``counts``: rows per table and kommune; ``delivery``: per kommune
    the values of :data:`DELIVERY_COLUMNS`)."""
    next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM import_log").fetchone()[0]
    now = dt.datetime.now().replace(microsecond=0)
    columns = ["import_id", "zeitpunkt", "quelle", "sha256", "kommune", "datenstand", "kimtools_version",
               *[f"n_{t}" for t in LOG_COUNTS], *_LOG_LATER, *DELIVERY_COLUMNS]
    for k in kommunen:
        row, scope = counts.loc[k], (delivery or {}).get(k, {})
        con.execute(f"INSERT INTO import_log ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                    [next_id, now, source, sha256, k, stand.get(k), __version__, *[int(row[t]) for t in LOG_COUNTS],
                     fingerprint, new_key, force, *[scope.get(c) for c in DELIVERY_COLUMNS]])


def row_counts(tables: dict[str, pd.DataFrame], kommunen: tuple[str, ...]) -> pd.DataFrame:
    data = {t: tables[t]["kommune"].value_counts().reindex(list(kommunen), fill_value=0) for t in LOG_COUNTS}
    return pd.DataFrame(data, index=list(kommunen)).astype("int64")
