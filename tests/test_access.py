"""Who sees what: the scoped reader (a store that reads only the kommunen of a login, and refuses a question about
another), and the roles and kommunen of ``zugriff.toml``.

The store holds two kommunen: the base export's Herne (two cases) and a copy of it as Bochum (IDs prefixed), so that
every count of Bochum is known from Herne's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from conftest import BASE, write_export
from kimtools import Store, indicator_table
from kimtools.analysis import network as N
from kimtools.analysis.gaps import gap_table
from kimtools.analysis.pathways import status_transitions
from kimtools.errors import AccessError
from kimtools.indicators.table import case_durations
from kimtools.ingest.importer import import_export
from kimtools.store.files import SCOPE_ENV
from kimtools.views.beschluesse import decision_views
from kimtools.views.steering import steering_views

KEY = b"z" * 32


def _as_bochum(text: str) -> str:
    return text.replace("Herne", "Bochum").replace("Sodingen", "Wattenscheid").replace("Herne-Mitte", "Bochum-Mitte")


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zugriff")
    path = folder / "kim.duckdb"
    import_export(write_export(folder / "herne", BASE), path, key=KEY, show_progress=False)
    import_export(write_export(folder / "bochum", {k: _as_bochum(v) for k, v in BASE.items()}), path, key=KEY,
                  show_progress=False)
    return path


READERS = {
    "indicator_table": lambda s, k: indicator_table(s, k, kennzahlen=["neuzugaenge"]),
    "gap_table": lambda s, k: gap_table(s, k),
    "referral_months": lambda s, k: N.referral_months(s, k),
    "partner_table": lambda s, k: N.partner_table(s, k),
    "status_transitions": lambda s, k: status_transitions(s, k, dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    "case_durations": lambda s, k: case_durations(s, k),
    "decision_views": lambda s, k: decision_views(s, k),
    "steering_views": lambda s, k: steering_views(s, k, "2024-Q2"),
}


@pytest.mark.parametrize("reader", READERS)
def test_a_question_about_another_kommune_is_refused_at_the_reader(two, reader):
    store = Store(two, scope=["Herne"])
    READERS[reader](store, "Herne")   # its own kommune: answered
    with pytest.raises(AccessError) as refused:
        READERS[reader](store, "Bochum")
    assert "Kein Zugriff auf die Daten von Bochum: Ihre Anmeldung gilt für Herne" in refused.value.message()


def test_a_scoped_store_sees_only_its_kommunen_in_every_table(two):
    store = Store(two, scope=["Herne"])
    assert store.kommunen() == ["Herne"]
    for table in ("faelle", "beratungen", "vermittlungen", "partner", "import_log", "fallgruppen", "datenspanne"):
        assert set(store.query(f"SELECT DISTINCT kommune FROM {table}")["kommune"]) == {"Herne"}, table
    # the cells hold only their group's number: the groups of the scope's kommunen, half of the two kommunen's
    for cells in ("fallzellen", "vermittlungszellen", "fallspannen"):
        mine, all_ = (int(s.query(f"SELECT count(*) AS n FROM {cells}")["n"][0]) for s in (store, Store(two)))
        assert 0 < mine and 2 * mine == all_, cells
    # a question that names no kommune gets the kommunen in scope only: Herne's two new cases, not four
    table = indicator_table(store, kennzahlen=["neuzugaenge"], period="year")
    assert set(table["kommune"]) == {"Herne"} and table["zaehler"].sum() == 2
    assert sorted(Store(two).kommunen()) == ["Bochum", "Herne"]   # the unscoped store reads both
    both = Store(two, scope=["Herne", "Bochum"])
    assert indicator_table(both, kennzahlen=["neuzugaenge"], period="year")["zaehler"].sum() == 4


def test_a_scoped_store_may_not_change_another_kommune(two, tmp_path):
    import shutil

    copy = tmp_path / "kim.duckdb"
    shutil.copy(two, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    store = Store(copy, scope=["Herne"])
    with pytest.raises(AccessError):
        store.remove("Bochum", derive=lambda con, k: None)
    with pytest.raises(AccessError):
        import_export(write_export(tmp_path / "b", {k: _as_bochum(v) for k, v in BASE.items()}), store, key=KEY,
                      show_progress=False)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before


def test_the_scope_comes_from_the_environment_and_a_broken_one_opens_nothing(two, monkeypatch):
    monkeypatch.setenv(SCOPE_ENV, json.dumps(["Bochum"]))
    assert Store(two).kommunen() == ["Bochum"]
    monkeypatch.setenv(SCOPE_ENV, "Bochum, Herne")   # not a JSON list: no kommune, rather than every one
    assert Store(two).kommunen() == []
    monkeypatch.delenv(SCOPE_ENV)
    assert len(Store(two).kommunen()) == 2


# ----------------------------------------------------------------------------- zugriff.toml
def _access(tmp_path, text: str):
    from kimtools.hub.access import read_access

    path = tmp_path / "zugriff.toml"
    path.write_text(text, encoding="utf-8")
    return read_access(path)


def test_rules_join_kommunen_and_take_the_stronger_role(tmp_path):
    access = _access(tmp_path, """
