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
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

__all__ = ["name_key", "name_words", "closest", "closest_in", "SIMILAR", "SYNONYMS_FILE"]

#: how similar two keys must be (0 … 1) to name one as what the other probably means
SIMILAR = 0.8
#: German names for contract columns as exports and Excel lists write them: ``spalte;synonym``
SYNONYMS_FILE = Path(__file__).resolve().parents[1] / "contract" / "synonyme.csv"
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def name_words(name: str) -> list[str]:
    """``"Caritasverband Herne e.V."`` → ``["caritasverband", "herne", "e", "v"]``: lower case, umlauts written out,
    the runs of letters and digits."""
    return re.findall(r"[a-z0-9]+", unicodedata.normalize("NFC", str(name)).casefold().translate(_UMLAUTS))


def name_key(name: str) -> str:
    """``"Personen-ID"`` → ``"personenid"``: lower case, umlauts written out, only letters and digits."""
    return "".join(name_words(name))


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, set[str]]:
    """Synonym key → the contract names (tables or columns) it may stand for."""
    out: dict[str, set[str]] = {}
    with SYNONYMS_FILE.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            out.setdefault(name_key(r["synonym"]), set()).add(r["spalte"])
    return out


def closest(found: str, wanted: Iterable[str]) -> str | None:
    """The one name of ``wanted`` that ``found`` most likely means, or ``None``."""
    return closest_in(found, {w: w for w in wanted})


def closest_in(found: str, options: Mapping[str, str]) -> str | None:
    """The one target that ``found`` most likely means, where ``options`` maps names to targets (several names, such
    as a code and its label, may stand for one target); ``None`` where no name or names of two targets are equally
    close."""
    key = name_key(found)
    if not key:
        return None
    keys = {name: name_key(name) for name in options}
    synonyms = _synonyms().get(key, set())
    for rule in (lambda w, k: k == key,
                 lambda w, k: options[w] in synonyms,
                 lambda w, k: len(k) >= 4 and (k in key or (len(key) >= 4 and key in k))):
        hits = {options[w] for w, k in keys.items() if k and rule(w, k)}
        if len(hits) == 1:
            return hits.pop()
        if len(hits) > 1:
            return None
    best: dict[str, float] = {}
    for w, k in keys.items():
        if k:
            best[options[w]] = max(best.get(options[w], 0.0), difflib.SequenceMatcher(None, key, k).ratio())
    scores = sorted(((score, target) for target, score in best.items()), reverse=True)
    if scores and scores[0][0] >= SIMILAR and (len(scores) == 1 or scores[1][0] < scores[0][0]):
        return scores[0][1]
    return None
