"""The staff's admin: petitions and their dashboards, signatures (read-only personal data) and
their export, the audit log of exports, addresses the mail provider gave up on, and updates to
signers. Every staff action is in Django's history (LogEntry), bulk actions included.

One module per screen; importing them registers their admins with the admin site.

Every process loads this package (the admin's autodiscovery; manage.py commands too), so the
modules that only some views need are imported in those views: mailings (e-mail rendering,
anymail's backends) and dashboard.
"""

from ..advocacy import admin as advocacy
from ..paper import admin as paper
from . import audit, exports, petitions, signatures, switches, updates

__all__ = [
    "advocacy",
    "audit",
    "exports",
    "paper",
    "petitions",
    "signatures",
    "switches",
    "updates",
]
