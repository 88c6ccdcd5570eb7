"""Look before replacing: what a delivery would change in the store, and whether it looks cut off.

An import replaces each kommune it contains as one whole. Before it does, the
store compares what it holds with what the delivery would store, per kommune,
table and provider (``traeger``), month by month (:data:`PROFILE_SQL`, run on
the store and on the delivery's frames alike), and refuses the import unless
it is forced when

* a table loses more than a fifth of its rows (and at least :data:`MIN_DROP`),
* a provider that had cases has none,
* one of the stored data's last complete months falls to zero in a table,
* a table's span shrinks (it begins later or ends earlier),

and, looking at the delivery alone (also on a first import), when a kommune's
consultations or referrals end months before its other tables, or have no row
at all, or most of its cases have no consultation — the marks of a file cut
off at a line end. A finding the stored data already shows is no reason to
refuse the next delivery again.

Examples
--------
Herne had 100 cases of provider ``CM1`` and 30 of ``CM2``; a delivery holds 40 of ``CM1`` only:

>>> from typing import Callable

import pandas as pd
>>> def cells(rows):
...     return pd.DataFrame(rows, columns=["kommune", "tabelle", "traeger", "monat", "n", "d0", "d1"])
>>> d = pd.Timestamp("2026-09-30")
>>> stored = cells([("Herne", "faelle", "CM1", 24320, 100, d, d), ("Herne", "faelle", "CM2", 24320, 30, d, d)])
>>> incoming = cells([("Herne", "faelle", "CM1", 24320, 40, d, d)])
>>> delivery_findings(stored, incoming)[["tabelle", "traeger", "art", "vorher", "nachher"]].values.tolist()
[['faelle', None, 'zeilen', 130, 40], ['faelle', 'CM2', 'traeger', 30, 0]]
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ..i18n import fmt_date, fmt_number, fmt_percent, tr
from ..store.queries import memory_cursor

__all__ = ["PROFILE_SQL", "UNCONSULTED_SQL", "PROFILE_TABLES", "DROP_SHARE", "MIN_DROP", "RECENT_MONTHS",
           "EARLY_END_DAYS", "NO_CONSULTATION_SHARE", "MIN_CASES", "delivery_findings", "delivery_overview", "findings_text", "overview_text", "FINDING_COLUMNS"]

#: a table losing more than this share of its rows is refused …
DROP_SHARE = 0.2
#: … if it loses at least this many (two cases less of five are a correction, not a cut-off file)
MIN_DROP = 3
#: the stored data's last complete months in which no table may fall to zero
RECENT_MONTHS = 3
#: consultations or referrals ending this many days before the kommune's other tables look cut off
EARLY_END_DAYS = 62
#: … as does a kommune where more than this share of its cases (begun a month before its data end) has no consultation
NO_CONSULTATION_SHARE = 0.5
#: the marks of a cut-off file are looked for in kommunen with at least this many cases (in two hand-made cases
#: a last consultation months before the last case start says nothing)
MIN_CASES = 20
_DATED = ("faelle", "beratungen", "vermittlungen")
_MONTH = "CAST(year({d}) * 12 + month({d}) - 1 AS INTEGER)"

#: per kommune, table, provider (a row's case's) and month (year × 12 + month − 1 of its date; cases by their
#: start, posts by their first day): the rows (``n``), and their first and last date (``d0``, ``d1``; a case's
#: last date is its end). Partners have no month or provider. ``$kommunen`` lists the kommunen looked at; unless
#: ``$alle``, only the slice of the providers ``$traeger`` is looked at (a provider delivery), without partners.
_IN_SCOPE = "($alle OR traeger IN (SELECT unnest($traeger)))"
PROFILE_SQL = f"""
WITH f AS (SELECT kommune, fall_id, traeger, CAST(beginn AS DATE) AS beginn, CAST(ende AS DATE) AS ende FROM faelle
           WHERE kommune IN (SELECT unnest($kommunen)) AND {_IN_SCOPE}),
