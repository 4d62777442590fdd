"""Staff accounts in the admin: Django's user and group pages, with every permission named in the
language of the page, and the second factor asked again before any change to an account's
permissions or factors (petition.staff). A superuser resets the factors of a member who lost
them.

Django writes a permission's name into its row once, when it creates it: its own ("Can view …")
in English, custom ones in whichever language is active then; the admin lists that stored name.
French pages showed "Can view signature", and English ones "Peut exporter les signatures" once
the table had been filled in French. The name is now read from the model, translated, when a
page lists it.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import ManyToManyField
from django.forms import Field
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from petition import staff

# Django's default permissions, worded as Django words them ("Can view %s").
DEFAULT_PERMISSIONS = {
    "add": _("Can add %(name)s"),
    "change": _("Can change %(name)s"),
    "delete": _("Can delete %(name)s"),
    "view": _("Can view %(name)s"),
}


def permission_label(permission: Permission) -> str:
    """A permission as the admin lists it ("app | model | name"), named in the active language."""
    model = permission.content_type.model_class()
    name = permission.name
    if model is not None:
        opts = model._meta
        custom = dict(opts.permissions)
        action, _sep, model_name = permission.codename.partition("_")
        if permission.codename in custom:
            name = str(custom[permission.codename])
        elif action in DEFAULT_PERMISSIONS and model_name == opts.model_name:
            name = DEFAULT_PERMISSIONS[action] % {"name": opts.verbose_name}
    return f"{permission.content_type} | {name}"


class TranslatedPermissions:
    """Lists the permissions of a user or group by permission_label."""

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: object
    ) -> Field | None:
        if db_field.remote_field.model is Permission:
            kwargs["queryset"] = Permission.objects.select_related("content_type")
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.remote_field.model is Permission:
            field.label_from_instance = permission_label
        return field


fresh = method_decorator(staff.fresh_second_factor_required)


class FreshSecondFactorForChanges:
    """Adding, changing or deleting an account or a group (its permissions) asks for the
    second factor again if it was not used in the last minutes."""

    @fresh
    def add_view(self, *args: object, **kwargs: object) -> HttpResponse:
        return super().add_view(*args, **kwargs)

    @fresh
    def change_view(self, *args: object, **kwargs: object) -> HttpResponse:
        return super().change_view(*args, **kwargs)

    @fresh
    def delete_view(self, *args: object, **kwargs: object) -> HttpResponse:
        return super().delete_view(*args, **kwargs)


class StaffUserAdmin(FreshSecondFactorForChanges, TranslatedPermissions, UserAdmin):
    list_display = [*UserAdmin.list_display, "second_factors"]
    change_form_template = "admin/auth/user/staff_change_form.html"

    @admin.display(description=_("second factors"))
    def second_factors(self, user: object) -> int:
        return Authenticator.objects.filter(user_id=user.pk, type__in=staff.FACTORS).count()

    def get_urls(self) -> list:
        return [
            path(
                "<id>/reset-factors/",
                self.admin_site.admin_view(self.reset_factors_view),
                name="auth_user_reset_factors",
            ),
            *super().get_urls(),
        ]

    @fresh
    def user_change_password(self, *args: object, **kwargs: object) -> HttpResponse:
        return super().user_change_password(*args, **kwargs)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        extra = {"can_reset_factors": request.user.is_superuser}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    @fresh
    def reset_factors_view(self, request: HttpRequest, id: str) -> HttpResponse:
        """A superuser removes every second factor of a member who lost them (GET asks, POST
        does it); the member enrols new ones at their next login, and gets an e-mail."""
        if not request.user.is_superuser:
            raise PermissionDenied
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if request.method == "POST":
            removed = staff.reset_factors(user, by=request.user.get_username(), request=request)
            self.log_change(request, user, gettext("Reset the second factors."))
            messages.success(
                request,
                gettext(
                    "The second factors of %(name)s are removed (%(count)d): they enrol new ones "
                    "at their next login."
                )
                % {"name": user.get_username(), "count": removed},
            )
            return redirect("admin:auth_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reset the second factors of %(name)s")
            % {"name": user.get_username()},
            "opts": self.opts,
            "original": user,
            "factors": Authenticator.objects.filter(user_id=user.pk).order_by("type"),
        }
        return TemplateResponse(request, "admin/auth/user/reset_factors.html", context)


class StaffGroupAdmin(FreshSecondFactorForChanges, TranslatedPermissions, GroupAdmin):
    pass


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, StaffGroupAdmin)
# Second factors change through their owner's own pages, or a superuser's reset, both recorded
# and e-mailed (petition.staff): never by editing rows. E-mail addresses are the accounts' own.
admin.site.unregister(Authenticator)
admin.site.unregister(EmailAddress)
