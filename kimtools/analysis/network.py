"""The referral network: who refers to whom, how much, with what outcome.

Partners are nodes (typed, with legal domain); edges are referrals out of case
management (provider → receiving partner, table ``vermittlungen``) and referrals
into it (referring partner → provider, ``faelle.zugang_ueber``), weighted by
volume. Compute functions take a :class:`~kimtools.Store` or a mapping of
frames and return tidy frames; :func:`referral_graph` turns them into a
``networkx.DiGraph`` for the analyses.
"""

from __future__ import annotations

import datetime as dt
import warnings
from contextlib import nullcontext
from typing import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from ..contract.outcomes import REFERRAL_RATES, STATUSES, outcome, status_sql, wait_sql
from ..errors import UsageError
from ..indicators.counting import rate
from ..indicators.stats import group_ids, km_median, km_median_others
from ..indicators.table import FILTERS, run_query
from ..periods import period_bounds, twelve_months
from ..store import SPAN_TABLE, in_parallel, scope_params, scope_sql

__all__ = ["period_bounds", "twelve_months", "partner_table", "referral_edges", "referral_months", "referral_window", "referral_graph", "km_median_ci", "partner_flows", "domain_bridges", "domain_brokers", "partner_outliers",
           "network_change", "waiting_times", "funnel", "sankey_flows", "domain_matrix"]


def _scope(kommune: str | None, von: dt.date | None, bis: dt.date | None, filters: Mapping[str, str] | None,
           date: str) -> tuple[str, dict]:
    unknown = set(scope_params(None, filters)) - set(FILTERS)
    if unknown:
        raise UsageError(f"Unbekannter Filter {sorted(unknown)}.", f"Unknown filter {sorted(unknown)}.")
    dates = {name: value for name, value in (("von", von), ("bis", bis)) if value is not None}
    where, params = scope_sql("f", kommune, filters, [f"{date} {'>=' if name == 'von' else '<='} ${name}" for name in dates])
    return where, {**params, **dates}


#: what the monthly form of the referral queries keeps besides their own keys: the month and each dashboard filter
MONTHLY = ("monat", "stadtbezirk", "traeger", "zielgruppe")


def _monthly_sql(date: str, traeger: bool = True) -> str:
    """The extra columns of the monthly form: the month of ``date`` and the case's district, provider, target group."""
    return (f", CAST(date_trunc('month', {date}) AS DATE) AS monat, f.stadtbezirk"
            f"{', f.traeger' if traeger else ''}, f.zielgruppe")


def referral_edges(source, kommune: str | None = None, von: dt.date | None = None, bis: dt.date | None = None,
                   filters: Mapping[str, str] | None = None, monthly: bool = False) -> pd.DataFrame:
    """Edges of the referral network, one row per (kommune, quelle, ziel, richtung).

    ``richtung`` is ``aus`` (referrals dated in [von, bis] from the case's provider
    to the receiving partner) or ``ein`` (cases begun in [von, bis] referred in by
    ``zugang_ueber``). Columns: ``n`` and, for ``aus``, one count per status (``vermittelt``, ``warteliste``,
    ``angenommen``, ``abgeschlossen``, ``abgelehnt``, ``nicht_wahrgenommen``: each referral in exactly one, they add
    up to ``n``; an outcome such as "accepted or completed" is :func:`~kimtools.contract.outcomes.outcome`),
    ``mit_erstkontakt`` and ``mit_luecke`` (referrals with a first appointment, with a gap: of any status);
    ``annahmequote`` (accepted or completed, of answered) with Wilson interval.
    ``monthly``: the counts also by :data:`MONTHLY` and without rates (the input of :func:`referral_window`).
    """
    where_v, params = _scope(kommune, von, bis, filters, "v.datum")
    where_f, _ = _scope(kommune, von, bis, filters, "f.beginn")
    extra_v, extra_f = (_monthly_sql("v.datum"), _monthly_sql("f.beginn")) if monthly else ("", "")
    sql = f"""
    SELECT f.kommune, f.traeger AS quelle, v.an_partner AS ziel, 'aus' AS richtung{extra_v}, count(*) AS n,
           {status_sql("v.status")}, count(v.erstkontakt) AS mit_erstkontakt, count(v.luecke) AS mit_luecke
    FROM vermittlungen v JOIN faelle f USING (kommune, fall_id) {where_v}
    GROUP BY ALL
    UNION ALL
    SELECT f.kommune, f.zugang_ueber, f.traeger, 'ein'{extra_f}, count(*), {", ".join(["NULL"] * (len(STATUSES) + 2))}
    FROM faelle f {where_f} {"AND" if where_f else "WHERE"} f.zugang_ueber IS NOT NULL
    GROUP BY ALL
    ORDER BY 1, 4, 2, 3"""
    edges = run_query(source, sql, params)
    return edges if monthly else _with_rates(edges)