dep AS (
    SELECT 'beratungen' AS tabelle, b.kommune, f.traeger, CAST(b.datum AS DATE) AS d
    FROM beratungen b LEFT JOIN f USING (kommune, fall_id) WHERE b.kommune IN (SELECT unnest($kommunen))
      AND ($alle OR f.fall_id IS NOT NULL)
    UNION ALL
    SELECT 'vermittlungen', v.kommune, f.traeger, CAST(v.datum AS DATE)
    FROM vermittlungen v LEFT JOIN f USING (kommune, fall_id) WHERE v.kommune IN (SELECT unnest($kommunen))
      AND ($alle OR f.fall_id IS NOT NULL)
    UNION ALL
    SELECT 'statuswechsel', s.kommune, f.traeger, CAST(s.datum AS DATE)
    FROM statuswechsel s LEFT JOIN f USING (kommune, fall_id) WHERE s.kommune IN (SELECT unnest($kommunen))
      AND ($alle OR f.fall_id IS NOT NULL)),
posts AS (SELECT kommune, traeger, CAST(von AS DATE) AS von, CAST(bis AS DATE) AS bis FROM stellen
          WHERE kommune IN (SELECT unnest($kommunen)) AND {_IN_SCOPE})
SELECT 'faelle' AS tabelle, kommune, traeger, {_MONTH.format(d="beginn")} AS monat, count(*) AS n,
       min(beginn) AS d0, max(coalesce(ende, beginn)) AS d1
FROM f GROUP BY ALL
UNION ALL
SELECT tabelle, kommune, traeger, {_MONTH.format(d="d")}, count(*), min(d), max(d) FROM dep GROUP BY ALL
UNION ALL
SELECT 'stellen', kommune, traeger, {_MONTH.format(d="von")}, count(*), min(von), max(coalesce(bis, von))
FROM posts GROUP BY ALL
UNION ALL
SELECT 'partner', kommune, NULL, NULL, count(*), NULL, NULL FROM partner WHERE kommune IN (SELECT unnest($kommunen))
  AND $alle GROUP BY ALL
"""
#: cases begun at least a month before their kommune's data end, and how many of them have no consultation
UNCONSULTED_SQL = f"""
WITH f AS (SELECT kommune, fall_id, CAST(beginn AS DATE) AS beginn, CAST(coalesce(ende, beginn) AS DATE) AS d FROM faelle
           WHERE kommune IN (SELECT unnest($kommunen)) AND {_IN_SCOPE}),
b AS (SELECT kommune, fall_id, CAST(datum AS DATE) AS d FROM beratungen WHERE kommune IN (SELECT unnest($kommunen))
      AND ($alle OR (kommune, fall_id) IN (SELECT (kommune, fall_id) FROM f))),
ende AS (SELECT kommune, max(d) AS d1 FROM (SELECT kommune, d FROM f UNION ALL SELECT kommune, d FROM b
    UNION ALL SELECT kommune, CAST(datum AS DATE) FROM vermittlungen WHERE kommune IN (SELECT unnest($kommunen))
      AND ($alle OR (kommune, fall_id) IN (SELECT (kommune, fall_id) FROM f)))
    GROUP BY kommune)
SELECT f.kommune, 'ohne_beratung' AS tabelle, NULL AS traeger, NULL AS monat,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.kommune = f.kommune AND b.fall_id = f.fall_id)) AS n,
       count(*) AS nenner
