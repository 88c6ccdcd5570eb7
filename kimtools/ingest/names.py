"""Which contract name a foreign table or column name most likely means: for the reader's messages ("gefunden:
'Fallbeginn' – gemeint ist wohl 'beginn'?").

A name is compared by its key (:func:`name_key`: lower case, umlauts written out, only letters and digits), then
through the German synonyms of ``contract/synonyme.csv``, then by containment (``fallbeginn`` holds ``beginn``) and
last by similarity (:func:`difflib.SequenceMatcher`, at least :data:`SIMILAR`). Only a single best candidate is
named: where two are equally good, none is.

>>> closest("Fallbeginn", ["fall_id", "beginn", "ende"])
'beginn'
>>> closest("Personen-ID", ["fall_id", "person_id"])
'person_id'
>>> closest("Bemerkung", ["fall_id", "beginn"]) is None
True
"""

from __future__ import annotations

import csv
import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

__all__ = ["name_key", "name_words", "closest", "SIMILAR", "SYNONYMS_FILE"]

#: how similar two keys must be (0 … 1) to name one as what the other probably means
SIMILAR = 0.8
#: German names for contract columns as exports and Excel lists write them: ``spalte;synonym``
SYNONYMS_FILE = Path(__file__).resolve().parents[1] / "contract" / "synonyme.csv"
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def name_words(name: str) -> list[str]:
    """``"Caritasverband Herne e.V."`` → ``["caritasverband", "herne", "e", "v"]``: lower case, umlauts written out,
    the runs of letters and digits."""
    return re.findall(r"[a-z0-9]+", str(name).casefold().translate(_UMLAUTS))


def name_key(name: str) -> str:
    """``"Personen-ID"`` → ``"personenid"``: lower case, umlauts written out, only letters and digits."""
    return "".join(name_words(name))


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, str]:
    """Synonym key → contract column."""
    with SYNONYMS_FILE.open(encoding="utf-8") as fh:
        return {name_key(r["synonym"]): r["spalte"] for r in csv.DictReader(fh, delimiter=";")}


def closest(found: str, wanted: Iterable[str]) -> str | None:
    """The one name of ``wanted`` that ``found`` most likely means, or ``None``."""
    wanted = list(wanted)
    key = name_key(found)
    if not key:
        return None
    keys = {w: name_key(w) for w in wanted}
    for rule in (lambda w, k: k == key,
                 lambda w, k: _synonyms().get(key) == w,
                 lambda w, k: len(k) >= 4 and (k in key or key in k)):
        hits = [w for w, k in keys.items() if rule(w, k)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            return None
    scores = sorted(((difflib.SequenceMatcher(None, key, k).ratio(), w) for w, k in keys.items()), reverse=True)
    if scores and scores[0][0] >= SIMILAR and (len(scores) == 1 or scores[1][0] < scores[0][0]):
        return scores[0][1]
    return None