def _with_rates(edges: pd.DataFrame) -> pd.DataFrame:
    """The acceptance rate of each edge (of answered referrals) with its Wilson 95 % interval."""
    edges["annahmequote"], edges["ki_unten"], edges["ki_oben"] = rate(
        "annahmequote", *(outcome(edges, c) for c in REFERRAL_RATES["annahmequote"]))
    return edges


def partner_table(source, kommune: str | None = None) -> pd.DataFrame:
    """The partners (of one kommune or all) with type, legal domain and case-management flag."""
    where = "WHERE kommune = $kommune" if kommune is not None else ""
    return run_query(source, f"SELECT kommune, partner_id, name, typ, rechtskreis, case_management FROM partner {where}",
                {"kommune": kommune} if kommune is not None else {})


def referral_graph(edges: pd.DataFrame, partners: pd.DataFrame) -> nx.DiGraph:
    """A directed graph per partner: nodes ``(kommune, partner_id)`` with name, type and legal domain;
    edges with ``n`` (both directions added up), ``n_aus``, ``n_ein`` and the counts of ``aus`` per status,
    ``mit_erstkontakt`` and ``mit_luecke`` (an outcome: :func:`~kimtools.contract.outcomes.outcome` of the edge's data)."""
    g = nx.DiGraph()
    for p in partners.itertuples(index=False):
        g.add_node((p.kommune, p.partner_id), name=p.name, typ=p.typ,
                   rechtskreis="ohne" if pd.isna(p.rechtskreis) or not p.rechtskreis else p.rechtskreis,
                   case_management=bool(p.case_management))
    counted = [*STATUSES, "mit_erstkontakt", "mit_luecke"]
    for e in edges.itertuples(index=False):
        u, v = (e.kommune, e.quelle), (e.kommune, e.ziel)
        data = g.get_edge_data(u, v) or {"n": 0, "n_aus": 0, "n_ein": 0, **{k: 0 for k in counted}}
        data["n"] += int(e.n)
        data["n_" + e.richtung] += int(e.n)
        if e.richtung == "aus":
            for k in counted:
                data[k] += int(getattr(e, k))
        g.add_edge(u, v, **data)
    return g


def partner_flows(g: nx.DiGraph) -> pd.DataFrame:
    """Per partner: referrals received and sent, partners linked, and its broker role: the share of
    shortest paths between other partners of its connected network that pass through it (weighted
    betweenness on the undirected network, distance = 1 / volume), largest volume first."""
    und = nx.Graph()
    for u, v, d in g.edges(data=True):
        w = und.get_edge_data(u, v, {"n": 0})["n"] + d["n"]
        und.add_edge(u, v, n=w, dist=1 / w)
    between = {}
    for part in nx.connected_components(und):   # one kommune's network at a time: paths never cross kommunen
        if len(part) > 2:
            between.update(nx.betweenness_centrality(und.subgraph(part), weight="dist", normalized=True))
    rows = []
    for node, attrs in g.nodes(data=True):
        rows.append({"kommune": node[0], "partner_id": node[1], "name": attrs["name"], "typ": attrs["typ"],
                     "rechtskreis": attrs["rechtskreis"], "case_management": attrs["case_management"],
                     "eingang": sum(d["n"] for _, _, d in g.in_edges(node, data=True)),
                     "ausgang": sum(d["n"] for _, _, d in g.out_edges(node, data=True)),
                     "verbindungen": len(set(g.predecessors(node)) | set(g.successors(node))),
                     "vermittlerrolle": between.get(node, 0.0)})
    out = pd.DataFrame(rows, columns=["kommune", "partner_id", "name", "typ", "rechtskreis", "case_management",
                                      "eingang", "ausgang", "verbindungen", "vermittlerrolle"])
    out["volumen"] = out["eingang"] + out["ausgang"]
    return out.sort_values(["volumen", "partner_id"], ascending=[False, True], ignore_index=True)


