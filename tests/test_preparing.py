"""Background preparation (``kimtools vorbereiten``): one at a time per store, given up when stale, never
outliving its store, visible in ``kimtools info`` (issue 37)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from kimtools import Store, import_export
from kimtools.store.preparing import preparation_status, preparing

EXE = os.path.join(os.path.dirname(sys.executable), "kimtools")


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _store(tmp_path, base_export) -> Store:
    store = Store(tmp_path / "kim.duckdb")
    import_export(base_export, store, show_progress=False)
    return store


def test_a_second_preparation_waits_for_the_first_and_info_says_what_runs(tmp_path, base_export):
    store = _store(tmp_path, base_export)
    assert preparation_status(store) is None
    with preparing(store) as work:
        work.step(("Prognosen Herne", "forecasts Herne"))
        second = _start("vorbereiten", "--db", str(store.path))
        time.sleep(4)
        assert second.poll() is None   # it waits while this one is at work
        info = subprocess.run([EXE, "info", "--db", str(store.path)], capture_output=True, text=True, timeout=120)
        assert f"In Vorbereitung: Prognosen Herne (PID {os.getpid()}" in info.stdout
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"läuft schon (PID {os.getpid()}" in err and "vorbereitet" in out
    assert preparation_status(store) is None


def test_a_waiting_preparation_ends_when_its_store_is_removed(tmp_path, base_export):
    store = _store(tmp_path, base_export)
    with preparing(store):
        waiting = _start("vorbereiten", "--db", str(store.path))
        time.sleep(3)
        assert waiting.poll() is None
        store.path.unlink()
        _out, err = waiting.communicate(timeout=30)   # gone within its polling interval, not orphaned
    assert waiting.returncode == 1 and "nicht mehr da" in err and "Traceback" not in err
    assert not (tmp_path / ".kim.duckdb.vorbereitung.lock").exists()   # nothing left beside a removed store


def test_a_preparation_is_stale_once_a_newer_import_changed_the_store(tmp_path, base_export, base_files):
    from tests.conftest import write_export

    store = _store(tmp_path, base_export)
    with preparing(store) as work:
        assert not work.stale()
        changed = dict(base_files, beratungen=base_files["beratungen"] + "B3;F1;06.02.2024;30;persoenlich;sprache\n")
        import_export(write_export(tmp_path / "neu", changed), store, show_progress=False)
        assert work.stale()
        work.renew()
        assert not work.stale()
