"""Updates to signers: write one in each language, preview it, send yourself a test, send it,
and follow its progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from modeltranslation.admin import TranslationAdmin

from manifesto.security import csp_replace

from ..models import Update
from ..staff import fresh_second_factor_required

if TYPE_CHECKING:
    from .. import mailings

SEND_UPDATE_PERMISSION = "petition.send_update"


@admin.register(Update)
class UpdateAdmin(TranslationAdmin):
    """Write an update in French and English, preview it, send yourself a test, then send it
    to the signers who asked for news; follow its progress here."""

    list_display = [
        "subject",
        "petition",
        "state",
        "created_at",
        "queued_at",
        "finished_at",
        "published_at",
    ]
    list_filter = ["petition"]
    search_fields = ["subject_fr", "subject_en"]
    fields = ["petition", "subject", "body", "published_at"]
    readonly_fields = ["published_at"]
    actions = ["publish", "unpublish"]
    change_form_template = "admin/petition/update/change_form.html"

    @admin.display(description=_("state"))
    def state(self, update: Update) -> str:
        from .. import mailings

        if update.is_draft:
            return gettext("draft")
        if update.finished_at:
            return gettext("sent")
        figures = mailings.progress(update)
        return gettext("sending: %(percent)d%%") % {"percent": figures.percent}

    def formfield_for_dbfield(self, db_field: object, request: HttpRequest, **kwargs) -> object:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        # Each language's subject and body say which language they are in, for screen readers
        # and spelling checkers (a draft written from an answer comes in both).
        language = getattr(db_field, "language", None)
        if field is not None and language:
            field.widget.attrs["lang"] = language
        return field

    def get_readonly_fields(self, request: HttpRequest, obj: Update | None = None) -> list:
        if obj is not None and not obj.is_draft:
            # What signers received cannot change afterwards.
            return self.replace_orig_field(["petition", "subject", "body", "published_at"])
        return super().get_readonly_fields(request, obj)

    @admin.action(description=_("Show on the news page"))
    def publish(self, request: HttpRequest, queryset: object) -> None:
        from ..advocacy import services

        count = services.publish_updates(updates=queryset)
        messages.success(
            request,
            ngettext(
                "%(count)d update is on the news page.",
                "%(count)d updates are on the news page.",
                count,
            )
            % {"count": count},
        )

    @admin.action(description=_("Remove from the news page"))
    def unpublish(self, request: HttpRequest, queryset: object) -> None:
        from ..advocacy import services

        count = services.unpublish_updates(updates=queryset)
        messages.success(
            request,
            ngettext(
                "%(count)d update removed from the news page.",
                "%(count)d updates removed from the news page.",
                count,
            )
            % {"count": count},
        )

    def has_delete_permission(self, request: HttpRequest, obj: Update | None = None) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return super().has_delete_permission(request, obj)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SEND_UPDATE_PERMISSION)

    def save_model(self, request: HttpRequest, obj: Update, form: object, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        from .. import mailings

        update = self.get_object(request, unquote(object_id))
        extra = {}
        if update is not None:
            extra = {
                "update": update,
                "progress": None if update.is_draft else mailings.progress(update),
                "can_send": self.has_send_permission(request),
                # Counted over every signature: only while it can still change anything.
                "audience": (
                    sum(mailings.audience(update.petition).values()) if update.is_draft else None
                ),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self) -> list:
        def view(function: object, name: str) -> object:
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(function),
                name=f"petition_update_{name.replace('-', '_')}",
            )

        return [
            view(self.preview_view, "preview"),
            path(
                "<path:object_id>/preview/<str:language>/",
                self.admin_site.admin_view(self.preview_email_view),
                name="petition_update_preview_email",
            ),
            view(self.test_view, "test"),
            view(self.send_view, "send"),
            view(self.resend_uncertain_view, "resend-uncertain"),
            *super().get_urls(),
        ]

    def _update(self, request: HttpRequest, object_id: str, *, change: bool = False) -> Update:
        update = self.get_object(request, unquote(object_id))
        if update is None:
            raise Http404
        allowed = (
            self.has_change_permission(request, update)
            if change
            else self.has_view_or_change_permission(request, update)
        )
        if not allowed:
            raise PermissionDenied
        return update

    def _change_url(self, update: Update) -> str:
        return reverse("admin:petition_update_change", args=[update.pk])

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The update in each language, as a signer reads it."""
        update = self._update(request, object_id)
        previews = [
            (language, label, self._preview(request, update, language))
            for language, label in self._languages()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Preview of “%(update)s”") % {"update": update},
            "opts": self.opts,
            "original": update,
            "previews": previews,
        }
        return TemplateResponse(request, "admin/petition/update/preview.html", context)

    # E-mails style themselves inline (mail clients ignore style sheets), which the site's policy
    # forbids: this document alone allows it. Only staff see it, sandboxed in the preview page's
    # frame (and by its policy, were it opened on its own), where no script runs and no form goes.
    @csp_replace(
        {
            "default-src": ["'none'"],
            "script-src": ["'none'"],
            "style-src": ["'unsafe-inline'"],
            "form-action": ["'none'"],
            "frame-ancestors": ["'self'"],
            "sandbox": [],
        }
    )
    @method_decorator(xframe_options_sameorigin)
    def preview_email_view(
        self, request: HttpRequest, object_id: str, language: str
    ) -> HttpResponse:
        """The update's e-mail in one language, alone: the preview page's frame shows it."""
        if language not in dict(settings.LANGUAGES):
            raise Http404
        update = self._update(request, object_id)
        return HttpResponse(self._preview(request, update, language).html)

    @staticmethod
    def _preview(request: HttpRequest, update: Update, language: str) -> mailings.Rendered:
        from .. import mailings

        name = request.user.first_name or request.user.get_username()
        return mailings.preview(update, language=language, first_name=name)

    @staticmethod
    def _languages() -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label in settings.LANGUAGES]

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: send the update, in every language, to the member of staff asking."""
        from .. import mailings

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        update = self._update(request, object_id, change=True)
        if not request.user.email:
            messages.error(request, gettext("Your account has no e-mail address to send a test."))
            return redirect(self._change_url(update))
        mailings.send_test(update=update, user=request.user)
        self.log_change(
            request, update, gettext("Sent a test to %(email)s.") % {"email": request.user.email}
        )
        messages.success(
            request,
            gettext("A test in every language is on its way to %(email)s.")
            % {"email": request.user.email},
        )
        return redirect(self._change_url(update))

    @fresh_second_factor_required
    def send_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: how many signers, per language, will receive it; POST: send it. Both with the
        second factor used in the last minutes."""
        from .. import mailings

        update = self._update(request, object_id, change=True)
        if not self.has_send_permission(request):
            raise PermissionDenied
        if not update.is_draft:
            messages.info(request, gettext("This update has already been sent."))
            return redirect(self._change_url(update))
        audience = mailings.audience(update.petition)
        total = sum(audience.values())
        if request.method == "POST":
            if mailings.start_sending(update=update, user=request.user):
                self.log_change(
                    request,
                    update,
                    gettext("Started sending to %(count)d signers.") % {"count": total},
                )
                messages.success(
                    request,
                    gettext("Sending has started. Its progress shows on this page."),
                )
            return redirect(self._change_url(update))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send “%(update)s” to the signers") % {"update": update},
            "opts": self.opts,
            "original": update,
            "update": update,
            "total": total,
            "audience": [
                (label, audience.get(language, 0)) for language, label in self._languages()
            ],
        }
        return TemplateResponse(request, "admin/petition/update/send.html", context)

    @fresh_second_factor_required
    def resend_uncertain_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: send again the copies a crash left uncertain, knowing some may arrive twice."""
        from .. import mailings

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        update = self._update(request, object_id, change=True)
        if not self.has_send_permission(request):
            raise PermissionDenied
        count = mailings.resend_uncertain(update=update)
        if count:
            self.log_change(
                request,
                update,
                gettext("Sent again %(count)d copies whose sending was uncertain.")
                % {"count": count},
            )
        messages.success(
            request,
            ngettext("%(count)d copy goes out again.", "%(count)d copies go out again.", count)
            % {"count": count},
        )
        return redirect(self._change_url(update))
