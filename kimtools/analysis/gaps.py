"""The gap register (Angebotslücken): referrals that could not meet a need, and why.

A referral with a ``luecke`` code documents that the need could not be met
(no offer, waiting time, language barrier, unclear responsibility, reach,
cost). Aggregated by needs area × district × period, these are the evidence a
Planungskonferenz or the Lenkungskreis needs to change structures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..contract import codes
from ..contract.reference import with_units
from ..errors import UsageError
from ..indicators.disclosure import DEFAULT_MINIMUM, HIDDEN, shown_cell, suppress_table
from ..i18n import current_lang, fmt_date, tr
from ..indicators.table import run_query
from ..periods import period_label
from ..spreadsheet import excel_writer
from ..store import memory_cursor, scope_sql

__all__ = ["gap_table", "top_gaps", "write_gap_register"]


def gap_table(source, kommune: str | None = None, period: str = "quarter",
              filters: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Referrals with a gap code by ``kommune, stadtbezirk, handlungsfeld, luecke, zeitraum``:
    ``vermittlungen`` (referrals) and ``faelle`` (distinct cases). Only combinations that occur."""
    if period not in ("month", "quarter", "year"):
        raise UsageError(f"Zeitraum {period!r} unbekannt (month, quarter, year).", f"Unknown period {period!r}.")
    where, params = scope_sql("f", kommune, filters, ["v.luecke IS NOT NULL"])
    sql = f"""SELECT f.kommune, f.stadtbezirk, v.handlungsfeld, v.luecke,
                     CAST(date_trunc('{period}', v.datum) AS DATE) AS ps, min(v.datum) AS erste,
                     count(*) AS vermittlungen, count(DISTINCT v.fall_id) AS faelle
              FROM vermittlungen v JOIN faelle f USING (kommune, fall_id)
              {where} GROUP BY ALL ORDER BY ALL"""
    out = run_query(source, sql, params)
    out["zeitraum"] = [period_label(p, period) for p in pd.to_datetime(out["ps"])]
    return out[["kommune", "stadtbezirk", "handlungsfeld", "luecke", "zeitraum", "ps", "erste", "vermittlungen", "faelle"]]


def top_gaps(gaps: pd.DataFrame, recent: int = 4) -> pd.DataFrame:
    """The gaps by needs area and gap type with their evidence, most referrals first.

    ``vermittlungen`` and ``faelle`` in all periods; ``bezirke`` (districts, most
    affected first, ties by name; referrals without a district count in the totals only); ``seit`` (first
    referral with this gap); ``letzte`` and ``davor``: referrals in the last ``recent`` periods of ``gaps``
    and in the ``recent`` before them; ``trend`` ``steigend``/``fallend``/``gleich``.
    """
    cols = ["kommune", "handlungsfeld", "luecke", "vermittlungen", "faelle", "bezirke", "seit", "letzte", "davor", "trend"]
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    # in DuckDB on the frame: the network page asks for this on every filter change, and pandas' grouped
    # aggregations and lists per group cost several times more on a few hundred rows
    sql = f"""WITH g AS (SELECT *, dense_rank() OVER (ORDER BY ps DESC) AS r FROM gaps),
        d AS (SELECT kommune, handlungsfeld, luecke, stadtbezirk, sum(vermittlungen) AS n FROM g
              WHERE stadtbezirk IS NOT NULL GROUP BY ALL)
        SELECT g.kommune, g.handlungsfeld, g.luecke, CAST(sum(vermittlungen) AS BIGINT) AS vermittlungen,
               CAST(sum(faelle) AS BIGINT) AS faelle, min(erste) AS seit,
               CAST(sum(vermittlungen) FILTER (WHERE r <= {recent}) AS BIGINT) AS letzte,
               CAST(sum(vermittlungen) FILTER (WHERE r > {recent} AND r <= {2 * recent}) AS BIGINT) AS davor,
               any_value(b.bezirke) AS bezirke
        FROM g LEFT JOIN (SELECT kommune, handlungsfeld, luecke, list(stadtbezirk ORDER BY n DESC, stadtbezirk) AS bezirke
                          FROM d GROUP BY ALL) b USING (kommune, handlungsfeld, luecke)
        GROUP BY ALL ORDER BY g.kommune, vermittlungen DESC, g.handlungsfeld, g.luecke"""
    with memory_cursor() as con:
        con.register("gaps", gaps[["kommune", "stadtbezirk", "handlungsfeld", "luecke", "ps", "erste",
                                   "vermittlungen", "faelle"]])
        out = con.execute(sql).df()
    out[["letzte", "davor"]] = out[["letzte", "davor"]].fillna(0).astype(int)
    out["bezirke"] = [list(b) if isinstance(b, (list, np.ndarray)) else [] for b in out["bezirke"]]
    out["trend"] = np.select([out["letzte"] > out["davor"], out["letzte"] < out["davor"]], ["steigend", "fallend"], "gleich")
    return out.astype({c: int for c in ("vermittlungen", "faelle", "letzte", "davor")})[cols]


_TREND = {"steigend": ("steigend", "rising"), "fallend": ("fallend", "falling"), "gleich": ("gleich", "level")}


def _masked(protected: pd.Series, original: pd.Series, minimum: int) -> list:
    """Counts for a sheet (integers, so that Excel can still sum them), small and hidden ones as text."""
    return [shown_cell(v, o, minimum) for v, o in zip(protected, original)]


