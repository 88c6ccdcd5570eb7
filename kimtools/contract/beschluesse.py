"""The Beschlussliste, version 1.0: the steering committee's list of decisions as the coordination keeps it
(``docs/beschlussliste.md``, from ``../shared/beschlussliste-format.md``). Its columns as data, checked column by
column by the reader (:mod:`kimtools.ingest.beschluesse`), which also checks the rules between columns and against
the store (a kommune, partner, district and indicator that exist; ``richtung`` iff ``kennzahl``; ``umgesetzt_am``
iff ``umgesetzt``).

Examples
--------
>>> [c.name for c in BESCHLUSSLISTE.columns if c.required]
['beschluss_id', 'kommune', 'datum', 'gremium', 'titel', 'status']
>>> BESCHLUSSLISTE.column("titel").max_length
120
"""

from __future__ import annotations

from .schema import Column, Table

__all__ = ["BESCHLUSSLISTE", "COLUMNS", "DONE", "CLOSED", "VERSION"]

VERSION = "1.0"

BESCHLUSSLISTE = Table("beschluesse", True, (
    Column("beschluss_id", "id", True),
    Column("kommune", "text", True),
    Column("datum", "date", True, not_future=True),
    Column("gremium", "code", True, code_list="gremium"),
    Column("titel", "text", True, max_length=120),
    Column("beschreibung", "text", max_length=1000),
    Column("zustaendig", "id"),
    Column("luecke", "code", code_list="luecke"),
    Column("handlungsfeld", "code", code_list="handlungsfeld"),
    Column("kennzahl", "id"),
    Column("stadtbezirk", "text"),
    Column("merkmal", "id"),
    Column("auspraegung", "text"),
    Column("richtung", "code", code_list="richtung"),
    Column("zielwert", "decimal"),
    Column("frist", "date"),
    Column("status", "code", True, code_list="beschluss_status"),
    Column("umgesetzt_am", "date", not_future=True),
), unique=("beschluss_id",))

#: the list's columns in the contract's order (the order of every file kimtools writes)
COLUMNS = tuple(c.name for c in BESCHLUSSLISTE.columns)
#: the status of a decision carried out (it has ``umgesetzt_am``; its "after" window can begin)
DONE = "umgesetzt"
#: the statuses that end a decision: neither can be overdue
CLOSED = ("umgesetzt", "verworfen")
