"""Importing paper signatures and undoing an import: each is one transaction, recorded in the
import's own row and in the staff's history (Django's LogEntry), after which the count task
recounts the petition and its public log follows.

Typed-in signatures are confirmed as they are entered, with a receipt made and thrown away
(nobody holds it), so that they enter the public log like any counted signature. Their
`confirmed_at` is taken at the end of the transaction, just before it commits: the count's
folds and the log's batches look SETTLE_AFTER back for confirmations committed late.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .. import merkle
from ..models import RECEIPT_BYTES, Petition, Signature, Source
from ..queueing import after_commit
from .models import PaperImport
from .sheets import PaperFileError, PaperRow


def collected_at(day: date) -> datetime:
    """A day of collection as a signing time: its first moment, in the site's time zone, so
    that a sheet of today is never signed after it is entered."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _events(rows: list[PaperRow]) -> str:
    names = list(dict.fromkeys(row.event for row in rows))
    return " ; ".join(names)[:300]


class Duplicate:
    """Why a row was set aside, as kept on the import: {"line", "reason", "other"}, told in
    the reader's language by `duplicate_lines`."""

    ONLINE = "online"
    EARLIER_SHEET = "earlier_sheet"
    IN_FILE = "in_file"


def _duplicates(
    petition: Petition, rows: list[PaperRow]
) -> tuple[list[PaperRow], list[dict[str, object]]]:
    """The rows to enter, and one entry for each row set aside because its mailbox has signed:
    online, on an earlier sheet, or higher up in this file."""
    mailboxes = {row.mailbox for row in rows if row.mailbox}
    known = dict(
        Signature.objects.filter(petition=petition, email_canonical__in=mailboxes).values_list(
            "email_canonical", "source"
        )
    )
    seen: dict[str, int] = {}
    kept: list[PaperRow] = []
    reported: list[dict[str, object]] = []
    for row in rows:
        mailbox = row.mailbox
        if mailbox and mailbox in seen:
            reported.append({"line": row.line, "reason": Duplicate.IN_FILE, "other": seen[mailbox]})
        elif mailbox and known.get(mailbox) == Source.ONLINE:
            reported.append({"line": row.line, "reason": Duplicate.ONLINE})
        elif mailbox and mailbox in known:
            reported.append({"line": row.line, "reason": Duplicate.EARLIER_SHEET})
        else:
            if mailbox:
                seen[mailbox] = row.line
            kept.append(row)
    return kept, reported


def duplicate_lines(paper_import: PaperImport) -> list[str]:
    """The rows an import set aside, a sentence each, in the current language."""
    lines = []
    for entry in paper_import.duplicates:
        if entry["reason"] == Duplicate.IN_FILE:
            problem = gettext("the same mailbox as line %(other)d.") % {"other": entry["other"]}
        elif entry["reason"] == Duplicate.ONLINE:
            problem = gettext("this mailbox has already signed online.")
        else:
            problem = gettext("this mailbox is already on an earlier paper sheet.")
        lines.append(
            gettext("Line %(line)d: %(problem)s") % {"line": entry["line"], "problem": problem}
        )
    return lines


def _history(user: AbstractBaseUser, paper_import: PaperImport, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[paper_import],
        action_flag=flag,
        change_message=message,
        single_object=True,
    )


