"""Production settings, plus the yardstick view of tests/bench/urls.py.

Everything else comes from the environment the benchmark sets, as in production.
"""

from manifesto.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