FROM f JOIN ende e USING (kommune) WHERE f.beginn <= e.d1 - INTERVAL 30 DAY GROUP BY f.kommune
"""

#: the tables the profile reads
PROFILE_TABLES = ("faelle", "beratungen", "vermittlungen", "statuswechsel", "stellen", "partner")
FINDING_COLUMNS = ["kommune", "tabelle", "traeger", "art", "vorher", "nachher", "grund_de", "grund_en"]
_TABLE_FILES = {"faelle": "faelle.csv", "beratungen": "beratungen.csv", "vermittlungen": "vermittlungen.csv",
                "statuswechsel": "statuswechsel.csv", "stellen": "stellen.csv", "partner": "partner.csv"}


def _finding(kommune, tabelle, traeger, art, vorher, nachher, de, en) -> dict:
    return dict(kommune=kommune, tabelle=tabelle, traeger=traeger, art=art, vorher=vorher, nachher=nachher,
                grund_de=de, grund_en=en)


def _pct(before: int, after: int, lang: str) -> str:
    return fmt_percent((after - before) / before, 0, lang)


def _comparison(stored: pd.DataFrame, incoming: pd.DataFrame) -> list[dict]:
    """Findings of what the delivery would change against what is stored."""
    out: list[dict] = []
    kommunen = sorted(set(stored["kommune"]) & set(incoming["kommune"]))
    cells_s = stored.loc[stored["tabelle"] != "ohne_beratung"]
    cells_i = incoming.loc[incoming["tabelle"] != "ohne_beratung"]
    totals = pd.DataFrame({"vorher": cells_s.groupby(["kommune", "tabelle"])["n"].sum(),
                           "nachher": cells_i.groupby(["kommune", "tabelle"])["n"].sum()}).fillna(0).astype("int64")
    for (k, t), r in totals.iterrows():
        if k in kommunen and r.vorher - r.nachher >= MIN_DROP and r.nachher < (1 - DROP_SHARE) * r.vorher:
            out.append(_finding(k, t, None, "zeilen", int(r.vorher), int(r.nachher),
                                f"{_TABLE_FILES[t]}: {fmt_number(r.vorher, 0, 'de')} → {fmt_number(r.nachher, 0, 'de')} Zeilen "
                                f"({_pct(r.vorher, r.nachher, 'de')})",
                                f"{_TABLE_FILES[t]}: {fmt_number(r.vorher, 0, 'en')} → {fmt_number(r.nachher, 0, 'en')} rows "
                                f"({_pct(r.vorher, r.nachher, 'en')})"))
    cases_s = cells_s.loc[cells_s["tabelle"] == "faelle"].groupby(["kommune", "traeger"])["n"].sum()
    cases_i = cells_i.loc[cells_i["tabelle"] == "faelle"].groupby(["kommune", "traeger"])["n"].sum()
    for (k, traeger), n in cases_s.items():
        if k in kommunen and n > 0 and cases_i.get((k, traeger), 0) == 0:
            out.append(_finding(k, "faelle", traeger, "traeger", int(n), 0,
                                f"Träger {traeger}: {fmt_number(n, 0, 'de')} Fälle → keiner",
                                f"provider {traeger}: {fmt_number(n, 0, 'en')} cases → none"))
    for k in kommunen:
        dated_s = cells_s.loc[(cells_s["kommune"] == k) & cells_s["tabelle"].isin(_DATED)]
        if dated_s.empty:
            continue
        end = dated_s["d1"].max()
        last_full = end.year * 12 + end.month - 1 - (0 if (end + pd.Timedelta(days=1)).day == 1 else 1)
        months = list(range(last_full - RECENT_MONTHS + 1, last_full + 1))
        for t in _DATED:
            per_s = dated_s.loc[dated_s["tabelle"] == t].groupby("monat")["n"].sum()
            mine = cells_i.loc[(cells_i["kommune"] == k) & (cells_i["tabelle"] == t)]
            per_i = mine.groupby("monat")["n"].sum()
            empty = [m for m in months if per_s.get(m, 0) > 0 and per_i.get(m, 0) == 0]
            if empty:
                names = ", ".join(f"{m % 12 + 1:02d}/{m // 12}" for m in empty)
                out.append(_finding(k, t, None, "monat", int(sum(per_s.get(m, 0) for m in empty)), 0,
                                    f"{_TABLE_FILES[t]}: keine Zeile mehr in {names}, bisher "
                                    f"{fmt_number(sum(per_s.get(m, 0) for m in empty), 0, 'de')}",
                                    f"{_TABLE_FILES[t]}: no row left in {names}, stored "
                                    f"{fmt_number(sum(per_s.get(m, 0) for m in empty), 0, 'en')}"))
            if per_s.empty or mine.empty:
                continue
            s0, s1 = dated_s.loc[dated_s["tabelle"] == t, "d0"].min(), dated_s.loc[dated_s["tabelle"] == t, "d1"].max()
            i0, i1 = mine["d0"].min(), mine["d1"].max()
            if i1 < s1:
                out.append(_finding(k, t, None, "endet_frueher", fmt_date(s1, "de"), fmt_date(i1, "de"),
                                    f"{_TABLE_FILES[t]} endet am {fmt_date(i1, 'de')}, gespeichert bis {fmt_date(s1, 'de')}",
                                    f"{_TABLE_FILES[t]} ends on {fmt_date(i1, 'en')}, stored up to {fmt_date(s1, 'en')}"))
            if i0 > s0:
                out.append(_finding(k, t, None, "beginnt_spaeter", fmt_date(s0, "de"), fmt_date(i0, "de"),
                                    f"{_TABLE_FILES[t]} beginnt erst am {fmt_date(i0, 'de')}, gespeichert ab {fmt_date(s0, 'de')}",
                                    f"{_TABLE_FILES[t]} begins only on {fmt_date(i0, 'en')}, stored from {fmt_date(s0, 'en')}"))
    return out


def _looks_cut_off(profile: pd.DataFrame) -> list[dict]:
    """Findings from one side alone: tables of a kommune that end long before its others, or are empty, and
    a kommune most of whose cases have no consultation."""
    out: list[dict] = []
    cells = profile.loc[profile["tabelle"].isin(_DATED)]
    for k, mine in cells.groupby("kommune"):
        cases = mine.loc[mine["tabelle"] == "faelle"]
        if cases["n"].sum() < MIN_CASES:
            continue
        ends = mine.groupby("tabelle")["d1"].max()
        # cases by their last start (the last day of its month): a case is often closed months after its last contact
        last = int(cases["monat"].max())
        ends["faelle"] = pd.Timestamp(last // 12, last % 12 + 1, 1) + pd.offsets.MonthEnd(0)
        for t in _DATED:
            others = ends.drop(t, errors="ignore")
            if t not in ends:
                out.append(_finding(k, t, None, "leer", None, 0,
                                    f"{_TABLE_FILES[t]} hat keine einzige Zeile für {k}, obwohl es Fälle gibt – Datei unvollständig?",
                                    f"{_TABLE_FILES[t]} has not a single row for {k} although there are cases – file incomplete?"))
            elif len(others) and ends[t] < others.max() - pd.Timedelta(days=EARLY_END_DAYS):
                out.append(_finding(k, t, None, "endet_vorher", fmt_date(others.max(), "de"), fmt_date(ends[t], "de"),
                                    f"{_TABLE_FILES[t]} endet am {fmt_date(ends[t], 'de')}, die übrigen Tabellen am "
                                    f"{fmt_date(others.max(), 'de')} – Datei unvollständig?",
                                    f"{_TABLE_FILES[t]} ends on {fmt_date(ends[t], 'en')}, the other tables on "
                                    f"{fmt_date(others.max(), 'en')} – file incomplete?"))
    for r in profile.loc[profile["tabelle"] == "ohne_beratung"].itertuples():
        if r.nenner >= MIN_CASES and r.n > NO_CONSULTATION_SHARE * r.nenner:
            share_de, share_en = fmt_number(100 * r.n / r.nenner, 0, "de"), fmt_number(100 * r.n / r.nenner, 0, "en")
            out.append(_finding(r.kommune, "beratungen", None, "ohne_beratung", int(r.nenner), int(r.n),
                                f"beratungen.csv: {fmt_number(r.n, 0, 'de')} von {fmt_number(r.nenner, 0, 'de')} Fällen "
                                f"({share_de} %) haben keine einzige Beratung – Datei unvollständig?",
                                f"beratungen.csv: {fmt_number(r.n, 0, 'en')} of {fmt_number(r.nenner, 0, 'en')} cases "
                                f"({share_en} %) have not a single consultation – file incomplete?"))
    return out


def delivery_findings(stored: pd.DataFrame | None, incoming: pd.DataFrame) -> pd.DataFrame:
    """Every reason to look before replacing the stored kommunen by the delivery (:data:`FINDING_COLUMNS`).

    ``stored`` and ``incoming`` are profiles as :data:`PROFILE_SQL` gives them (``stored`` ``None`` or empty on a
    first import). A cut-off mark the stored data of the same kommune and table already has is left out.
    """
    stored = stored if stored is not None else incoming.iloc[0:0]
    rows = _comparison(stored, incoming)
    known = {(f["kommune"], f["tabelle"], f["art"]) for f in _looks_cut_off(stored)}
    rows += [f for f in _looks_cut_off(incoming) if (f["kommune"], f["tabelle"], f["art"]) not in known]
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS).sort_values(["kommune"], kind="stable").reset_index(drop=True)
    out["traeger"] = out["traeger"].astype(object).where(out["traeger"].notna(), None)
    return out


def delivery_overview(stored: pd.DataFrame | None, incoming: pd.DataFrame) -> pd.DataFrame:
    """Per kommune of the delivery and table: rows stored and delivered, and each side's first and last date."""
    def side(profile, suffix):
        cells = profile.loc[profile["tabelle"] != "ohne_beratung"]
        g = cells.groupby(["kommune", "tabelle"])
        return pd.DataFrame({f"n_{suffix}": g["n"].sum(), f"von_{suffix}": g["d0"].min(), f"bis_{suffix}": g["d1"].max()})

    new = side(incoming, "neu")
    old = side(stored, "alt") if stored is not None and len(stored) else pd.DataFrame(
        columns=["n_alt", "von_alt", "bis_alt"], index=new.index)
    old = old.loc[old.index.get_level_values("kommune").isin(set(incoming["kommune"]))]
    out = new.join(old, how="outer")   # a table the delivery has no row of for a kommune: stored → 0
    for c in ("n_alt", "n_neu"):
        out[c] = out[c].fillna(0).astype("int64")
    order = {t: i for i, t in enumerate(_TABLE_FILES)}
    out = out.reset_index()
    return out.sort_values(["kommune", "tabelle"], key=lambda c: c.map(order) if c.name == "tabelle" else c) \
              .reset_index(drop=True)[["kommune", "tabelle", "n_alt", "n_neu", "von_alt", "bis_alt", "von_neu", "bis_neu"]]


