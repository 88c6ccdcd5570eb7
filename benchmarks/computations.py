"""Indicator computations against their practical limit and their everyday alternative.

Each computation runs three ways on the same store, each in a fresh process (so that its peak memory is its own):

* **kimtools** — the library call the notebooks and dashboards make (``indicator_table``), starting from the store;
* **SQL** — a hand-written DuckDB query of the same numbers on the same store file, twice: *bare* (only the cells
  with data, no intervals) and *full* — the same result as kimtools, every district in every quarter of its
  kommune's data span with 0 where nothing happened (the bare query left-joined onto that grid, the grid read from
  the store's data-span table). Full is what "a hand-written query of the same result" means: a dashboard needs the
  zero cells (a district without new cases shows 0, not a gap). Both are printed; the target is judged on full;
* **pandas** — the straightforward code an analyst would write (merge, groupby, a function per group), on frames
  already read from the store (reading them is timed separately and shown beside it: an analyst pays it once
  per session, a dashboard never).

Run alone: ``python benchmarks/computations.py STORE``. Prints one line per computation: median seconds of each way,
the ratios kimtools/SQL full (target ≤ 1.5; bare in brackets) and pandas/kimtools (target ≥ 2; the pandas time without reading, and in
brackets with it), the peak memory of the kimtools process,
and whether the three results agree (every key with a count or value in one agrees with the others — an
independent check of the numbers, not only of the speed). Asserts nothing.
"""

from __future__ import annotations

import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

QUARTERS = """(SELECT DISTINCT kommune, CAST(q AS DATE) AS ps, CAST(q + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE) AS pe
   FROM (SELECT kommune, min(beginn) a, greatest(max(beginn), max(ende)) b FROM faelle GROUP BY 1),
        LATERAL (SELECT unnest(generate_series(date_trunc('quarter', a), date_trunc('quarter', b), INTERVAL 3 MONTH)) AS q))"""

#: the data end of each kommune (where waits are censored), written out again by hand
DATA_END = """(SELECT kommune, max(d) AS d1 FROM (SELECT kommune, beginn AS d FROM faelle UNION ALL SELECT kommune, ende FROM faelle
   UNION ALL SELECT kommune, datum FROM beratungen UNION ALL SELECT kommune, datum FROM vermittlungen) GROUP BY 1)"""

SQL = {
    "neuzugaenge": """SELECT kommune, stadtbezirk, CAST(date_trunc('quarter', beginn) AS DATE) AS ps, count(*) AS wert
                      FROM faelle GROUP BY ALL""",
    "faelle_offen": f"""SELECT f.kommune, f.stadtbezirk, q.ps, count(*) AS wert FROM faelle f JOIN {QUARTERS} q
                        ON q.kommune = f.kommune AND f.beginn <= q.pe AND (f.ende IS NULL OR f.ende > q.pe) GROUP BY ALL""",
    "personen_erreicht": f"""SELECT f.kommune, f.stadtbezirk, q.ps, count(DISTINCT f.person_pseudonym) AS wert
                             FROM faelle f JOIN {QUARTERS} q
                             ON q.kommune = f.kommune AND f.beginn <= q.pe AND (f.ende IS NULL OR f.ende >= q.ps) GROUP BY ALL""",
    "beratungen": """SELECT f.kommune, f.stadtbezirk, CAST(date_trunc('quarter', b.datum) AS DATE) AS ps, count(*) AS wert
                     FROM beratungen b JOIN faelle f USING (kommune, fall_id) GROUP BY ALL""",
    "annahmequote": """SELECT f.kommune, f.stadtbezirk, CAST(date_trunc('quarter', v.datum) AS DATE) AS ps,
                              count(*) FILTER (WHERE v.status IN ('angenommen', 'abgeschlossen'))
                              / count(*) FILTER (WHERE v.status <> 'vermittelt') AS wert
                       FROM vermittlungen v JOIN faelle f USING (kommune, fall_id) GROUP BY ALL
                       HAVING count(*) FILTER (WHERE v.status <> 'vermittelt') > 0""",
    # Kaplan–Meier: ends d and cases c per day waited; at risk = cases at or after that day; S = product of (1 - d/r)
    "wartezeit_median_tage": f"""
        WITH w AS (SELECT f.kommune, f.stadtbezirk, CAST(date_trunc('quarter', v.datum) AS DATE) AS ps,
                          date_diff('day', v.datum, coalesce(v.erstkontakt, greatest(e.d1, v.datum))) AS t,
                          v.erstkontakt IS NOT NULL AS ended
                   FROM vermittlungen v JOIN faelle f USING (kommune, fall_id) JOIN {DATA_END} e ON e.kommune = f.kommune
                   WHERE v.erstkontakt IS NOT NULL OR v.status IN ('vermittelt', 'warteliste', 'angenommen')),
        c AS (SELECT kommune, stadtbezirk, ps, t, count(*) FILTER (WHERE ended) AS d, count(*) AS c FROM w GROUP BY ALL),
        r AS (SELECT *, sum(c) OVER (PARTITION BY kommune, stadtbezirk, ps ORDER BY t DESC) AS at_risk FROM c),
        s AS (SELECT *, CASE WHEN max(CASE WHEN d = at_risk THEN 1 ELSE 0 END)
                                  OVER (PARTITION BY kommune, stadtbezirk, ps ORDER BY t) = 1 THEN 0
                             ELSE exp(sum(ln(1 - d / at_risk)) OVER (PARTITION BY kommune, stadtbezirk, ps ORDER BY t)) END AS s
              FROM r)
        SELECT kommune, stadtbezirk, ps, min(t) AS wert FROM s WHERE s <= 0.5 + 1e-12 GROUP BY ALL""",
}


