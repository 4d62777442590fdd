"""gunicorn's settings for a web node: `gunicorn -c deploy/gunicorn.conf.py manifesto.wsgi`.

The server and its layout are the benchmark's choice (README, Which server): per 2 cores, 2
processes of 2 threads. Every request comes on a connection of its own (behind nginx or HAProxy,
which keep the clients' connections), so that no process keeps a client to itself.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
keepalive = 0
# A signing takes milliseconds; a request still running after this is stuck, and its process
# is replaced.
timeout = 30
graceful_timeout = 20
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
