"""A kept PostgreSQL connection is checked before reuse only when it has been idle for a while
(manifesto.db.postgresql): what each way costs when the server dropped it meanwhile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection, connections

from manifesto.db.postgresql.base import RECENT_SECONDS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("requires_postgresql"),
]


@pytest.fixture
def kept() -> Iterator:
    """A connection of its own, kept between requests as a server process keeps it."""
    wrapper = connections.create_connection("default")
    assert wrapper.settings_dict["CONN_MAX_AGE"] > 0
    assert wrapper.settings_dict["CONN_HEALTH_CHECKS"]
    yield wrapper
    wrapper.close()


def serve(wrapper) -> int:
    """One request's use of the connection, between the calls Django makes as a request starts
    and ends."""
    wrapper.close_if_unusable_or_obsolete()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        return pid
    finally:
        wrapper.close_if_unusable_or_obsolete()


def drop_on_the_server(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_idle_for_a_while_is_checked_and_replaced_when_the_server_dropped_it(kept):
    pid = serve(kept)
    kept.served_at -= RECENT_SECONDS + 1
    drop_on_the_server(pid)

    assert serve(kept) != pid


def test_a_connection_that_just_served_is_used_unchecked_and_dropped_after_its_first_error(kept):
    pid = serve(kept)
    assert serve(kept) == pid, "a busy connection is kept"
    drop_on_the_server(pid)

    # No check between two busy requests: the request that meets the dropped connection fails
    # (the site answers it with a 503), and the connection goes with it.
    with pytest.raises(OperationalError):
        serve(kept)
    assert kept.connection is None
    assert serve(kept) != pid