def domain_bridges(g: nx.DiGraph) -> pd.DataFrame:
    """Links without which the network falls apart (graph bridges) and partners that join legal domains.

    Returns one row per bridge edge: ``kommune``, ``von``, ``nach`` (partner ids), ``name_von``, ``name_nach``,
    their legal domains, ``n``, and ``zwischen_rechtskreisen`` (the two ends belong to different legal domains).
    """
    und = nx.Graph()
    und.add_nodes_from(g.nodes)
    for u, v, d in g.edges(data=True):
        und.add_edge(u, v, n=und.get_edge_data(u, v, {"n": 0})["n"] + d["n"])
    rows = []
    for u, v in nx.bridges(und):
        u, v = sorted((u, v))
        ru, rv = g.nodes[u]["rechtskreis"], g.nodes[v]["rechtskreis"]
        rows.append({"kommune": u[0], "von": u[1], "nach": v[1], "name_von": g.nodes[u]["name"],
                     "name_nach": g.nodes[v]["name"], "rechtskreis_von": ru, "rechtskreis_nach": rv,
                     "n": und[u][v]["n"], "zwischen_rechtskreisen": ru != rv})
    cols = ["kommune", "von", "nach", "name_von", "name_nach", "rechtskreis_von", "rechtskreis_nach", "n",
            "zwischen_rechtskreisen"]
    return pd.DataFrame(rows, columns=cols).sort_values(["kommune", "von", "nach"], ignore_index=True)


def domain_brokers(g: nx.DiGraph) -> pd.DataFrame:
    """Partners that join legal domains: per partner the distinct legal domains of the partners it
    exchanges referrals with (``rechtskreise``, ``anzahl_rechtskreise``) and the volume of that exchange
    (``volumen_rechtskreise``); partners linking two or more domains first, by volume."""
    rows = []
    for node, attrs in g.nodes(data=True):
        volume: dict[str, int] = {}
        for other in set(g.predecessors(node)) | set(g.successors(node)):
            rk = g.nodes[other]["rechtskreis"]
            if rk == "ohne":
                continue
            n = sum(g[a][b]["n"] for a, b in ((node, other), (other, node)) if g.has_edge(a, b))
            volume[rk] = volume.get(rk, 0) + n
        rows.append({"kommune": node[0], "partner_id": node[1], "name": attrs["name"], "typ": attrs["typ"],
                     "rechtskreise": sorted(volume), "anzahl_rechtskreise": len(volume),
                     "volumen_rechtskreise": sum(volume.values())})
    cols = ["kommune", "partner_id", "name", "typ", "rechtskreise", "anzahl_rechtskreise", "volumen_rechtskreise"]
    return pd.DataFrame(rows, columns=cols).sort_values(
        ["anzahl_rechtskreise", "volumen_rechtskreise", "partner_id"], ascending=[False, False, True], ignore_index=True)


def waiting_times(source, kommune: str | None = None, von: dt.date | None = None, bis: dt.date | None = None,
                  filters: Mapping[str, str] | None = None, monthly: bool = False) -> pd.DataFrame:
    """Per referral that got a first appointment or is still waiting: ``kommune, an_partner, partner_typ,
    dauer`` (days; until the data end if still waiting) and ``beendet`` (has its appointment); ``monthly``:
    also :data:`MONTHLY`. Case-level input for curves and intervals, never to be shown as it is."""
    where, params = _scope(kommune, von, bis, filters, "v.datum")
    days, cohort = wait_sql("v", "e.d1")
    sql = f"""
    WITH ende AS (SELECT * FROM {SPAN_TABLE})
    SELECT f.kommune, v.an_partner, p.typ AS partner_typ, {days} AS dauer, v.erstkontakt IS NOT NULL AS beendet
           {_monthly_sql("v.datum") if monthly else ""}
    FROM vermittlungen v JOIN faelle f USING (kommune, fall_id) JOIN ende e ON e.kommune = f.kommune
    LEFT JOIN partner p ON p.kommune = v.kommune AND p.partner_id = v.an_partner
    {where} {"AND" if where else "WHERE"} {cohort}"""
    return run_query(source, sql, params)


