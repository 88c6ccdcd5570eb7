"""Same results before and after a change: indicator tables of many argument combinations, fingerprinted.

``python benchmarks/equivalence.py STORE OUT.json [N]`` computes :func:`kimtools.indicator_table` on the
store for N (default 1,200) argument combinations (kommune, by, period, merkmal, filters, a subset of
indicators), drawn with a fixed seed from every value each argument takes on that store, and writes one
SHA-256 of each result (its CSV, rows sorted) or the error it raised. ``python benchmarks/equivalence.py
--compare BEFORE.json AFTER.json`` names every combination whose result differs. Only the public API is
used, so one checkout's code can be compared with another's on the same store (``PYTHONPATH=...``).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys

import duckdb


def combinations(db: str, n: int, seed: int = 20261204) -> list[dict]:
    from kimtools import indicators as I

    con = duckdb.connect(db, read_only=True)
    kommunen = [r[0] for r in con.execute("SELECT DISTINCT kommune FROM faelle ORDER BY 1").fetchall()]
    values = {f: {k: [r[0] for r in con.execute(f"SELECT DISTINCT {f} FROM faelle WHERE kommune = ? ORDER BY 1",
                                                   [k]).fetchall()] for k in kommunen}
              for f in ("stadtbezirk", "traeger", "zielgruppe")}
    con.close()
    rng = random.Random(seed)
    kennzahlen = list(I.KENNZAHLEN)
    out, seen = [], set()
    while len(out) < n:
        kommune = rng.choice(kommunen + [None])
        args = {"kommune": kommune, "by": rng.choice(I.BY_CHOICES), "period": rng.choice(I.PERIOD_CHOICES),
                "merkmal": rng.choice([None, None, *I.MERKMALE])}
        if kommune is not None:
            args["filters"] = {f: rng.choice(values[f][kommune]) for f in values if rng.random() < 0.3}
        if rng.random() < 0.5:
            args["kennzahlen"] = sorted(rng.sample(kennzahlen, rng.randint(1, 4)))
        key = json.dumps(args, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            out.append(args)
    return out


def fingerprint(frame) -> str:
    text = frame.sort_values(list(frame.columns)).to_csv(index=False, float_format="%.12g")
    return hashlib.sha256(text.encode()).hexdigest()


def main() -> None:
    if sys.argv[1] == "--compare":
        before, after = (json.load(open(p, encoding="utf-8")) for p in sys.argv[2:4])
        differ = [k for k in before if before[k] != after.get(k)]
        print(f"{len(before)} combinations, {len(differ)} differ; "
              f"{sum(v.startswith('error') for v in before.values())} raise the same error in both")
        for k in differ[:20]:
            print("  differs:", k, before[k][:60], after.get(k, "missing")[:60])
        sys.exit(1 if differ else 0)
    from kimtools import Store, indicator_table

    db, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1200
    store, results = Store(db), {}
    for args in combinations(db, n):
        key = json.dumps(args, sort_keys=True, ensure_ascii=False)
        try:
            results[key] = fingerprint(indicator_table(store, **args))
        except Exception as exc:  # noqa: BLE001 - an error is a result too, compared like one
            results[key] = f"error {type(exc).__name__}: {exc}"
    json.dump(results, open(out, "w", encoding="utf-8"), indent=0, ensure_ascii=False)
    print(f"{len(results)} combinations written to {out}")


if __name__ == "__main__":
    main()
