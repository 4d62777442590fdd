"""E-mail addresses as the petition compares them: one person, one signature.

Two spellings reach the same mailbox at the big webmail providers: Gmail ignores dots and
everything after a "+", and several others ignore a "+tag". Comparing canonical addresses keeps
anyone from signing twice that way; the address as typed is still the one written to.
"""

from __future__ import annotations

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings

# Another name for the same mailboxes.
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
# Where dots in the local part do not matter.
DOTS_IGNORED = {"gmail.com"}
# Where "name+anything" reaches "name".
PLUS_TAGS = {
    "gmail.com",
    "outlook.com",
    "outlook.fr",
    "hotmail.com",
    "hotmail.fr",
    "hotmail.co.uk",
    "live.com",
    "live.fr",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "protonmail.ch",
    "proton.me",
    "pm.me",
    "fastmail.com",
    "fastmail.fm",
}


def domain_of(email: str) -> str:
    """The address's domain, lower case, as its provider knows it."""
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    return DOMAIN_ALIASES.get(domain, domain)


def canonical_email(email: str) -> str:
    """The mailbox an address reaches: lower case, and without what its provider ignores."""
    local, _, _ = email.strip().lower().rpartition("@")
    domain = domain_of(email)
    if domain in PLUS_TAGS:
        local = local.partition("+")[0]
    if domain in DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def is_disposable(email: str) -> bool:
    """Whether the address belongs to a throwaway-mailbox service (a list shipped with the
    site, plus DISPOSABLE_DOMAINS_EXTRA): nobody checks those mailboxes a second time."""
    domain = domain_of(email)
    candidates = {domain}
    # Throwaway services hand out subdomains too (anything.yopmail.com).
    parts = domain.split(".")
    candidates.update(".".join(parts[i:]) for i in range(1, len(parts) - 1))
    extra = settings.DISPOSABLE_DOMAINS_EXTRA
    return any(name in DISPOSABLE_DOMAINS or name in extra for name in candidates)