def same_result(name: str, bare: str) -> str:
    """The bare hand query's result on the full grid: each of its (kommune, stadtbezirk) in every quarter of the
    kommune's data span; counts 0, rates and medians empty where the bare query has no row."""
    from kimtools.indicators.catalogue import COUNTS

    wert = "coalesce(h.wert, 0)" if name in COUNTS else "h.wert"
    return f"""WITH h AS ({bare}),
        q AS (SELECT kommune, CAST(unnest(generate_series(date_trunc('quarter', d0), date_trunc('quarter', d1),
                                                          INTERVAL 3 MONTH)) AS DATE) AS ps FROM datenspanne),
        g AS (SELECT DISTINCT kommune, stadtbezirk FROM h)
        SELECT g.kommune, g.stadtbezirk, q.ps, {wert} AS wert FROM g JOIN q USING (kommune)
        LEFT JOIN h ON h.kommune = g.kommune AND h.stadtbezirk IS NOT DISTINCT FROM g.stadtbezirk AND h.ps = q.ps
        ORDER BY ALL"""


def _quarter_ends(faelle: pd.DataFrame) -> pd.DataFrame:
    span = faelle.groupby("kommune").agg(a=("beginn", "min"), b=("beginn", "max"), c=("ende", "max"))
    rows = [(k, p.start_time, p.end_time.normalize())
            for k, r in span.iterrows() for p in pd.period_range(r.a, max(r.b, r.c), freq="Q")]
    return pd.DataFrame(rows, columns=["kommune", "ps", "pe"])


def _km_median(g: pd.DataFrame) -> float:
    """Kaplan–Meier median as an analyst writes it: sort, count, multiply."""
    t = g.groupby("t").agg(d=("ended", "sum"), c=("ended", "size")).sort_index()
    at_risk = t["c"][::-1].cumsum()[::-1]
    s = (1 - t["d"] / at_risk).cumprod()
    below = s[s <= 0.5 + 1e-12]
    return float(below.index[0]) if len(below) else np.nan


