"""Tables written as CSV or XLSX files that people open in Excel or LibreOffice: no value becomes a live formula.

A spreadsheet program takes a CSV field that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
for a formula (CSV or "formula" injection, OWASP): ``=HYPERLINK("http://…"&A1,"Wanne")`` in an export's cell,
echoed into the problem report that goes back to the data supplier, would send the supplier's data elsewhere
when clicked. Every CSV and XLSX writer of kimtools goes through this module:

- CSV (:func:`write_csv`): such a text gets a leading ``'`` (OWASP's advice; Excel shows the value, not a formula);
- XLSX (:func:`excel_writer`): such a text stays as it is, as a string cell (openpyxl would store a text that
  begins with ``=`` as a formula).

Numbers stay numbers: only texts are touched, whatever their column.

Examples
--------
>>> defused("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> defused("-5"), defused(-5), defused("Wanne-Eickel")
("'-5", -5, 'Wanne-Eickel')
>>> defuse(pd.DataFrame({"a": ["@SUM(A1)", "ok"], "n": [1, -2]}))["a"].tolist()
["'@SUM(A1)", 'ok']
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO, Any, Iterator

import pandas as pd

__all__ = ["FORMULA_START", "is_formula", "defused", "defuse", "write_csv", "excel_writer"]

#: the first characters that make a spreadsheet program read a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_formula(value: Any) -> bool:
    """Whether a spreadsheet program would read ``value`` (a text) as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def defused(value: Any) -> Any:
    """``value`` as a CSV field that no spreadsheet program runs: a text that would be a formula gets a leading
    ``'``; anything else (numbers, dates, empty cells) is returned unchanged."""
    return "'" + value if is_formula(value) else value


def defuse(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose texts (values and column names) are :func:`defused`; ``frame`` is left as it is."""
    out = frame.rename(columns=defused)
    for col in out.columns[[not pd.api.types.is_numeric_dtype(t) for t in out.dtypes]]:
        values = out[col]
        if values.map(is_formula, na_action="ignore").fillna(False).astype(bool).any():
            out[col] = values.map(defused, na_action="ignore")
    return out


def write_csv(frame: pd.DataFrame, target: str | Path | IO[str], **to_csv: Any) -> None:
    """``frame.to_csv(target, **to_csv)`` with every text :func:`defused`."""
    defuse(frame).to_csv(target, **to_csv)


@contextlib.contextmanager
def excel_writer(path: str | Path) -> Iterator[pd.ExcelWriter]:
    """A pandas ``ExcelWriter`` (openpyxl) for ``path``; before the workbook is saved, every cell that openpyxl
    took for a formula becomes a string cell again, so that what was written stays a value."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        yield writer
        for sheet in writer.book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cell.data_type = "s"