def write_gap_register(path: str | Path, source, kommune: str, minimum: int = DEFAULT_MINIMUM,
                       recent: int = 4) -> Path:
    """Write the gap register of one kommune as an XLSX workbook for a Planungskonferenz or the Lenkungskreis.

    Sheets: overview (gaps with evidence and trend), districts (needs area ×
    district), trend (period × needs area), notes. Aggregates only; counts from
    1 to ``minimum - 1`` are hidden, and further cells with them wherever a
    total shown elsewhere would give a hidden count away (:func:`suppress_table`).
    Labels in the current language.
    """
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    gaps = gap_table(source, kommune)
    top = top_gaps(gaps, recent)
    de = current_lang() == "de"
    area = lambda c: codes.label("handlungsfeld", c)  # noqa: E731
    gap = lambda c: codes.label("luecke", c)  # noqa: E731

    # overview rows are (area, gap): each count column is protected as the area × gap table it is a part of,
    # so that neither an area's total (shown in the other sheets) nor a gap type's total gives a cell away
    def protected(col: str) -> list:
        wide = top.pivot_table(index="handlungsfeld", columns="luecke", values=col, aggfunc="sum", fill_value=0)
        cells = suppress_table(wide, minimum).stack()
        shown = pd.Series([cells.get((a, g)) for a, g in zip(top["handlungsfeld"], top["luecke"])], dtype="Int64")
        return _masked(shown, top[col], minimum)

    over = pd.DataFrame({
        tr({"de": "Handlungsfeld", "en": "needs area"}): top["handlungsfeld"].map(area),
        tr({"de": "Lücke", "en": "gap"}): top["luecke"].map(gap),
        tr({"de": "Vermittlungen", "en": "referrals"}): protected("vermittlungen"),
        tr({"de": "Fälle", "en": "cases"}): protected("faelle"),
        with_units({"de": "{Bezirke} (am stärksten betroffen zuerst)", "en": "{districts} (most affected first)"},
                   kommune): top["bezirke"].map(", ".join),
        tr({"de": "seit", "en": "since"}): top["seit"].map(fmt_date),
        tr({"de": f"letzte {recent} Quartale", "en": f"last {recent} quarters"}): protected("letzte"),
        tr({"de": f"{recent} Quartale davor", "en": f"{recent} quarters before"}): protected("davor"),
        tr({"de": "Trend", "en": "trend"}): top["trend"].map(lambda t: _TREND[t][0 if de else 1]),
    })
    by_district = gaps.pivot_table(index="handlungsfeld", columns="stadtbezirk", values="vermittlungen", aggfunc="sum",
                                   fill_value=0)
    shown = suppress_table(by_district, minimum)
    districts = pd.DataFrame({tr({"de": "Handlungsfeld", "en": "needs area"}): by_district.index.map(area)})
    for col in by_district.columns:
        districts[col] = _masked(shown[col], by_district[col], minimum)
    trend = gaps.pivot_table(index="zeitraum", columns="handlungsfeld", values="vermittlungen", aggfunc="sum", fill_value=0)
    shown = suppress_table(trend, minimum)
    over_time = pd.DataFrame({tr({"de": "Quartal", "en": "quarter"}): trend.index})
    for col in trend.columns:
        over_time[area(col)] = _masked(shown[col], trend[col], minimum)
    notes = pd.DataFrame({tr({"de": "Hinweis", "en": "note"}): [
        tr({"de": f"Lückenregister {kommune}: Vermittlungen, bei denen der Bedarf nicht gedeckt werden konnte "
                  "(Spalte luecke des KIM-Exports), je Handlungsfeld, Lückenart, Bezirk und Quartal.",
            "en": f"Gap register {kommune}: referrals whose need could not be met (column luecke of the KIM export), "
                  "by needs area, gap type, district and quarter."}),
        tr({"de": f"Nur zusammengefasste Zahlen, keine personenbezogenen Daten. Zahlen von 1 bis {minimum - 1} "
                  f"erscheinen als „< {minimum}“; damit sie sich nicht aus Summen zurückrechnen lassen, sind weitere "
                  f"Zellen derselben Zeile oder Spalte verdeckt und als „{HIDDEN}“ gezeigt (in der Übersicht je "
                  "Tabelle Handlungsfeld × Lücke).",
            "en": f"Aggregates only, no personal data. Counts from 1 to {minimum - 1} appear as '< {minimum}'; so that "
                  f"they cannot be recomputed from totals, further cells of the same row or column are hidden and shown "
                  f"as '{HIDDEN}' (in the overview per table needs area × gap)."}),
        tr({"de": f"Trend: Vermittlungen mit Lücke in den letzten {recent} Quartalen gegenüber den {recent} davor.",
            "en": f"Trend: referrals with a gap in the last {recent} quarters against the {recent} before."}),
        tr({"de": "Fälle: verschiedene Fälle je Quartal, über Quartale addiert.",
            "en": "Cases: distinct cases per quarter, added up over quarters."}),
    ]})
    sheets = {tr({"de": "Übersicht", "en": "Overview"}): over, with_units({"de": "{Bezirke}", "en": "{districts}"}, kommune).capitalize(): districts,
              tr({"de": "Verlauf", "en": "Trend"}): over_time, tr({"de": "Hinweise", "en": "Notes"}): notes}
    path.parent.mkdir(parents=True, exist_ok=True)
    with excel_writer(path) as xl:
        for name, frame in sheets.items():
            frame.to_excel(xl, sheet_name=name, index=False)
            ws = xl.sheets[name]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for i, col in enumerate(frame.columns, start=1):
                width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
                ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 90)
    return path
