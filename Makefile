# Queqiao: `make run` serves the demo app, `make test` runs the whole suite.
SHELL := /bin/bash
PY := .venv/bin/python
HTMX_VERSION := 2.0.11
HTMX_SHA384 := 2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg
HTMX := static/vendor/htmx.min.js
# axe-core serves the accessibility checks of the browser tests (tests/browser/axe.py), never the app.
AXE_VERSION := 4.14.1
AXE_SHA384 := xt1SFg49QaDwsyt0Xfs2XAyBtYPClXl3X2q5OOLeGAUmq9jZTYIMdztpF99WdhiH
AXE := tests/.vendor/axe.min.js
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-wqy-microhei fonts-noto-cjk poppler-utils chromium postgresql wrk
export FLASK_APP := crm

.PHONY: run test install system-deps translations bench load lint clean

run: install
	$(PY) -m flask db upgrade
	$(PY) -m flask seed-demo
	$(PY) -m flask run --host 127.0.0.1 --port 5000

# One pytest worker per core (pytest-xdist); TEST_WORKERS=0 runs in one process (e.g. to debug with -x --pdb).
TEST_WORKERS ?= auto
test: install lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

install: system-deps .venv/installed $(HTMX) $(AXE) translations

# Fonts and harfbuzz-subset are runtime needs of the PDFs (WQY Micro Hei sets them, Noto CJK only the rare
# characters it lacks; crm/cards/pdf.py); chromium, poppler and postgresql serve the tests.
system-deps:
	@need=""; for p in $(SYSTEM_PACKAGES); do dpkg -s "$$p" >/dev/null 2>&1 || need="$$need $$p"; done; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "Missing system packages:$$need"; \
	    echo "Run as root: apt-get install -y$$need"; exit 1; fi; \
	  echo "Installing system packages:$$need"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $$need >/dev/null; \
	fi

.venv/installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[test]'
	touch $@

# htmx comes from the npm registry at install time, pinned and checked, never committed.
$(HTMX):
	@mkdir -p static/vendor; tmp=$$(mktemp -d); \
	(cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-$(HTMX_VERSION).tgz) && \
	got=$$(openssl dgst -sha384 -binary $$tmp/package/dist/htmx.min.js | openssl base64 -A) && \
	if [ "$$got" != "$(HTMX_SHA384)" ]; then echo "htmx checksum mismatch: $$got"; rm -rf $$tmp; exit 1; fi && \
	cp $$tmp/package/dist/htmx.min.js $@ && rm -rf $$tmp && echo "htmx $(HTMX_VERSION) installed"

# axe-core likewise: from the npm registry, pinned and checked, git-ignored (tests/.vendor/).
$(AXE):
	@mkdir -p tests/.vendor; tmp=$$(mktemp -d); \
	(cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-$(AXE_VERSION).tgz) && \
	got=$$(openssl dgst -sha384 -binary $$tmp/package/axe.min.js | openssl base64 -A) && \
	if [ "$$got" != "$(AXE_SHA384)" ]; then echo "axe-core checksum mismatch: $$got"; rm -rf $$tmp; exit 1; fi && \
	cp $$tmp/package/axe.min.js $@ && rm -rf $$tmp && echo "axe-core $(AXE_VERSION) installed"

# Compiles the catalogues when there are any (-q goes before the subcommand; compile fails on an empty folder).
translations: .venv/installed
	@if ls crm/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(PY) -m babel.messages.frontend -q compile -d crm/translations; \
	else echo "No translation catalogue in crm/translations yet: the UI shows the English source strings."; fi

# Suggestion engine over 100,000 synthetic members: numpy index against the plain-Python scan.
# Then union scale (issue 10): key pages through the test client and gunicorn + wrk (loopback), on SQLite
# (dataset generated once into bench/.data/) and on a throwaway PostgreSQL; writes bench/RESULTS.md.
bench: install
	$(PY) -m bench.suggestions 100000 10
	$(PY) -m bench.pages --members 100000 --out bench/.data/sqlite.json
	scripts/with-pg.sh $(PY) -m bench.pages --members 100000 --database env --out bench/.data/postgresql.json
	$(PY) -m bench.report bench/.data/sqlite.json bench/.data/postgresql.json

# Load and fault tests (tests/load): 30 locust users for LOAD_SECONDS (default 180) against gunicorn -w 2 on
# loopback, then SIGKILL of a worker mid bulk reassignment; on SQLite, then on a throwaway PostgreSQL.
load: install
	RUN_LOAD=1 $(PY) -m pytest -q -m load tests/load $(PYTEST_ARGS)
	RUN_LOAD=1 scripts/with-pg.sh $(PY) -m pytest -q -m load tests/load $(PYTEST_ARGS)

lint: .venv/installed
	$(PY) -m ruff check crm tests bench

clean:
	rm -rf .venv $(HTMX) $(AXE)
