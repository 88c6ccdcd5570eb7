"""Team mode in a real JupyterHub (``kimtools hub``), driven by Debian's chromium: logins, roles and each login's
kommunen.

The hub runs on a copy of the demo store with the hub's own accounts (``konten``): two coordinators of different
kommunen and one member of Herne's steering committee.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pandas as pd
import pytest

from test_dashboards_browser import browser  # noqa: F401 - the same chromium for these tests

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts"
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser

ACCESS = """\
[anmeldung]
art = "konten"

[[regel]]
personen = ["koord-herne"]
rolle = "koordination"
kommunen = ["Herne"]

[[regel]]
personen = ["koord-bochum"]
rolle = "koordination"
kommunen = ["Bochum"]

[[regel]]
personen = ["lk-herne"]
rolle = "lenkungskreis"
kommunen = ["Herne"]
"""

MEETING = "LK-2026-12"

#: a kernel over the browser's websocket: start one (or take the page's), send code, collect what comes back
_RUN_JS = """async ([base, code, start]) => {
  const xsrf = decodeURIComponent((document.cookie.split('; ').find(c => c.startsWith('_xsrf=')) || '=').split('=')[1]);
  let id;
  if (start) {
    const r = await fetch(base + '/api/kernels', {method: 'POST', headers: {'X-XSRFToken': xsrf}, body: '{}'});
    if (r.status !== 201) return {started: r.status};
    id = (await r.json()).id;
  } else {   // the kernel Voilà started for the page
    id = JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId;
  }
  const ws = new WebSocket(base.replace(/^http/, 'ws') + '/api/kernels/' + id + '/channels');
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  const msgId = 'kim-' + Math.random();
  const out = [];
  let replied = false;
  ws.onmessage = e => {
    const m = JSON.parse(e.data);
    if (m.parent_header.msg_id !== msgId) return;
    if (m.msg_type === 'stream') out.push(m.content.text);
    if (m.msg_type === 'error') out.push(m.content.ename + ': ' + m.content.evalue);
    if (m.msg_type === 'execute_reply') replied = true;
  };
  ws.send(JSON.stringify({header: {msg_id: msgId, username: 'x', session: 's', msg_type: 'execute_request',
                                   version: '5.3', date: new Date().toISOString()},
                          parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
                          content: {code: code, silent: false, store_history: false, user_expressions: {},
                                    allow_stdin: false, stop_on_error: true}}));
  for (let i = 0; i < 120 && !replied; i++) await new Promise(ok => setTimeout(ok, 250));
  ws.close();
  return {started: 201, replied: replied, out: out.join('')};
}"""


@contextlib.contextmanager
def _running_hub(folder: Path, db: Path, access: str, log_name: str, port: int | None = None):
    """``kimtools hub --zugriff`` with ``access`` (``{hub}`` in it: the hub's address) on ``db`` on ``port`` (a free
    one if not given); yields its URL once it answers; stops it, its proxy and every login's server after."""
    from kimtools.serving import free_port

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run 'make test', which installs it")
    port = port or free_port()
    (folder / "zugriff.toml").write_text(access.replace("{hub}", f"http://127.0.0.1:{port}"), encoding="utf-8")
    ARTEFACTS.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("KIMTOOLS_DB", "KIMTOOLS_KOMMUNEN")}
    with open(ARTEFACTS / log_name, "w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("kimtools")), "hub", "--zugriff",
                                 str(folder / "zugriff.toml"), "--db", str(db), "--port", str(port)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    with urlopen(url + "/hub/login", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.time() > deadline:
                        pytest.fail(f"the hub did not answer in 90 s: {(ARTEFACTS / log_name).read_text()[-2000:]}")
                    time.sleep(0.5)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)   # the hub stops its proxy and every login's server
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def hub(demo_store, tmp_path_factory):
    from kimtools.hub.setup import demo_accounts, hub_folder

    folder = tmp_path_factory.mktemp("hub")
    db = folder / "kim.duckdb"
    shutil.copy(demo_store, db)
    passwords = demo_accounts(hub_folder(db), ["koord-herne", "koord-bochum", "lk-herne"])
    from kimtools import Store
    from kimtools.present.report import freeze_meeting

    freeze_meeting(Store(db), MEETING, kommune="Herne", show_progress=False)   # for the guest link
    with _running_hub(folder, db, ACCESS, "hub.log") as url:
        yield url, passwords, db


def _login(browser, url: str, user: str, password: str, wait_for: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(url + "/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_selector(wait_for, timeout=180_000)
    return context, page


def _kommunen(page) -> list[str]:
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=180_000)
    return page.locator("select").nth(0).locator("option").all_inner_texts()


def test_no_page_opens_without_a_login(hub, browser):
    url, _, _ = hub
    page = browser.new_page()
    for path in ("/user/lk-herne/voila/render/lenkungskreis.ipynb", "/user/koord-herne/lab", "/hub/home"):
        page.goto(url + path)
        assert "/hub/login" in page.url, path
        assert page.locator("input[name=password]").count() == 1
    page.close()


def test_the_steering_committee_sees_its_kommune_s_dashboards_and_no_code(hub, browser):
    url, passwords, _ = hub
    context, page = _login(browser, url, "lk-herne", passwords["lk-herne"], ".js-plotly-plot .main-svg")
    assert page.url.endswith("/user/lk-herne/voila/render/lenkungskreis.ipynb")
    assert _kommunen(page) == ["Herne"]
    page.screenshot(path=str(ARTEFACTS / "hub-lenkungskreis.png"))
    base = url + "/user/lk-herne"
    for path, status in (("/lab", 404), ("/api/contents", 403), ("/files/lenkungskreis.ipynb", 403),
                         ("/api/sessions", 403), ("/api/kernelspecs", 403)):
        assert page.request.get(base + path).status == status, path
    assert page.evaluate(_RUN_JS, [base, "print(1)", True]) == {"started": 403}   # no kernel of its own
    # the page's own kernel takes the widgets' messages, not code: no reply, no output
    ran = page.evaluate(_RUN_JS, [base, "print('ausgefuehrt')", False])
    assert ran["replied"] is False and "ausgefuehrt" not in ran["out"]
    other = page.request.get(url + "/user/koord-herne/lab")   # another login's server: not for her
    assert other.status in (403, 404) or "/hub/" in other.url
    context.close()


@pytest.mark.parametrize("user, own, other", [("koord-herne", "Herne", "Bochum"), ("koord-bochum", "Bochum", "Herne")])
def test_a_coordinator_gets_jupyterlab_with_her_kommune_only_and_the_reader_refuses_another(hub, browser, user, own,
                                                                                          other):
    url, passwords, _ = hub
    context, page = _login(browser, url, user, passwords[user], ".jp-LabShell")
    base = url + f"/user/{user}"
    ran = page.evaluate(_RUN_JS, [base, "from kimtools import Store, indicator_table\n"
                                        "print(Store().kommunen())\n"
                                        f"indicator_table(Store(), {other!r}, kennzahlen=['neuzugaenge'])", True])
    assert ran["replied"] and f"['{own}']" in ran["out"]
    assert f"AccessError: Kein Zugriff auf die Daten von {other}: Ihre Anmeldung gilt für {own}" in ran["out"]
    dashboard = context.new_page()
    dashboard.goto(base + "/voila/render/dashboards/lenkungskreis.ipynb")   # her server starts at the checkout
    assert _kommunen(dashboard) == [own]
    dashboard.screenshot(path=str(ARTEFACTS / f"hub-{user}.png"))
    context.close()


@pytest.fixture(scope="module")
def guest_link(hub) -> tuple[str, str]:
    """A guest link to the hub's meeting state, valid through today: (token, ID)."""
    import datetime as dt

    from kimtools import Store
    from kimtools.store.gastlinks import sign
    from kimtools.store.meetings import meetings_folder

    return sign(meetings_folder(Store(hub[2])), MEETING, dt.date.today())


def test_a_guest_link_opens_its_meeting_view_without_a_login_and_nothing_else(hub, guest_link, browser):
    from kimtools.hub.gast import guest_path
    from kimtools.serving import GUEST_REFUSED

    url, _, _ = hub
    token, _ = guest_link
    changed = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    page = browser.new_page()   # no login, no cookie of the hub
    shown = page.goto(url + guest_path() + token)
    assert shown.status == 200
    assert f"Sitzungsansicht „{MEETING}“" in page.content() and "Herne" in page.inner_text("body")
    assert page.locator("img.kim-figure").count() > 0
    assert page.locator("nav.kim-bar a").count() == 0   # a guest's bar leads nowhere that needs a login
    page.screenshot(path=str(ARTEFACTS / "hub-gastlink.png"))
    refused = page.goto(url + guest_path() + changed)
    assert refused.status == 403 and GUEST_REFUSED in page.inner_text("body")
    for path in ("/services/kimtools/", "/services/kimtools/gast/", f"/services/kimtools/sitzung/{MEETING}"):
        assert page.goto(url + path).status == 404, path
    for path in ("/user/lk-herne/voila/render/lenkungskreis.ipynb", "/hub/home"):   # still behind the login
        page.goto(url + path)
        assert "/hub/login" in page.url, path
    page.close()


def test_the_access_log_holds_every_open_and_nothing_else(hub, guest_link, capsys):
    from kimtools.cli import main
    from kimtools.store.zugriffe import log_path, read_access_log

    _, _, db = hub
    log = read_access_log(db)
    # each login's page for her kommune, as the tests above opened them, and the guest link; no other person, page
    # or kommune (koord-herne and koord-bochum opened JupyterLab too: not a page of the store's data)
    expected = {("lk-herne", "lenkungskreis", "Herne"), ("koord-herne", "lenkungskreis", "Herne"),
                ("koord-bochum", "lenkungskreis", "Bochum"), (f"gast:{guest_link[1]}", f"sitzungsansicht:{MEETING}", "Herne")}
    assert set(map(tuple, log[["person", "seite", "kommune"]].values.tolist())) == expected
    assert (log["zeit"] > pd.Timestamp.now() - pd.Timedelta(hours=1)).all()
    assert oct(log_path(db).stat().st_mode & 0o777) == "0o600"
    # as the data protection officer reads it: kimtools zugriffe, German CSV, and one kommune's opens
    capsys.readouterr()
    assert main(["zugriffe", "--db", str(db), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Zeit;Person;Seite;Kommune"
    assert {tuple(line.split(";")[1:]) for line in lines[1:]} == expected and len(lines) - 1 == len(log)
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", line.split(";")[0]) for line in lines[1:])
    assert main(["zugriffe", "--db", str(db), "--kommune", "bochum"]) == 0
    shown = capsys.readouterr().out
    assert "koord-bochum" in shown and "Herne" not in shown and "1 Eintrag;" in shown


# ----------------------------------------------------------------------------- the city's directory: LDAP
LDAP_ACCESS = """\
[anmeldung]
art = "ldap"

[anmeldung.ldap]
server_address = "127.0.0.1"
server_port = {port}
tls_strategy = "insecure"   # a directory on loopback in a test; a city's goes over TLS (docs/betrieb.md)
bind_dn_template = ["uid={{username}},ou=personen,dc=kim,dc=test"]
group_search_filter = "(member={{userdn}})"   # groups of names, as Active Directory keeps them
group_attributes = ["member"]

[[regel]]
gruppe = "cn=kim-koordination-herne,ou=gruppen,dc=kim,dc=test"
rolle = "koordination"
kommunen = ["Herne"]

[[regel]]
gruppe = "cn=kim-lenkungskreis-herne,ou=gruppen,dc=kim,dc=test"
rolle = "lenkungskreis"
kommunen = ["Herne"]
"""

DIRECTORY = """\
dn: dc=kim,dc=test
objectClass: dcObject
objectClass: organization
o: KIM Test
dc: kim

dn: ou=personen,dc=kim,dc=test
objectClass: organizationalUnit
ou: personen

dn: ou=gruppen,dc=kim,dc=test
objectClass: organizationalUnit
ou: gruppen

dn: uid=anna,ou=personen,dc=kim,dc=test
objectClass: inetOrgPerson
uid: anna
cn: Anna Koordination
sn: Koordination
userPassword: anna-passwort-1

dn: uid=bernd,ou=personen,dc=kim,dc=test
objectClass: inetOrgPerson
uid: bernd
cn: Bernd Lenkungskreis
sn: Lenkungskreis
userPassword: bernd-passwort-2

dn: uid=carla,ou=personen,dc=kim,dc=test
objectClass: inetOrgPerson
uid: carla
cn: Carla Ohne Gruppe
sn: Gruppe
userPassword: carla-passwort-3

dn: cn=kim-koordination-herne,ou=gruppen,dc=kim,dc=test
objectClass: groupOfNames
cn: kim-koordination-herne
member: uid=anna,ou=personen,dc=kim,dc=test

dn: cn=kim-lenkungskreis-herne,ou=gruppen,dc=kim,dc=test
objectClass: groupOfNames
cn: kim-lenkungskreis-herne
member: uid=bernd,ou=personen,dc=kim,dc=test
"""


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    """Debian's OpenLDAP on loopback with three persons (a coordinator, a committee member, one without a group)."""
    from kimtools.serving import free_port

    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    if not Path(slapd).exists():
        pytest.fail("Debian's slapd is missing: run 'make test', which installs it")
    folder = tmp_path_factory.mktemp("ldap")
    (folder / "db").mkdir()
    (folder / "slapd.conf").write_text(f"""\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
database mdb
suffix "dc=kim,dc=test"
rootdn "cn=admin,dc=kim,dc=test"
rootpw verwaltung
directory {folder}/db
""", encoding="utf-8")
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}/"
    subprocess.run([slapd, "-f", str(folder / "slapd.conf"), "-h", uri], check=True, capture_output=True)
    (folder / "verzeichnis.ldif").write_text(DIRECTORY, encoding="utf-8")
    for _ in range(40):
        done = subprocess.run(["ldapadd", "-x", "-H", uri, "-D", "cn=admin,dc=kim,dc=test", "-w", "verwaltung",
                               "-f", str(folder / "verzeichnis.ldif")], capture_output=True, text=True)
        if done.returncode == 0:
            break
        time.sleep(0.25)
    assert done.returncode == 0, done.stderr
    yield port
    os.kill(int((folder / "slapd.pid").read_text()), signal.SIGTERM)


def test_logins_through_the_city_s_directory_take_role_and_kommunen_from_its_groups(demo_store, directory, browser,
                                                                                   tmp_path):
    db = tmp_path / "kim.duckdb"
    shutil.copy(demo_store, db)
    with _running_hub(tmp_path, db, LDAP_ACCESS.format(port=directory), "hub-ldap.log") as url:
        context, page = _login(browser, url, "anna", "anna-passwort-1", ".jp-LabShell")   # group: coordination
        ran = page.evaluate(_RUN_JS, [url + "/user/anna", "from kimtools import Store\nprint(Store().kommunen())", True])
        assert ran["replied"] and "['Herne']" in ran["out"]
        context.close()
        context, page = _login(browser, url, "bernd", "bernd-passwort-2", ".js-plotly-plot .main-svg")
        assert page.url.endswith("/user/bernd/voila/render/lenkungskreis.ipynb") and _kommunen(page) == ["Herne"]
        assert page.request.get(url + "/user/bernd/lab").status == 404
        context.close()
        for user, password in (("anna", "falsch"), ("carla", "carla-passwort-3")):   # a wrong password; no group
            context = browser.new_context()
            page = context.new_page()
            page.goto(url + "/hub/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_load_state()
            assert "/hub/login" in page.url and "/user/" not in page.url, (user, page.url)
            context.close()


# ----------------------------------------------------------------------------- the city's single sign-on: OpenID Connect
OIDC_ACCESS = """\
[anmeldung]
art = "oidc"

[anmeldung.oidc]
client_id = "kimtools-hub"
client_secret = "{secret}"
authorize_url = "{issuer}/auth"
token_url = "{issuer}/token"
userdata_url = "{issuer}/me"
oauth_callback_url = "{{hub}}/hub/oauth_callback"
scope = ["openid", "profile", "groups"]

[[regel]]
gruppe = "kim-lenkungskreis-herne"
rolle = "lenkungskreis"
kommunen = ["Herne"]

[[regel]]
gruppe = "kim-koordination-bochum"
rolle = "koordination"
kommunen = ["Bochum"]
"""

SSO_ACCOUNTS = {"dora": {"password": "dora-passwort-4", "groups": ["kim-lenkungskreis-herne"]},
                "emil": {"password": "emil-passwort-5", "groups": ["kim-koordination-bochum"]},
                "fritz": {"password": "fritz-passwort-6", "groups": ["bauamt"]}}


@pytest.fixture(scope="module")
def single_sign_on(tmp_path_factory):
    """A single sign-on server on loopback (panva's oidc-provider from npm, installed by 'make test'), which knows
    the hub as its client and three persons with their groups; yields its address and the client's secret."""
    import json
    import secrets

    from kimtools.serving import free_port

    module = Path(sys.prefix) / "node" / "node_modules" / "oidc-provider"
    node = shutil.which("node")
    if node is None or not module.exists():
        pytest.fail("the single sign-on server for this test is missing: run 'make test', which installs it")
    port, secret = free_port(), secrets.token_urlsafe(24)
    hub_port = free_port()
    client = {"client_id": "kimtools-hub", "client_secret": secret,
              "redirect_uris": [f"http://127.0.0.1:{hub_port}/hub/oauth_callback"]}
    ARTEFACTS.mkdir(exist_ok=True)
    with open(ARTEFACTS / "oidc-provider.log", "w") as log:
        proc = subprocess.Popen([node, str(Path(__file__).with_name("oidc_provider.mjs")), str(module), str(port),
                                 json.dumps(client), json.dumps(SSO_ACCOUNTS)], stdout=log, stderr=subprocess.STDOUT)
        issuer = f"http://127.0.0.1:{port}"
        for _ in range(80):
            try:
                urlopen(issuer + "/.well-known/openid-configuration", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        yield issuer, secret, hub_port
        proc.terminate()
        proc.wait(10)


def test_logins_through_the_city_s_single_sign_on_take_role_and_kommunen_from_its_groups(demo_store, single_sign_on,
                                                                                        browser, tmp_path):
    issuer, secret, hub_port = single_sign_on
    db = tmp_path / "kim.duckdb"
    shutil.copy(demo_store, db)
    access = OIDC_ACCESS.format(issuer=issuer, secret=secret)

    def sign_in(url: str, user: str, password: str):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.goto(url + "/hub/oauth_login")   # the hub sends the browser to the city's sign-on page …
        assert page.url.startswith(issuer + "/interaction/")
        page.fill("input[name=login]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")   # … which sends it back with a code the hub exchanges for the claims
        page.wait_for_load_state()
        return context, page

    with _running_hub(tmp_path, db, access, "hub-oidc.log", port=hub_port) as url:
        context, page = sign_in(url, "dora", SSO_ACCOUNTS["dora"]["password"])   # group: Herne's committee
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=180_000)
        assert page.url.endswith("/user/dora/voila/render/lenkungskreis.ipynb") and _kommunen(page) == ["Herne"]
        assert page.request.get(url + "/user/dora/lab").status == 404
        context.close()
        context, page = sign_in(url, "emil", SSO_ACCOUNTS["emil"]["password"])   # group: Bochum's coordination
        page.wait_for_selector(".jp-LabShell", timeout=180_000)
        ran = page.evaluate(_RUN_JS, [url + "/user/emil", "from kimtools import Store\nprint(Store().kommunen())", True])
        assert ran["replied"] and "['Bochum']" in ran["out"]
        context.close()
        context, page = sign_in(url, "fritz", SSO_ACCOUNTS["fritz"]["password"])   # signed in, but in no KIM group
        assert "/user/" not in page.url and page.locator(".js-plotly-plot, .jp-LabShell").count() == 0
        assert "/hub/login" in page.request.get(url + "/user/fritz/voila/render/lenkungskreis.ipynb").url
        context.close()
        context, page = sign_in(url, "dora", "falsch")   # a wrong password: the sign-on page says so, no way in
        assert "Benutzername oder Passwort falsch" in page.inner_text("body") and page.url.startswith(issuer)
        context.close()