def findings_text(findings: pd.DataFrame, lang: str = "de") -> str:
    """The findings as lines, one per finding: ``  Herne: faelle.csv: 1.280 → 269 Zeilen (-79 %)``."""
    reason = tr(("grund_de", "grund_en"), lang)
    return "\n".join(f"  {r.kommune}: {getattr(r, reason)}" for r in findings.itertuples())


def overview_text(overview: pd.DataFrame, lang: str = "de") -> str:
    """What the delivery would change, a line per kommune and table whose rows or dates change (stored → new),
    and how many tables stay as they are."""
    lines, same = [], 0
    word = tr(("Zeilen", "rows"), lang)
    for r in overview.itertuples():
        span_old = f"{fmt_date(r.von_alt, lang)}–{fmt_date(r.bis_alt, lang)}" if pd.notna(r.bis_alt) else "–"
        span_new = f"{fmt_date(r.von_neu, lang)}–{fmt_date(r.bis_neu, lang)}" if pd.notna(r.bis_neu) else "–"
        if r.n_alt == r.n_neu and span_old == span_new:
            same += 1
            continue
        span = f"; {span_old} → {span_new}" if span_old != span_new else ""
        lines.append(f"  {r.kommune}, {_TABLE_FILES[r.tabelle]}: {fmt_number(r.n_alt, 0, lang)} → "
                     f"{fmt_number(r.n_neu, 0, lang)} {word}{span}")
    if same:
        lines.append(tr((f"  ({same} {'Tabelle' if same == 1 else 'Tabellen'} unverändert)",
                         f"  ({same} {'table' if same == 1 else 'tables'} unchanged)"), lang))
    return "\n".join(lines)


def delivery_profile(query: Callable[[str, dict], pd.DataFrame], kommunen: list[str],
                     providers: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The delivery profile (:data:`~kimtools.ingest.delivery.PROFILE_SQL` and the cases without consultation) of
    ``kommunen`` (or of the slice of ``providers`` in them), asked through ``query``: of a store, or of a cursor
    with a delivery's frames registered."""
    params = {"kommunen": kommunen, "alle": providers is None, "traeger": list(providers or ("",))}
    cells = query(PROFILE_SQL, params)
    unconsulted = query(UNCONSULTED_SQL, params)
    out = pd.concat([cells.assign(nenner=float("nan")), unconsulted], ignore_index=True)
    out["n"] = out["n"].astype("int64")
    for c in ("d0", "d1"):
        out[c] = pd.to_datetime(out[c])
    return out


def export_profile(tables: dict[str, pd.DataFrame], kommunen: list[str],
                   providers: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The delivery profile of a delivery's frames, by the same SQL the store answers it with."""
    with memory_cursor() as cur:
        for name in PROFILE_TABLES:
            cur.register(name, tables[name])
        return delivery_profile(lambda sql, params: cur.execute(sql, params).df(), kommunen, providers)
