"""An attacker's audit of a comparison bundle, written from the format file alone.

It shares no code with :mod:`kimtools.exchange.bundle` or :mod:`kimtools.indicators.disclosure`
and uses another solver (COIN-OR CBC through PuLP, where kimtools uses HiGHS):
it reads ``zaehlungen.csv`` as text, writes down every sum the format says
holds, and asks for the smallest and largest whole value of each protected
cell, knowing that protected cells are at least 1.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pulp

EVENTS = {"faelle_neu", "faelle_abgeschlossen", "beratungen", "vermittlungen"}


def read_rows(folder: Path) -> list[dict]:
    with open(folder / "zaehlungen.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def equations(rows: list[dict]) -> list[tuple[int, list[int]]]:
    """(total row, part rows) for every sum the format names, plus 'the same cell twice' as a one-part sum."""
    index = {(r["stadtbezirk"], r["zeitraum"], r["kennzahl"], r["merkmal"], r["auspraegung"]): i
             for i, r in enumerate(rows)}
    out = []
    by_district, by_code, by_year = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, r in enumerate(rows):
        b, z, k, m, a = r["stadtbezirk"], r["zeitraum"], r["kennzahl"], r["merkmal"], r["auspraegung"]
        by_district[(k, m, a, z)].append(i)
        if m != "keins":
            by_code[(k, m, b, z)].append(i)
            if a == "Gesamt":   # a breakdown's total is the count without breakdown
                out.append((index[(b, z, k, "keins", "Gesamt")], [i]))
        if k in EVENTS:
            by_year[(k, m, a, b, z[:4])].append(i)
    for groups, is_total in ((by_district, lambda r: r["stadtbezirk"] == "Gesamt"),
                             (by_code, lambda r: r["auspraegung"] == "Gesamt")):
        for members in groups.values():
            totals = [i for i in members if is_total(rows[i])]
            parts = [i for i in members if not is_total(rows[i])]
            if len(totals) == 1 and parts:
                out.append((totals[0], parts))
    for members in by_year.values():
        years = [i for i in members if len(rows[i]["zeitraum"]) == 4]
        quarters = [i for i in members if len(rows[i]["zeitraum"]) == 7]
        if len(years) == 1 and len(quarters) == 4:
            out.append((years[0], quarters))
    return out


def ranges(values: list, hidden: list[int], sums: list[tuple[int, list[int]]]) -> dict[int, tuple[int, int]]:
    """Smallest and largest whole value of each hidden cell given the other values and the sums."""
    x = {i: pulp.LpVariable(f"x{i}", lowBound=1, upBound=10**7, cat="Integer") for i in hidden}

    def term(i):
        return x[i] if i in x else int(values[i])

    constraints = [term(total) == pulp.lpSum(term(i) for i in parts)
                   for total, parts in sums if any(i in x for i in [total, *parts])]
    out = {}
    for i in hidden:
        bounds = []
        for sense in (pulp.LpMinimize, pulp.LpMaximize):
            problem = pulp.LpProblem("attack", sense)
            problem += x[i]
            for c in constraints:
                problem += c
            problem.solve(pulp.PULP_CBC_CMD(msg=False))
            assert pulp.LpStatus[problem.status] == "Optimal", pulp.LpStatus[problem.status]
            bounds.append(round(x[i].value()))
        out[i] = tuple(bounds)
    return out


def attack(folder: Path) -> dict[int, tuple[int, int]]:
    """Row number (0-based, header excluded) → (smallest, largest) whole value of every protected cell."""
    rows = read_rows(folder)
    hidden = [i for i, r in enumerate(rows) if r["anzahl"] == ""]
    return ranges([r["anzahl"] for r in rows], hidden, equations(rows))