def km_median_ci(frame: pd.DataFrame) -> tuple[float, float, float]:
    """Kaplan–Meier median wait (as in the indicator table) with a 95 % interval (Brookmeyer–Crowley, statsmodels)."""
    if frame["beendet"].sum() == 0:
        return np.nan, np.nan, np.nan
    median = km_median(frame.assign(_g=0), ["_g"])["median"].iloc[0]
    return (float(median), *_median_interval(frame))


def _median_interval(days: np.ndarray, ended: np.ndarray) -> tuple[float, float]:
    """95 % interval of the median wait (Brookmeyer–Crowley, statsmodels); NaN where it cannot be given."""
    from statsmodels.duration.survfunc import SurvfuncRight

    sf = SurvfuncRight(days.astype(float), ended.astype(int))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # all waits equal: no interval (NaN), not a warning for the user
        lo, hi = sf.quantile_ci(0.5)
    return float(lo), float(hi)


def partner_outliers(edges: pd.DataFrame, waits: pd.DataFrame, partners: pd.DataFrame, minimum: int = 10) -> pd.DataFrame:
    """Receiving partners whose acceptance or waiting time stands out from all others of the kommune.

    Acceptance: the partner's Wilson 95 % interval against the rate of all *other*
    partners (outside it: ``hoeher``/``niedriger``). Waiting time: the partner's
    median with its 95 % interval (Brookmeyer–Crowley) against the median of all
    other referrals. Partners with fewer than ``minimum`` answered referrals or
    waits get no verdict (``zu_wenige``), not a ranking.
    """
    out = edges.loc[edges["richtung"] == "aus"].groupby(["kommune", "ziel"], as_index=False)[
        ["n", *STATUSES]].sum().rename(columns={"ziel": "partner_id"})
    # the partner's answered and accepted (or completed) referrals: the outcomes its rate is made of
    out = out.assign(beantwortet=outcome(out, "beantwortet"), angenommen_oder_abgeschlossen=outcome(out, "angenommen"))
    out = out[["kommune", "partner_id", "n", "beantwortet", "angenommen_oder_abgeschlossen"]]
    totals = out.groupby("kommune")[["beantwortet", "angenommen_oder_abgeschlossen"]].transform("sum")
    others = ((totals["angenommen_oder_abgeschlossen"] - out["angenommen_oder_abgeschlossen"]) /
              (totals["beantwortet"] - out["beantwortet"]).replace(0, np.nan)).astype(float)
    out["annahmequote"], lo, hi = rate("annahmequote", out["angenommen_oder_abgeschlossen"], out["beantwortet"])
    out["annahme_ki_unten"], out["annahme_ki_oben"], out["annahme_uebrige"] = lo, hi, others
    out["annahme_befund"] = np.select([out["beantwortet"] < minimum, hi < others, lo > others],
                                      ["zu_wenige", "niedriger", "hoeher"], "unauffaellig")
    keys = ["kommune", "an_partner"]
    w = km_median_others(waits, ["kommune"], "an_partner").rename(columns={
        "median": "wartezeit_uebrige", "eigen_median": "wartezeit_median", "eigen_n": "wartende"})
    w["wartezeit_median"] = w["wartezeit_median"].where(w["wartende"] >= minimum)
    judged = w["wartezeit_median"].notna().to_numpy()
    interval = np.full((len(w), 2), np.nan)
    if judged.any():   # intervals only where there is a median to judge
        gid = group_ids(waits, keys)   # numbered in w's order
        order = np.argsort(gid, kind="stable")
        bounds = np.searchsorted(gid[order], np.arange(len(w) + 1))
        days, ended = waits["dauer"].to_numpy()[order], waits["beendet"].to_numpy()[order]
        for i in np.flatnonzero(judged):
            interval[i] = _median_interval(days[bounds[i]:bounds[i + 1]], ended[bounds[i]:bounds[i + 1]])
    w["wartezeit_ki_unten"], w["wartezeit_ki_oben"] = interval[:, 0], interval[:, 1]
    lo_w, hi_w, rest = w["wartezeit_ki_unten"], w["wartezeit_ki_oben"], w["wartezeit_uebrige"]
    w["wartezeit_befund"] = np.select(
        [~judged, lo_w > rest, hi_w < rest, lo_w.notna() & hi_w.notna()],
        ["zu_wenige", "laenger", "kuerzer", "unauffaellig"], "zu_wenige")
    w = w.rename(columns={"an_partner": "partner_id"})[
        ["kommune", "partner_id", "wartende", "wartezeit_median", "wartezeit_ki_unten", "wartezeit_ki_oben",
         "wartezeit_uebrige", "wartezeit_befund"]]
    out = out.merge(w, on=["kommune", "partner_id"], how="outer")
    out["wartezeit_befund"] = out["wartezeit_befund"].fillna("zu_wenige")
    out["annahme_befund"] = out["annahme_befund"].fillna("zu_wenige")
    names = partners[["kommune", "partner_id", "name", "typ"]]
    return names.merge(out, on=["kommune", "partner_id"], how="inner").sort_values(["kommune", "name"], ignore_index=True)