def import_sheet(
    *, petition: Petition, rows: list[PaperRow], file_name: str, user: AbstractBaseUser
) -> PaperImport:
    """Enter a typed-in sheet's signatures, all or none; duplicates are set aside and listed."""
    try:
        with transaction.atomic():
            kept, duplicates = _duplicates(petition, rows)
            paper_import = PaperImport.objects.create(
                petition=petition,
                event=_events(rows),
                collected_on=min(row.collected_on for row in rows),
                file_name=file_name[:200],
                rows_created=len(kept),
                duplicates=duplicates,
                imported_at=timezone.now(),
                imported_by=user,
                imported_by_name=user.get_username(),
            )
            confirmed_at = timezone.now()
            Signature.objects.bulk_create(
                [
                    Signature(
                        petition=petition,
                        source=Source.PAPER,
                        paper_import=paper_import,
                        first_name=row.first_name,
                        last_name=row.last_name,
                        email=row.email,
                        country=row.country,
                        postal_code=row.postal_code,
                        language=petition_language(),
                        created_at=collected_at(row.collected_on),
                        confirmed_at=confirmed_at,
                        receipt_hash=merkle.receipt_hash(secrets.token_urlsafe(RECEIPT_BYTES)),
                    )
                    for row in kept
                ],
                batch_size=2000,
            )
            _history(user, paper_import, ADDITION, describe(paper_import))
            # The log and the count take the new rows in first, as they take confirmations;
            # the recount then finds them level, and adds the sheets counted by number.
            after_commit("petition.tasks.append_to_log", petition.pk)
            after_commit("petition.tasks.fold_count", petition.pk)
            after_commit("petition.tasks.refresh_signature_count", petition.pk)
    except IntegrityError as error:
        # An online signature of one of these mailboxes arrived while the sheet was entered.
        raise PaperFileError(
            [
                gettext("Nothing was imported."),
                gettext("Someone signed meanwhile with an address of this file: try again."),
            ]
        ) from error
    return paper_import


def record_count(
    *, petition: Petition, event: str, collected_on: date, count: int, user: AbstractBaseUser
) -> PaperImport:
    """Count a sheet that was not typed in, by its number of signatures alone."""
    with transaction.atomic():
        paper_import = PaperImport.objects.create(
            petition=petition,
            event=event,
            collected_on=collected_on,
            count_alone=count,
            imported_at=timezone.now(),
            imported_by=user,
            imported_by_name=user.get_username(),
        )
        _history(user, paper_import, ADDITION, describe(paper_import))
        after_commit("petition.tasks.refresh_signature_count", petition.pk)
    return paper_import


def undo_import(*, paper_import: PaperImport, user: AbstractBaseUser) -> int:
    """Take a whole import back: its signatures are deleted and its number no longer counts;
    the public log records their removal. Returns how many signatures were deleted; an import
    undone already is left as it is (0)."""
    with transaction.atomic():
        updated = PaperImport.objects.filter(pk=paper_import.pk, undone_at__isnull=True).update(
            undone_at=timezone.now(), undone_by=user, undone_by_name=user.get_username()
        )
        if not updated:
            return 0
        deleted, _by_model = Signature.objects.filter(
            Q(paper_import=paper_import) & Q(source=Source.PAPER)
        ).delete()
        paper_import.refresh_from_db()
        message = ngettext(
            "Undone: %(count)d paper signature deleted, %(alone)d counted without being "
            "typed in no longer counted.",
            "Undone: %(count)d paper signatures deleted, %(alone)d counted without being "
            "typed in no longer counted.",
            deleted,
        ) % {"count": deleted, "alone": paper_import.count_alone}
        _history(user, paper_import, CHANGE, message)
        after_commit("petition.tasks.refresh_signature_count", paper_import.petition_id)
    return deleted


def describe(paper_import: PaperImport) -> str:
    """The import as the staff's history and messages say it."""
    if paper_import.count_alone:
        return ngettext(
            "%(count)d paper signature counted without being typed in (%(event)s, %(date)s).",
            "%(count)d paper signatures counted without being typed in (%(event)s, %(date)s).",
            paper_import.count_alone,
        ) % {
            "count": paper_import.count_alone,
            "event": paper_import.event,
            "date": paper_import.collected_on.isoformat(),
        }
    return ngettext(
        "%(count)d paper signature imported; duplicates set aside: %(duplicates)d.",
        "%(count)d paper signatures imported; duplicates set aside: %(duplicates)d.",
        paper_import.rows_created,
    ) % {"count": paper_import.rows_created, "duplicates": len(paper_import.duplicates)}


def petition_language() -> str:
    """The language of a paper signature: the site's own, as nobody chose one."""
    return settings.LANGUAGE_CODE