[anmeldung]
art = "konten"
[[regel]]
personen = ["mueller"]
rolle = "lenkungskreis"
kommunen = ["Herne"]
[[regel]]
gruppe = "KIM-Bochum"
rolle = "koordination"
kommunen = ["bochum", "Muelheim"]
[[regel]]
personen = ["land"]
rolle = "lenkungskreis"
kommunen = "alle"
""")
    assert access.grant("mueller").rolle == "lenkungskreis" and access.grant("mueller").kommunen == {"Herne"}
    both = access.grant("Mueller", ["KIM-Bochum"])   # a person's name regardless of case, and her group's rule
    assert both.rolle == "koordination" and both.kommunen == {"Herne", "Bochum", "Mülheim an der Ruhr"}
    assert access.grant("land").kommunen is None and not access.grant("land").codes
    assert access.grant("niemand", ["andere"]) is None


def test_a_broken_access_file_names_every_fault_at_once(tmp_path):
    from kimtools.errors import InputError

    with pytest.raises(InputError) as refused:
        _access(tmp_path, """
[anmeldung]
art = "facebook"
[[regel]]
rolle = "chef"
kommunen = ["Atlantis"]
""")
    text = refused.value.message()
    for part in ("art = 'facebook'", "rolle = 'chef'", "Kommune 'Atlantis' ist keine KIM-Kommune",
                 "wem gilt die Regel?"):
        assert part in text, part


def test_the_template_is_a_valid_access_file(tmp_path):
    from kimtools.hub.access import EXAMPLE

    access = _access(tmp_path, EXAMPLE)
    assert access.login == "ldap" and access.settings["server_port"] == 636
    assert access.grant("x", ["cn=KIM-Lenkungskreis,ou=Gruppen,dc=stadt,dc=example"]).rolle == "lenkungskreis"


def test_the_access_log_keeps_its_days_and_drops_older_lines(tmp_path, monkeypatch):
    import datetime as dt

    from kimtools.store.zugriffe import log_access, log_path, read_access_log

    store = tmp_path / "kim.duckdb"
    monkeypatch.setenv("KIMTOOLS_PROTOKOLL_TAGE", "90")
    log_access(store, "alt", "lenkungskreis", "Herne", now=dt.datetime(2026, 9, 6, 10, 0))     # 91 days before
    log_access(store, "grenze", "lenkungskreis", "Herne", now=dt.datetime(2026, 9, 7, 10, 0))  # 90 days before
    import os

    os.utime(log_path(store), (0, dt.datetime(2026, 9, 7).timestamp()))   # written last on that day
    log_access(store, "neu", "fallzahlen", "Bochum", now=dt.datetime(2026, 12, 6, 10, 0))
    assert read_access_log(store)["person"].tolist() == ["grenze", "neu"]
    assert oct(log_path(store).stat().st_mode & 0o777) == "0o600"


def test_a_damaged_access_log_is_named_with_its_line_and_the_command_says_so_without_a_traceback(tmp_path, capsys):
    import datetime as dt

    from kimtools.cli import main
    from kimtools.errors import InputError
    from kimtools.store.zugriffe import log_access, log_path, read_access_log

    store = tmp_path / "kim.duckdb"
    log_access(store, "mueller", "lenkungskreis", "Herne", now=dt.datetime(2026, 12, 6, 9, 30))
    with open(log_path(store), "a", encoding="utf-8") as fh:
        fh.write("mueller hat hier etwas geändert\n")
    with pytest.raises(InputError, match="Zeile 2: kein Eintrag des Zugriffsprotokolls"):
        read_access_log(store)
    assert main(["zugriffe", "--db", str(store)]) == 1
    err = capsys.readouterr().err
    assert "zugriffe.jsonl, Zeile 2" in err and "Traceback" not in err


def test_the_hub_s_configuration_passes_the_log_s_keeping_time_to_servers_and_the_guest_service(tmp_path, monkeypatch):
    from traitlets.config import Config

    from kimtools.hub.setup import configure

    (tmp_path / "zugriff.toml").write_text('[anmeldung]\nart = "konten"\n\n[[regel]]\npersonen = ["a"]\n'
                                           'rolle = "lenkungskreis"\nkommunen = ["Herne"]\n', encoding="utf-8")
    monkeypatch.setenv("KIMTOOLS_PROTOKOLL_TAGE", "30")
    c = Config()
    configure(c, str(tmp_path / "zugriff.toml"), str(tmp_path / "kim.duckdb"))
    assert "KIMTOOLS_PROTOKOLL_TAGE" in c.Spawner.env_keep and "JUPYTERHUB_SINGLEUSER_APP" in c.Spawner.env_keep
    (service,) = c.JupyterHub.services
    assert service["name"] == "kimtools" and service["command"][-1] == "kimtools.hub.gast"
    assert service["environment"] == {"KIMTOOLS_DB": str((tmp_path / "kim.duckdb").resolve()), "KIMTOOLS_PROTOKOLL_TAGE": "30"}
    monkeypatch.delenv("KIMTOOLS_PROTOKOLL_TAGE")
    c = Config()
    configure(c, str(tmp_path / "zugriff.toml"), str(tmp_path / "kim.duckdb"))
    assert "KIMTOOLS_PROTOKOLL_TAGE" not in c.JupyterHub.services[0]["environment"]