def network_change(before: pd.DataFrame, after: pd.DataFrame, partners: pd.DataFrame | None = None) -> pd.DataFrame:
    """How each edge changed between two periods: ``n_vorher``, ``n_nachher``, ``differenz`` and
    ``veraenderung`` (``neu``, ``weggefallen``, ``mehr``, ``weniger``, ``gleich``), largest changes first.
    With ``partners``, also ``name_quelle`` and ``name_ziel``."""
    keys = ["kommune", "quelle", "ziel", "richtung"]
    m = before[keys + ["n"]].merge(after[keys + ["n"]], on=keys, how="outer", suffixes=("_vorher", "_nachher"))
    m[["n_vorher", "n_nachher"]] = m[["n_vorher", "n_nachher"]].fillna(0).astype(int)
    m["differenz"] = m["n_nachher"] - m["n_vorher"]
    m["veraenderung"] = np.select([m["n_vorher"] == 0, m["n_nachher"] == 0, m["differenz"] > 0, m["differenz"] < 0],
                                  ["neu", "weggefallen", "mehr", "weniger"], "gleich")
    m = m.assign(_a=m["differenz"].abs()).sort_values(["_a", *keys], ascending=[False, True, True, True, True]) \
        .drop(columns="_a").reset_index(drop=True)
    if partners is not None:
        names = partners.set_index(["kommune", "partner_id"])["name"]
        m.insert(2, "name_quelle", [names.get(k) for k in zip(m["kommune"], m["quelle"])])
        m.insert(4, "name_ziel", [names.get(k) for k in zip(m["kommune"], m["ziel"])])
    return m


def funnel(edges: pd.DataFrame) -> pd.DataFrame:
    """The referral funnel of the ``aus`` edges: sent → answered → accepted → first appointment → completed."""
    a = edges.loc[edges["richtung"] == "aus"]
    steps = [("vermittelt", a["n"].sum()), ("beantwortet", outcome(a, "beantwortet").sum()),
             ("angenommen", outcome(a, "angenommen").sum()), ("erstkontakt", a["mit_erstkontakt"].sum()),
             ("abgeschlossen", outcome(a, "abgeschlossen").sum())]
    return pd.DataFrame(steps, columns=["stufe", "n"]).astype({"n": int})


def sankey_flows(source, kommune: str | None = None, von: dt.date | None = None, bis: dt.date | None = None,
                 filters: Mapping[str, str] | None = None, monthly: bool = False) -> pd.DataFrame:
    """Referral counts by provider, needs area, receiving partner type and outcome (status); ``monthly``: also by
    :data:`MONTHLY`."""
    where, params = _scope(kommune, von, bis, filters, "v.datum")
    extra = _monthly_sql("v.datum", traeger=False) if monthly else ""
    sql = f"""SELECT f.kommune, f.traeger, v.handlungsfeld, p.typ AS partner_typ, v.status{extra}, count(*) AS n
              FROM vermittlungen v JOIN faelle f USING (kommune, fall_id)
              LEFT JOIN partner p ON p.kommune = v.kommune AND p.partner_id = v.an_partner
              {where} GROUP BY ALL ORDER BY ALL"""
    return run_query(source, sql, params)