def _pandas(name: str, t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    f = t["faelle"]
    keys = ["kommune", "stadtbezirk", "ps"]
    if name == "neuzugaenge":
        return f.assign(ps=f["beginn"].dt.to_period("Q").dt.start_time).groupby(keys).size().rename("wert").reset_index()
    if name in ("faelle_offen", "personen_erreicht"):
        m = f.merge(_quarter_ends(f), on="kommune")
        if name == "faelle_offen":
            m = m[(m["beginn"] <= m["pe"]) & (m["ende"].isna() | (m["ende"] > m["pe"]))]
            return m.groupby(keys).size().rename("wert").reset_index()
        m = m[(m["beginn"] <= m["pe"]) & (m["ende"].isna() | (m["ende"] >= m["ps"]))]
        return m.groupby(keys)["person_pseudonym"].nunique().rename("wert").reset_index()
    if name == "beratungen":
        b = t["beratungen"].merge(f[["kommune", "fall_id", "stadtbezirk"]], on=["kommune", "fall_id"])
        return b.assign(ps=b["datum"].dt.to_period("Q").dt.start_time).groupby(keys).size().rename("wert").reset_index()
    v = t["vermittlungen"].merge(f[["kommune", "fall_id", "stadtbezirk"]], on=["kommune", "fall_id"])
    v = v.assign(ps=v["datum"].dt.to_period("Q").dt.start_time)
    if name == "annahmequote":
        v = v.assign(ans=v["status"] != "vermittelt", acc=v["status"].isin(["angenommen", "abgeschlossen"]))
        g = v.groupby(keys)[["ans", "acc"]].sum()
        g = g[g["ans"] > 0]
        return (g["acc"] / g["ans"]).rename("wert").reset_index()
    # wartezeit_median_tage
    dates = [f[["kommune", "beginn"]].rename(columns={"beginn": "d"}), f[["kommune", "ende"]].rename(columns={"ende": "d"}),
             t["beratungen"][["kommune", "datum"]].rename(columns={"datum": "d"}),
             t["vermittlungen"][["kommune", "datum"]].rename(columns={"datum": "d"})]
    end = pd.concat(dates).groupby("kommune")["d"].max().rename("d1")
    v = v.join(end, on="kommune")
    v = v[v["erstkontakt"].notna() | v["status"].isin(["vermittelt", "warteliste", "angenommen"])]
    v = v.assign(t=(v["erstkontakt"].fillna(np.maximum(v["d1"], v["datum"])) - v["datum"]).dt.days,
                 ended=v["erstkontakt"].notna())
    return v.groupby(keys).apply(_km_median, include_groups=False).rename("wert").reset_index()


def _kimtools(name: str, store) -> pd.DataFrame:
    from kimtools import indicator_table

    t = indicator_table(store, by="stadtbezirk", period="quarter", kennzahlen=[name])
    return t.loc[t["kennzahl"] == name]


def _normal(name: str, frame: pd.DataFrame) -> pd.Series:
    """Value by (kommune, stadtbezirk, quarter), only where there is a count or a value, for comparing the ways."""
    if "kennzahl" in frame:   # the indicator table: quarter label, the count for counts, the value for rates
        from kimtools.indicators.catalogue import COUNTS

        q = pd.PeriodIndex(frame["zeitraum"].str.replace("-", ""), freq="Q").start_time
        value = frame["zaehler"] if name in COUNTS else frame["wert"]
        frame = pd.DataFrame({"kommune": frame["kommune"], "stadtbezirk": frame["stadtbezirk"], "ps": q,
                              "wert": value.astype("Float64").to_numpy(dtype=float, na_value=np.nan)})
    s = frame.assign(ps=pd.to_datetime(frame["ps"])).set_index(["kommune", "stadtbezirk", "ps"])["wert"].astype(float)
    return s[s.notna() & (s != 0)].sort_index()


#: quick ways run until this many seconds have passed (at least ``runs`` times): the median of a few runs of a
#: 10 ms query moves with every hiccup of a shared machine
MIN_SECONDS = 1.0


def _child(name: str, way: str, db: str, runs: int, out: str) -> None:
    """One way of one computation, timed ``runs`` times and for at least :data:`MIN_SECONDS` in this process;
    result and timings to ``out``."""
    import resource
    import time

    import duckdb

    from kimtools import Store

    store = Store(db)
    reading = 0.0
    if way == "pandas":
        t0 = time.perf_counter()
        con = duckdb.connect(db, read_only=True)
        tables = {n: con.table(n).df() for n in ("faelle", "beratungen", "vermittlungen")}
        con.close()
        reading = time.perf_counter() - t0
        run = lambda: _pandas(name, tables)  # noqa: E731
    elif way in ("sql", "sql_full"):
        con = duckdb.connect(db, read_only=True)
        sql = SQL[name] if way == "sql" else same_result(name, SQL[name])
        run = lambda: con.execute(sql).df()  # noqa: E731
    else:
        run = lambda: _kimtools(name, store)  # noqa: E731
    times = []
    began = time.perf_counter()
    while len(times) < runs or time.perf_counter() - began < MIN_SECONDS:
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    Path(out).write_bytes(pickle.dumps({"seconds": statistics.median(times), "reading": reading,
                                        "result": _normal(name, result),
                                        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _agree(a: pd.Series, b: pd.Series) -> bool:
    return a.index.equals(b.index) and np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, equal_nan=True)


def computation_timings(db: str | Path, env: dict[str, str] | None = None, runs: int = 5):
    """(computation, {way: seconds}, peak MB of the kimtools process, results agree) for each computation."""
    with tempfile.TemporaryDirectory(prefix="kim-comp-") as tmp:
        for name in SQL:
            got = {}
            for way in ("kimtools", "sql", "sql_full", "pandas"):
                out = Path(tmp) / f"{name}-{way}.pickle"
                subprocess.run([sys.executable, __file__, "--child", name, way, str(db), str(runs), str(out)],
                               check=True, env=env)
                got[way] = pickle.loads(out.read_bytes())
            same = all(_agree(got["kimtools"]["result"], got[way]["result"]) for way in ("sql", "sql_full", "pandas"))
            seconds = {w: g["seconds"] for w, g in got.items()}
            seconds["pandas_read"] = got["pandas"]["reading"]
            yield name, seconds, got["kimtools"]["peak_mb"], same


def print_table(db: str | Path, label: str, env: dict[str, str] | None = None, runs: int = 5) -> None:
    for name, s, mb, same in computation_timings(db, env, runs):
        print(f"{(label + ': ' + name + ' by stadtbezirk × quarter').ljust(60)}  kimtools {s['kimtools']:6.3f}  "
              f"SQL {s['sql_full']:6.3f} (bare {s['sql']:6.3f})  pandas {s['pandas']:6.3f} (+{s['pandas_read']:5.2f} reading)  "
              f"kimtools/SQL {s['kimtools'] / s['sql_full']:5.2f} (bare {s['kimtools'] / s['sql']:5.2f})  pandas/kimtools {s['pandas'] / s['kimtools']:5.1f} "
              f"(with reading {(s['pandas'] + s['pandas_read']) / s['kimtools']:5.1f})  {mb:6.0f} MB  "
              f"{'same' if same else 'DIFFERENT'}",
              flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        print_table(sys.argv[1], Path(sys.argv[1]).stem, dict(os.environ), runs=int(os.environ.get("RUNS", "5")))
