"""The notebook API: a question in, the tidy table or the figure out (``import kimtools as kim``).

Each function reads like the question a coordinator asks::

    kim.kennzahlen("Herne", nach="stadtbezirk", kennzahl="reichweite_je_1000", quartal="2026-Q2")
    kim.wert(tabelle, "faelle_offen")                 # the latest period of the table
    kim.reichweite(kim.kennzahlen("Herne", nach="stadtbezirk"), quartal="2026-Q2")

The table is the engine's (:func:`kimtools.indicators.indicator_table`), remembered with what it was asked for
(``table.attrs``); the figure functions are those of :mod:`kimtools.present.figures`, each picking its indicator
and period out of the table itself (:func:`kimtools.indicators.rows.pick`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from .contract.codes import CODE_LISTS, label
from .contract.reference import load_reference, match_key
from .errors import InputError, UsageError
from .i18n import fmt_date
from .indicators import indicator_table
from .indicators.rows import LATEST, periods, pick, value
from .periods import months_back, parse_day, period_bounds, period_label
from .store import SPAN_TABLE, Store

__all__ = ["kennzahlen", "bezirksvergleich", "zeitraeume", "wert", "auswahl", "known", "match_name", "PERIOD_NAMES"]

#: the periods a question may name, German and English, as the engine calls them
PERIOD_NAMES = {"monat": "month", "quartal": "quarter", "jahr": "year", "seit_beginn": "total", "gesamt": "total",
                "letzte_12_monate": "last_12_months", "month": "month", "quarter": "quarter", "year": "year",
                "total": "total", "last_12_months": "last_12_months"}


def _store(db: Store | str | Path | None) -> Store:
    return db if isinstance(db, Store) else Store(db)


#: what a question may name, with the store's own list of it: the parameter, German and English words, the query
_KNOWN = {"kommune": ("keine Kommune", "kommune", None),
          "stadtbezirk": ("kein Bezirk", "district",
                          "select distinct stadtbezirk as name from faelle where kommune = ? and stadtbezirk is not null"),
          "traeger": ("kein Träger", "provider",
                      "select distinct traeger as name from faelle where kommune = ? and traeger is not null")}


def match_name(parameter: str, name: str, names: Iterable[str], kommune: str | None = None) -> str:
    """``name`` as ``names`` spell it (case, blanks, hyphens and the form of umlauts aside; a kommune also by its
    usual short name, as the reference knows it), else an error naming them all: a question about a kommune,
    district or provider that is not there gets an answer, not an empty table.

    >>> match_name("kommune", "herne", ["Bochum", "Herne"])
    'Herne'
    >>> match_name("kommune", "Mu\u0308lheim", ["Mülheim an der Ruhr"])   # a decomposed umlaut, the short name
    'Mülheim an der Ruhr'
    >>> match_name("stadtbezirk", "Wanne-Eickel", ["Eickel", "Herne-Mitte", "Wanne"], "Herne")
    Traceback (most recent call last):
    kimtools.errors.InputError: stadtbezirk = 'Wanne-Eickel': kein Bezirk von Herne im Datenbestand; bekannt sind: Eickel, Herne-Mitte, Wanne.
    """
    word, word_en, _sql = _KNOWN[parameter]
    names = list(names)
    if name in names:
        return name
    hits = [n for n in names if match_key(n) == match_key(name)]
    if not hits and parameter == "kommune":
        hits = [n for n in names if n == load_reference().resolve_kommune(name)]
    if len(hits) == 1:
        return hits[0]
    where, where_en = (f" von {kommune}", f" of {kommune}") if kommune else ("", "")
    raise InputError(f"{parameter} = {name!r}: {word}{where} im Datenbestand; bekannt sind: {', '.join(names)}.",
                     f"{parameter} = {name!r}: no {word_en}{where_en} in the store; known: {', '.join(names)}.")


def known(store: Store, parameter: str, name: str, kommune: str | None = None) -> str:
    """``name`` matched against what ``store`` holds (:func:`match_name`): its kommunen, or the districts or
    providers of ``kommune``."""
    _word, _word_en, sql = _KNOWN[parameter]
    names = store.kommunen() if sql is None else sorted(store.query(sql, [kommune])["name"].astype(str))
    try:
        return match_name(parameter, name, names, kommune)
    except InputError:
        if parameter == "kommune" and store.scope is not None:   # another login's kommune: the reader refuses it
            return name                                            # as such (AccessError), not as unknown
        raise


def kennzahlen(kommune: str | None = None, *, nach: str = "kommune", zeitraum: str | None = None,
               kennzahl: str | Iterable[str] | None = None, quartal: str | None = None, jahr: str | int | None = None,
               monat: str | None = None, von: dt.date | str | None = None, bis: dt.date | str | None = None,
               merkmal: str | None = None, auspraegung: str | None = None, filter: Mapping[str, str] | None = None,
               db: Store | str | Path | None = None) -> pd.DataFrame:
    """The indicator table for a question, long and tidy.

    Parameters
    ----------
    kommune
        Only this kommune (default: every kommune of the store). Case, blanks and the form of umlauts do not matter;
        an unknown name is an error naming the known ones.
    nach
        ``kommune``, ``stadtbezirk`` or ``traeger``.
    zeitraum
        The unit of the periods: ``monat``, ``quartal`` (default), ``jahr``; one period pooled over a time window:
        ``seit_beginn`` (from the first case to the data end, labelled ``gesamt``), ``letzte_12_monate`` (the twelve
        months up to each kommune's data end), or any window ``von``–``bis`` (implied by them). English names work
        too (``month``, ``quarter``, ``year``, ``total``, ``last_12_months``). With ``jahr`` or ``von``/``bis`` a
        unit names the periods inside them: ``zeitraum="quartal", jahr=2025`` gives the four quarters of 2025.
    kennzahl
        One indicator or several (default: all of the catalogue, the installation's own included).
    quartal, jahr, monat
        Only this period (``"2026-Q2"``, ``2026``, ``"2026-05"``; ``"letztes"``: the latest of the data).
    von, bis
        A time window, first and last day (``"01.10.2025"``, ``"2025-10-01"`` or a date; either may be left out:
        the data's first day, the data end – of several kommunen the earliest): its numerators, denominators and
        intervals pooled over it, one period labelled ``2025-10-01/2026-09-30``. A ``bis`` after a kommune's data end
        is refused (the window would hold days without data).
    merkmal
        A breakdown (``zielgruppe``, ``handlungsfeld``, ``altersgruppe``, ``an_partner``, …).
    auspraegung
        Only this value of the breakdown: a code (``wohnen``), its label (``Wohnen``) or, for ``an_partner``, a
        partner's ID, name or type where one partner has it (``Jobcenter``).
    filter
        Only cases with these values of ``stadtbezirk``, ``traeger`` or ``zielgruppe``.
    db
        A :class:`~kimtools.Store` or the path of one (default: ``KIMTOOLS_DB`` or ``data/kim.duckdb``).

    Returns
    -------
    The engine's table (:func:`~kimtools.indicators.indicator_table`), its ``attrs`` saying what was asked.

    Examples
    --------
    The Jobcenter's acceptance over the last twelve months of Herne's data, with its interval:

    >>> t = kennzahlen("herne", kennzahl="annahmequote", merkmal="an_partner", auspraegung="Jobcenter",
    ...                zeitraum="letzte_12_monate")
    >>> t[["kommune", "auspraegung", "zeitraum"]].values.tolist()   # the demo's data end: 30.09.2026
    [['Herne', '05916-PAR06', '2025-10-01/2026-09-30']]
    >>> kennzahlen("Herne", kennzahl="neuzugaenge", zeitraum="quartal", jahr=2025)["zeitraum"].tolist()
    ['2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4']
    >>> kennzahlen("Atlantis")
    Traceback (most recent call last):
    kimtools.errors.InputError: kommune = 'Atlantis': keine Kommune im Datenbestand; bekannt sind: ...
    """
    named = {unit: label for unit, label in (("quarter", quartal), ("year", jahr), ("month", monat)) if label is not None}
    if len(named) > 1:
        raise UsageError("Bitte nur eines von quartal, jahr, monat angeben.", "Please give only one of quartal, jahr, monat.")
    window = von is not None or bis is not None
    if named and window:
        raise UsageError("Bitte entweder quartal, jahr oder monat angeben oder von/bis, nicht beides.",
                         "Please give quartal, jahr or monat, or von/bis, not both.")
    unit = PERIOD_NAMES.get(zeitraum) if zeitraum is not None else None
    if zeitraum is not None and (unit is None or (unit in _POOLED and (named or window)) or
                                 (named and _FINER.index(unit) > _FINER.index(next(iter(named))))):
        raise UsageError(f"zeitraum = {zeitraum!r} passt nicht: monat, quartal, jahr, seit_beginn oder letzte_12_monate"
                         + (f", feiner als {next(iter(named))} oder gleich." if named else "."),
                         f"zeitraum = {zeitraum!r} does not fit: monat, quartal, jahr, seit_beginn or last_12_months"
                         + (f", finer than {next(iter(named))} or the same." if named else "."))
    wanted = None if kennzahl is None else [kennzahl] if isinstance(kennzahl, str) else list(kennzahl)
    store = _store(db)
    if kommune is not None:
        kommune = known(store, "kommune", kommune)
    if filter:
        filter = {k: known(store, k, v, kommune) if k in _KNOWN and kommune is not None and v is not None else v
                  for k, v in filter.items()}
    ask = dict(by=nach, merkmal=merkmal, filters=filter, kennzahlen=wanted)
    if unit == "last_12_months" or window:
        spans = _spans(store, kommune)
        if unit == "last_12_months":   # each kommune its own twelve months, up to its data end
            parts = [indicator_table(store, k, period="total", von=first, bis=last, **ask)
                     for k, (first, last) in ((k, months_back(end)) for k, end in spans["d1"].items())]
            table = pd.concat(parts, ignore_index=True) if parts else indicator_table(store, kommune, **ask)
        else:
            first = parse_day(von, "von") if von is not None else min(spans["d0"])
            last = parse_day(bis, "bis") if bis is not None else min(spans["d1"])   # every kommune's data reach it
            late = [f"{k} ({fmt_date(end)})" for k, end in spans["d1"].items() if end < last]
            if late:
                raise UsageError(f"bis = {fmt_date(last)} liegt nach dem Datenende von {', '.join(late)}; "
                                 "bitte ein früheres bis wählen.",
                                 f"bis = {fmt_date(last)} is after the data end of {', '.join(late)}; "
                                 "please choose an earlier bis.")
            if unit is None:
                table = indicator_table(store, kommune, period="total", von=first, bis=last, **ask)
            else:   # the periods of the unit that lie wholly inside the window
                table = _inside(indicator_table(store, kommune, period=unit, **ask), first, last)
    elif named and unit is not None and unit != next(iter(named)):   # the quarters of a year, the months of one
        label = str(named[next(iter(named))])
        whole = indicator_table(store, kommune, period=unit, **ask)
        if label in LATEST:
            label = _latest(whole, next(iter(named)))
        table = _inside(whole, *period_bounds(label))
    else:
        unit = unit or (next(iter(named)) if named else "quarter")
        table = indicator_table(store, kommune, period=unit, **ask)
        label = named.get(unit)
        if label is not None:
            table = pick(table, None, str(label)).reset_index(drop=True)
    if auspraegung is not None:
        if merkmal is None:
            raise UsageError("auspraegung braucht ein merkmal (etwa merkmal=\"handlungsfeld\", auspraegung=\"wohnen\").",
                             "auspraegung needs a merkmal (e.g. merkmal=\"handlungsfeld\", auspraegung=\"wohnen\").")
        code = _value(store, kommune, merkmal, auspraegung, table["auspraegung"].dropna().astype(str).unique())
        table = table.loc[table["auspraegung"] == code].reset_index(drop=True)
    table.attrs.update({"kommune": kommune, "nach": nach, "zeitraum": unit or "window", "merkmal": merkmal,
                        "auspraegung": auspraegung, "filter": dict(filter or {}), "db": str(store.path)})
    return table


def bezirksvergleich(kennzahl: str = "reichweite_je_1000", *, oben: int | None = None, ueberdispersion: bool = False,
                     db: Store | str | Path | None = None, **frage: object) -> pd.DataFrame:
    """Every district of every kommune (or of ``kommune=…``) against its own kommune, highest value first: value and
    interval, the kommune's value, and ``lage`` in the funnel around it (``ueber_95``, ``ueber_99,8``: clearly
    above its kommune; ``innerhalb``: no clear difference; :func:`~kimtools.analysis.comparison.against_own_city`).

    ``oben``: only the first so many. ``frage``: the period and anything else :func:`kennzahlen` takes (default:
    ``zeitraum="letzte_12_monate"``). A rate of the catalogue with a denominator (``reichweite_je_1000``,
    ``annahmequote``, …).

    >>> bezirksvergleich("reichweite_je_1000", oben=3)[["kommune", "stadtbezirk", "lage"]].shape
    (3, 3)
    >>> bezirksvergleich("faelle_offen")
    Traceback (most recent call last):
    kimtools.errors.UsageError: kennzahl = 'faelle_offen' ist keine vergleichbare Quote; ...
    """
    from .analysis.comparison import against_own_city, comparable_indicators

    if kennzahl not in comparable_indicators():
        raise UsageError(f"kennzahl = {kennzahl!r} ist keine vergleichbare Quote; möglich: "
                         f"{', '.join(comparable_indicators())}.",
                         f"kennzahl = {kennzahl!r} is no comparable rate; possible: {', '.join(comparable_indicators())}.")
    if not {"zeitraum", "quartal", "jahr", "monat", "von", "bis"} & set(frage):
        frage["zeitraum"] = "letzte_12_monate"
    store = _store(db)
    districts = kennzahlen(nach="stadtbezirk", kennzahl=kennzahl, db=store, **frage)
    cities = kennzahlen(nach="kommune", kennzahl=kennzahl, db=store, **frage)
    out = against_own_city(districts, cities, kennzahl, use_overdispersion=ueberdispersion)
    return out.head(oben).reset_index(drop=True) if oben is not None else out


#: the units of periods from the finest; and the names of one pooled period
_FINER = ("month", "quarter", "year", "total", "last_12_months")
_POOLED = ("total", "last_12_months")


def _spans(store: Store, kommune: str | None) -> pd.DataFrame:
    """First and last day of the data, per kommune asked (all the store holds where ``kommune`` is None)."""
    sql = f"SELECT kommune, d0, d1 FROM {SPAN_TABLE}" + (" WHERE kommune = ?" if kommune else "") + " ORDER BY kommune"
    spans = store.query(sql, [kommune] if kommune else [])
    if spans.empty:
        raise InputError("Im Datenbestand sind keine Daten" + (f" von {kommune}." if kommune else "."),
                         "The store holds no data" + (f" of {kommune}." if kommune else "."))
    return spans.set_index("kommune").map(lambda d: pd.Timestamp(d).date())


def _inside(table: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The rows of ``table`` whose period lies wholly between the days ``first`` and ``last``."""
    bounds = {z: period_bounds(z) for z in table["zeitraum"].unique()}
    keep = table["zeitraum"].map(lambda z: bounds[z][0] >= first and bounds[z][1] <= last)
    return table.loc[keep.astype(bool)].reset_index(drop=True)


def _latest(table: pd.DataFrame, unit: str) -> str:
    """The label of the latest ``unit`` (year, quarter) the periods of ``table`` reach."""
    last = period_bounds(periods(table)[-1])[0]
    return period_label(pd.Timestamp(last), unit)


def _value(store: Store, kommune: str | None, merkmal: str, name: str, values: Iterable[str]) -> str:
    """The code of the breakdown's value ``name``: as the table holds it, by its label, or (``an_partner``) by the
    partner's name or, where one partner has it, type; else an error naming the values there are."""
    values = list(values)
    aliases: dict[str, str] = {v: v for v in values}
    codes = CODE_LISTS.get(merkmal, {})
    for code, (de, en) in codes.items():
        aliases.setdefault(de, code)
        aliases.setdefault(en, code)
    if merkmal == "an_partner":
        partners = store.query("SELECT partner_id, name, typ FROM partner" + (" WHERE kommune = ?" if kommune else ""),
                               [kommune] if kommune else [])
        partners = partners.loc[partners["partner_id"].isin(values)]
        for row in partners.itertuples():
            aliases.setdefault(str(row.name), row.partner_id)
        for typ, group in partners.groupby("typ"):
            if len(group) == 1:
                aliases.setdefault(str(typ), group["partner_id"].iloc[0])
                aliases.setdefault(label("partnertyp", str(typ), "de"), group["partner_id"].iloc[0])
    by_key: dict[str, set[str]] = {}
    for alias, code in aliases.items():
        by_key.setdefault(match_key(alias), set()).add(code)
    hits = by_key.get(match_key(name), set())
    if len(hits) == 1 and next(iter(hits)) in values:
        return next(iter(hits))
    why, why_en = (("mehrdeutig", "ambiguous") if len(hits) > 1 else
                   ("ohne Zeilen in dieser Frage", "without rows in this question") if hits else ("nicht", "not"))
    shown = [f"{v} ({label(merkmal, v)})" if v in codes and label(merkmal, v) != v else v for v in values]
    raise InputError(f"auspraegung = {name!r}: {why} unter {merkmal}; da sind: {', '.join(shown) or 'keine'}.",
                     f"auspraegung = {name!r}: {why_en} among {merkmal}; there are: {', '.join(shown) or 'none'}.")


def zeitraeume(table: pd.DataFrame) -> list[str]:
    """The periods of ``table`` in time order (the latest last).

    >>> import kimtools as kim
    >>> kim.zeitraeume(kim.kennzahlen("Herne", kennzahl="neuzugaenge", zeitraum="quartal", jahr=2025))
    ['2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4']
    """
    return periods(table)


def wert(table: pd.DataFrame, kennzahl: str, zeitraum: str | None = None, **gruppe: object) -> float:
    """The value of ``kennzahl`` in ``zeitraum`` (default: the latest of the table) for one group (e.g.
    ``stadtbezirk="Sodingen"``; none needed where the table has one).

    >>> import kimtools as kim
    >>> t = kim.kennzahlen("Herne", nach="stadtbezirk", kennzahl="neuzugaenge", jahr=2025)
    >>> kim.wert(t, "neuzugaenge", stadtbezirk="Eickel") == float(t.loc[t["stadtbezirk"] == "Eickel", "wert"].item())
    True
    >>> kim.wert(t, "neuzugaenge")   # four districts: which one?
    Traceback (most recent call last):
    kimtools.errors.InputError: ...
    """
    return value(table, kennzahl, zeitraum, **gruppe)


def auswahl(table: pd.DataFrame, kennzahl: str | Iterable[str] | None = None, zeitraum: str | list[str] | None = None,
            **gruppe: object) -> pd.DataFrame:
    """The rows of ``table`` for ``kennzahl`` in ``zeitraum`` (default: the latest; ``"alle"``: every period; a list:
    these) and
    ``gruppe`` (column values) – what a notebook shows as a table.

    >>> import kimtools as kim
    >>> t = kim.kennzahlen("Herne", kennzahl=["neuzugaenge", "faelle_offen"], zeitraum="quartal", jahr=2025)
    >>> kim.auswahl(t, "faelle_offen", zeitraum="alle")["zeitraum"].tolist()
    ['2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4']
    >>> kim.auswahl(t)["kennzahl"].tolist()   # the latest period, every indicator
    ['neuzugaenge', 'faelle_offen']
    """
    return pick(table, kennzahl if kennzahl is None or isinstance(kennzahl, str) else list(kennzahl), zeitraum,
                **gruppe).reset_index(drop=True)