def domain_matrix(source, kommune: str | None = None, von: dt.date | None = None, bis: dt.date | None = None,
                  filters: Mapping[str, str] | None = None, monthly: bool = False) -> pd.DataFrame:
    """Referrals by legal domain of the receiving partner × needs area of the referral (long, with zeros);
    ``monthly``: by :data:`MONTHLY` too, only the combinations that occur."""
    where, params = _scope(kommune, von, bis, filters, "v.datum")
    extra = _monthly_sql("v.datum") if monthly else ""
    sql = f"""SELECT coalesce(p.rechtskreis, 'ohne') AS rechtskreis, v.handlungsfeld{extra}, count(*) AS n
              FROM vermittlungen v JOIN faelle f USING (kommune, fall_id)
              LEFT JOIN partner p ON p.kommune = v.kommune AND p.partner_id = v.an_partner
              {where} GROUP BY ALL"""
    long = run_query(source, sql, params)
    return long if monthly else _full_grid(long)


def _full_grid(long: pd.DataFrame) -> pd.DataFrame:
    """Every legal domain × needs area that occurs on either side, absent pairs as 0."""
    full = pd.MultiIndex.from_product([sorted(long["rechtskreis"].unique()), sorted(long["handlungsfeld"].unique())],
                                      names=["rechtskreis", "handlungsfeld"])
    return long.set_index(["rechtskreis", "handlungsfeld"])["n"].reindex(full, fill_value=0).reset_index()


def referral_months(source, kommune: str | None = None) -> dict[str, pd.DataFrame]:
    """Edges, waits, sankey flows and legal-domain counts of ``kommune`` in their monthly form (by month, district,
    provider and target group), read in one snapshot. A dashboard reads them once per kommune and cuts every
    window and filter out of them with :func:`referral_window`, without asking the database again."""

    with source.snapshot() if hasattr(source, "snapshot") else nullcontext():
        return in_parallel({"edges": lambda: referral_edges(source, kommune, monthly=True),
                            "waits": lambda: waiting_times(source, kommune, monthly=True),
                            "sankey": lambda: sankey_flows(source, kommune, monthly=True),
                            "domains": lambda: domain_matrix(source, kommune, monthly=True)})


def _cut(frame: pd.DataFrame, von: dt.date, bis: dt.date, filters: Mapping[str, str] | None) -> pd.DataFrame:
    """The rows of a monthly frame in the months [von, bis] that match ``filters``."""
    first, last = pd.Timestamp(von), pd.Timestamp(bis)
    if first.day != 1 or not last.is_month_end:
        raise UsageError(f"Das Fenster {von}–{bis} besteht nicht aus ganzen Monaten.",
                         f"The window {von}–{bis} is not made of whole months.")
    mask = frame["monat"].between(first, last)
    for column, value in (filters or {}).items():
        if value is not None:
            mask &= frame[column] == value
    return frame.loc[mask]


def _summed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The counts of ``frame`` added up over everything but ``keys`` (a count that is NULL throughout stays NULL)."""
    counts = [c for c in frame.columns if c not in keys and c not in MONTHLY]
    return frame.groupby(keys, as_index=False, dropna=False, sort=True)[counts].sum(min_count=1)


def referral_window(months: Mapping[str, pd.DataFrame], von: dt.date, bis: dt.date,
                    filters: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """``edges``, ``waits``, ``sankey`` and ``domains`` for the whole months [von, bis] under ``filters``, cut out of
    :func:`referral_months`: the same as :func:`referral_edges`, :func:`waiting_times`, :func:`sankey_flows` and
    :func:`domain_matrix` asked for that window and those filters."""
    edges = _summed(_cut(months["edges"], von, bis, filters), ["kommune", "richtung", "quelle", "ziel"])
    waits = _cut(months["waits"], von, bis, filters).drop(columns=list(MONTHLY)).reset_index(drop=True)
    sankey = _summed(_cut(months["sankey"], von, bis, filters), ["kommune", "traeger", "handlungsfeld", "partner_typ",
                                                                  "status"])
    domains = _summed(_cut(months["domains"], von, bis, filters), ["rechtskreis", "handlungsfeld"])
    order = ["kommune", "quelle", "ziel", "richtung"] + [c for c in edges.columns if c not in
                                                         ("kommune", "quelle", "ziel", "richtung")]
    return {"edges": _with_rates(edges[order]), "waits": waits, "sankey": sankey, "domains": _full_grid(domains)}
