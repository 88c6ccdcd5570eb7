"""Tables and columns of the KIM case export, version 1.2: the single source of truth.

The reader checks these definitions column by column; cross-table rules
(references, dates within a case, ``abschlussgrund`` iff ``ende``) live in
:mod:`kimtools.ingest.read` because they need more than one column.

Decisions where the contract (``docs/exportformat.md``) is silent are
listed in ``docs/export-format-decisions.md`` and marked ``DECISION`` here.

Examples
--------
>>> TABLES["faelle"].column("beginn").kind
'date'
>>> [t.name for t in TABLES.values() if t.required]
['faelle', 'beratungen', 'vermittlungen', 'partner']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

__all__ = ["Column", "Table", "TABLES", "TABLE_ORDER"]

KINDS = ("id", "text", "date", "int", "decimal", "code", "codes")


@dataclass(frozen=True)
class Column:
    """One column of an export table.

    ``kind`` is one of ``id`` (string key), ``text``, ``date``, ``int``,
    ``decimal``, ``code`` (one value of ``code_list``) and ``codes`` (one or
    more values separated by ``,`` or ``|``). ``minimum``/``maximum`` bound
    numbers; ``maximum='current_year'`` is resolved at check time.
    """

    name: str
    kind: str
    required: bool = False
    code_list: str | None = None
    minimum: float | None = None
    maximum: float | str | None = None
    min_exclusive: bool = False
    not_future: bool = False
    max_length: int | None = None   # a text's most characters

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        assert (self.code_list is not None) == (self.kind in ("code", "codes")), self.name


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    #: columns that together must be unique (within a kommune)
    unique: tuple[str, ...] = ()
    #: optional columns the reader accepts beyond the contract (DECISION: ``kommune``
    #: in dependent tables resolves IDs that repeat across kommunen)
    extra_optional: tuple[Column, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns + self.extra_optional:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.extra_optional


_KOMMUNE_OPTIONAL = (Column("kommune", "text"),)

TABLES: Mapping[str, Table] = MappingProxyType({
    "faelle": Table("faelle", True, (
        Column("fall_id", "id", True),
        Column("person_id", "id", True),
        Column("kommune", "text", True),
        Column("stadtbezirk", "text", True),
        Column("traeger", "id", True),
        Column("beginn", "date", True, not_future=True),
        Column("ende", "date", not_future=True),
        Column("abschlussgrund", "code", code_list="abschlussgrund"),
        Column("zielgruppe", "code", True, code_list="zielgruppe"),
        Column("handlungsfelder", "codes", True, code_list="handlungsfeld"),
        Column("aufenthaltsstatus", "code", True, code_list="aufenthaltsstatus"),
        Column("zugang_ueber", "id"),
        Column("geschlecht", "code", code_list="geschlecht"),
        Column("geburtsjahr", "int", minimum=1900, maximum="current_year"),
        Column("haushalt_personen", "int", minimum=1),
        # (1.2) household members counselled alongside; < haushalt_personen is checked in ingest.read
        Column("mitberatene", "int", minimum=0),
    ), unique=("fall_id",)),
    "beratungen": Table("beratungen", True, (
        Column("beratung_id", "id", True),
        Column("fall_id", "id", True),
        Column("datum", "date", True, not_future=True),
        Column("dauer_min", "int", minimum=1, maximum=600),
        Column("form", "code", True, code_list="form"),
        Column("handlungsfeld", "code", code_list="handlungsfeld"),
    ), unique=("beratung_id",), extra_optional=_KOMMUNE_OPTIONAL),
    "vermittlungen": Table("vermittlungen", True, (
        Column("vermittlung_id", "id", True),
        Column("fall_id", "id", True),
        Column("datum", "date", True, not_future=True),
        Column("an_partner", "id", True),
        Column("handlungsfeld", "code", True, code_list="handlungsfeld"),
        Column("status", "code", True, code_list="vermittlungsstatus"),
        # DECISION: a first appointment may lie in the future (it is booked, not held).
        Column("erstkontakt", "date"),
        Column("luecke", "code", code_list="luecke"),
    ), unique=("vermittlung_id",), extra_optional=_KOMMUNE_OPTIONAL),
    "partner": Table("partner", True, (
        Column("partner_id", "id", True),
        Column("kommune", "text", True),
        Column("name", "text", True),
        Column("typ", "code", True, code_list="partnertyp"),
        Column("rechtskreis", "code", code_list="rechtskreis"),
        Column("case_management", "code", True, code_list="ja_nein"),
        Column("stadtbezirk", "text"),
    ), unique=("partner_id",)),
    "stellen": Table("stellen", False, (
        Column("traeger", "id", True),
        # (1.2) the Baustein, the post's function, whether it is filled, how it is funded: empty = a filled,
        # Land-funded case-management post of Baustein 2, as every post of a 1.1 export
        Column("baustein", "code", code_list="baustein"),
        Column("funktion", "code", code_list="funktion"),
        Column("stadtbezirk", "text"),
        Column("vzae", "decimal", True, minimum=0, maximum=20, min_exclusive=True),
        Column("besetzt", "code", code_list="ja_nein"),
        Column("foerderung", "code", code_list="foerderung"),
        Column("von", "date", True),
        Column("bis", "date"),
    ), extra_optional=_KOMMUNE_OPTIONAL),
    "statuswechsel": Table("statuswechsel", False, (
        Column("fall_id", "id", True),
        Column("datum", "date", True),
        Column("nach_status", "code", True, code_list="aufenthaltsstatus"),
    ), extra_optional=_KOMMUNE_OPTIONAL),
    "bezirke": Table("bezirke", False, (
        Column("kommune", "text", True),
        Column("stadtbezirk", "text", True),
        Column("einwohner", "int", True, minimum=1),
        Column("auslaender", "int", minimum=0),
        Column("stand", "date", True, not_future=True),
        Column("quelle", "text", True),
    ), unique=("stadtbezirk",)),
})

#: The order in which tables are read and reported.
TABLE_ORDER = tuple(TABLES)
