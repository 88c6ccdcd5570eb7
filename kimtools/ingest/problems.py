"""Problems found in an export: collected with file, table, row, column, value and reason (German and English),
raw person identifiers never shown, and written out as lines for a person to read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract.schema import TABLE_ORDER, Table
from ..i18n import tr

__all__ = ["PROBLEM_COLUMNS", "ROW", "HIDDEN", "SECRET_COLUMNS", "RawTable", "Problems", "problems_text"]

PROBLEM_COLUMNS = ["datei", "tabelle", "zeile", "spalte", "wert", "grund_de", "grund_en"]
ROW = "_zeile"
_MAX_VALUE_LEN = 60
SECRET_COLUMNS = {"person_id"}  # never echoed into a problem
HIDDEN = "(nicht angezeigt)"
#: where a value echoed in a problem is cut into the pieces compared with the raw person identifiers
_TOKEN_SPLIT = r"[\s;,|\t\"']+"


@dataclass
class RawTable:
    table: Table
    file: str
    frame: pd.DataFrame  # all cells stripped strings; column _zeile = row as seen in the file


class Problems:
    """Collects problems as small frames; concatenated once at the end.

    Values are kept whole until :meth:`frame`, which hides every value holding a raw person identifier of the
    export (``secrets``: a row echoed because it could not be parsed may carry one in any of its fields) and
    only then shortens long values, so that no part of an identifier is shown either.
    """

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self.secrets: set[str] = set()

    def add(self, file: str, table: str, rows, column: str, values, de, en) -> None:
        rows = np.asarray(rows)
        if len(rows) == 0:
            return
        if column in SECRET_COLUMNS:
            values = [HIDDEN] * len(rows)
        values = pd.Series(np.asarray(values, dtype=object)).astype(str)
        self._parts.append(pd.DataFrame({
            "datei": file, "tabelle": table, "zeile": rows.astype("int64"), "spalte": column,
            "wert": values.to_numpy(),
            "grund_de": de if not isinstance(de, pd.Series) else de.to_numpy(),
            "grund_en": en if not isinstance(en, pd.Series) else en.to_numpy(),
        }))

    def add_masked(self, raw: "RawTable", mask: pd.Series, column: str, de, en, values=None) -> None:
        if not mask.any():
            return
        sel = raw.frame.loc[mask]
        vals = sel[column] if values is None else values[mask]
        if isinstance(de, pd.Series):
            de, en = de[mask], en[mask]
        self.add(raw.file, raw.table.name, sel[ROW], column, vals, de, en)

    def extend(self, other: "Problems", row_offset: int = 0) -> None:
        """Take over ``other``'s problems, their rows (those not about the whole file) moved by ``row_offset``."""
        for part in other._parts:
            self._parts.append(part.assign(zeile=np.where(part["zeile"] > 0, part["zeile"] + row_offset, part["zeile"])))
        self.secrets |= other.secrets

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame(columns=PROBLEM_COLUMNS)
        out = pd.concat(self._parts, ignore_index=True)
        values = out["wert"]
        if self.secrets:
            tokens = values.str.split(_TOKEN_SPLIT, regex=True).explode()
            leaking = tokens.isin(self.secrets).groupby(level=0).any() | values.isin(self.secrets)
            values = values.where(~leaking, HIDDEN)
        out["wert"] = values.where(values.str.len() <= _MAX_VALUE_LEN, values.str.slice(0, _MAX_VALUE_LEN) + "…")
        order = {name: i for i, name in enumerate(TABLE_ORDER)}
        out["_t"] = out["tabelle"].map(order).fillna(-1)
        return out.sort_values(["_t", "datei", "zeile", "spalte"], kind="stable").drop(columns="_t").reset_index(drop=True)

    def __bool__(self) -> bool:
        return bool(self._parts)


def problems_text(problems: pd.DataFrame, lang: str = "de", limit: int | None = 50) -> str:
    """Problems as readable lines: ``faelle.csv, Zeile 4, Spalte beginn, Wert '31.02.2024': …``."""
    row_w, col_w, val_w, reason = (tr(pair, lang) for pair in (("Zeile", "row"), ("Spalte", "column"), ("Wert", "value"),
                                                               ("grund_de", "grund_en")))
    shown = problems if limit is None else problems.head(limit)
    lines = []
    for p in shown.itertuples(index=False):
        where = [p.datei]
        if p.zeile and int(p.zeile) > 0:
            where.append(f"{row_w} {int(p.zeile)}")
        if p.spalte:
            where.append(f"{col_w} {p.spalte}")
        if p.wert != "":
            where.append(f"{val_w} '{p.wert}'")
        lines.append(", ".join(where) + ": " + getattr(p, reason))
    if limit is not None and len(problems) > limit:
        rest = len(problems) - limit
        lines.append(f"… und {rest} weitere" if lang != "en" else f"… and {rest} more")
    return "\n".join(lines)
