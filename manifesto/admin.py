"""Staff accounts in the admin: Django's user and group pages, with every permission named in the
language of the page.

Django writes a permission's name into its row once, when it creates it: its own ("Can view …")
in English, custom ones in whichever language is active then; the admin lists that stored name.
French pages showed "Can view signature", and English ones "Peut exporter les signatures" once
the table had been filled in French. The name is now read from the model, translated, when a
page lists it.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import ManyToManyField
from django.forms import Field
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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


class StaffUserAdmin(TranslatedPermissions, UserAdmin):
    pass


class StaffGroupAdmin(TranslatedPermissions, GroupAdmin):
    pass


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, StaffGroupAdmin)
