"""Shared fixtures. Services the suite needs are checked here: on a laptop without them the
tests that need them skip; in CI (CI=true) a missing service fails the run instead."""

from __future__ import annotations

import importlib
import os
import socket

import pytest
from django.apps import apps

from petition.models import Petition

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MANIFESTO_SLUG = "stop-cyberpedocriminalite"


def service_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip the test when a service is missing, except in CI, where that is a failure."""
    if service_reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def requires_postgresql(settings) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        if IN_CI:
            pytest.fail("CI must run the suite on PostgreSQL", pytrace=False)
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def petition(db) -> Petition:
    """The seeded manifesto. Transactional tests flush the tables, so it is loaded again."""
    found = Petition.objects.filter(slug=MANIFESTO_SLUG).first()
    if found is None:
        seed = importlib.import_module("petition.migrations.0002_seed_manifesto")
        seed.load_manifesto(apps, None)
        found = Petition.objects.get(slug=MANIFESTO_SLUG)
    return found


@pytest.fixture
def signer_data() -> dict[str, str]:
    """What a citizen in France types into the signing form."""
    return {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "country": "FR",
        "postal_code": "75011",
    }
