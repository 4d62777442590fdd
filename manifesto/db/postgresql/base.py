"""Django's PostgreSQL backend, which checks a kept connection only when it has been idle.

With health checks on, Django sends `SELECT 1` before the first query of every request that
reuses a connection: under load, a round trip per request to learn what the previous request
showed a moment ago. A connection that served a request without error within the last
RECENT_SECONDS is taken as it is; one idle for longer is checked as before. Should the server
have gone in between, that request fails (a 503, petition's DatabaseUnavailableMiddleware) and
the connection is dropped after it, as for any error.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

RECENT_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    # When the connection last ended a request (or task) in which it was used, without error.
    served_at = float("-inf")

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.served_at < RECENT_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        # Called as each request starts and ends; health_check_done tells whether the
        # connection was used since the last call.
        served = self.connection is not None and self.health_check_done
        served = served and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if served and self.connection is not None:
            self.served_at = time.monotonic()
