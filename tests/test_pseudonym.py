"""Keyed pseudonyms: HMAC-SHA256 over kommune and person_id, key from the environment or a 0600 key file."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pandas as pd
import pytest

from kimtools import read_export
from kimtools.errors import KimtoolsError
from kimtools.ingest.pseudonym import load_key, pseudonymise


def test_pseudonym_is_hmac_sha256_of_kommune_and_id():
    key = b"a-test-key-of-enough-length"
    expected = hmac.new(key, "Herne\x1fPERS-0001".encode(), hashlib.sha256).hexdigest()[:32]
    got = pseudonymise(pd.Series(["PERS-0001"]), pd.Series(["Herne"]), key)
    assert got[0] == expected


def test_same_person_same_pseudonym_across_imports_other_key_other_pseudonym(base_export):
    a = read_export(base_export, key=b"key-one-0123456789", show_progress=False).tables["faelle"]["person_pseudonym"]
    b = read_export(base_export, key=b"key-one-0123456789", show_progress=False).tables["faelle"]["person_pseudonym"]
    c = read_export(base_export, key=b"key-two-0123456789", show_progress=False).tables["faelle"]["person_pseudonym"]
    assert a.tolist() == b.tolist()
    assert set(a).isdisjoint(set(c))


def test_key_file_created_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("KIMTOOLS_KEY", raising=False)
    path = tmp_path / "config" / "kimtools" / "pseudonym.key"
    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(path))
    first = load_key()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64 and load_key() == first


def test_key_file_readable_by_others_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("KIMTOOLS_KEY", raising=False)
    path = tmp_path / "pseudonym.key"
    path.write_text("x" * 64)
    path.chmod(0o644)
    monkeypatch.setenv("KIMTOOLS_KEY_FILE", str(path))
    with pytest.raises(KimtoolsError, match="chmod 600"):
        load_key()


def test_short_environment_key_is_refused(monkeypatch):
    monkeypatch.setenv("KIMTOOLS_KEY", "short")
    with pytest.raises(KimtoolsError, match="zu kurz"):
        load_key()
