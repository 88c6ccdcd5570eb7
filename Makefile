# kimtools: every install step lives here. Quick start: `make dashboards`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/kim.duckdb
VERGLEICH ?= data/vergleich
HOST   ?= 127.0.0.1
PORT   ?= 8866
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ROOTFLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: install dashboards lab test chromium directory hub demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m kimtools.present.notebook_report > /dev/null   # JupyterLab's webpdf with Debian's chromium
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,hub]"
	touch $@

$(VENV)/.installed-hub: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[hub]"
	touch $@

# JupyterHub's proxy for team mode (kimtools hub), from npm into the environment (Debian's package needs Debian's node).
PROXY := $(VENV)/node/node_modules/.bin/configurable-http-proxy
$(PROXY): | $(VENV)/.installed
	npm install --prefix $(VENV)/node --no-audit --no-fund --loglevel=error configurable-http-proxy@4

# A single sign-on server for the tests of the OpenID Connect login (panva's oidc-provider, from npm like the proxy).
OIDC := $(VENV)/node/node_modules/oidc-provider/package.json
$(OIDC): | $(PROXY)
	npm install --prefix $(VENV)/node --no-audit --no-fund --loglevel=error oidc-provider@8

# A directory server for the tests of the LDAP login (Debian's OpenLDAP; the tests start their own on loopback).
directory:
	@command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq slapd ldap-utils; }

# Team mode with demo accounts (their passwords are printed once).
hub: $(VENV)/.installed-hub $(PROXY) $(DB)
	$(BIN)/kimtools hub --demo --db $(DB) --host $(HOST)

# Debian's browser for the dashboard tests; Playwright's own download cannot work offline.
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# The demo store is built once; a real store at $(DB) is never overwritten.
$(DB): | $(VENV)/.installed
	$(BIN)/kimtools demo --out data/demo-export
	$(BIN)/kimtools import data/demo-export --db $(DB)

demo: $(DB)

# The demo comparison: every demo city's bundle, checked and merged (what cities would exchange).
$(VERGLEICH)/vergleich_pakete.csv: | $(DB)
	$(BIN)/kimtools export --alle --db $(DB) --out $(VERGLEICH)/pakete
	$(BIN)/kimtools compare $(VERGLEICH)/pakete/*.zip --out $(VERGLEICH)

dashboards: $(VENV)/.installed $(DB) $(VERGLEICH)/vergleich_pakete.csv
	KIMTOOLS_VERGLEICH=$(abspath $(VERGLEICH)) $(BIN)/kimtools serve --db $(DB) --host $(HOST) --port $(PORT)

lab: $(VENV)/.installed $(DB) $(VERGLEICH)/vergleich_pakete.csv
	KIMTOOLS_DB=$(abspath $(DB)) KIMTOOLS_VERGLEICH=$(abspath $(VERGLEICH)) $(BIN)/jupyter lab notebooks/ $(ROOTFLAG)

test: $(VENV)/.installed-test $(PROXY) $(OIDC) chromium directory
	$(BIN)/python -m pytest kimtools tests notebooks dashboards -n 2 --dist loadfile \
	    --nbval-lax --nbval-current-env --nbval-cell-timeout=300 --durations=15

bench: $(VENV)/.installed-test $(PROXY) chromium
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build test-artefacts
