"""The site's benchmark: `make bench`, or `python -m tests.bench --help`.

It serves the site with gunicorn on production settings against a scratch PostgreSQL database
filled with a million confirmed signatures, loads it with wrk, and checks the figures against
the targets of the design (signing throughput, counter API and home page against a bare Django
view, confirmation-to-count latency).
"""
