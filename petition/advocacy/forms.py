"""The signer's two forms: which circonscription they vote in, and whom they write to."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .letters import Recipients
from .models import Target
from .places import ordinal


class CirconscriptionForm(forms.Form):
    """The circonscriptions of the signer's département, each with its député."""

    circonscription = forms.TypedChoiceField(
        label=_("Your circonscription"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose your circonscription."),
            "invalid_choice": _("Please choose one of the circonscriptions listed."),
        },
    )

    def __init__(self, *args, recipients: Recipients, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        field = self.fields["circonscription"]
        field.choices = [
            (
                deputy.circonscription,
                gettext("%(seat)s: %(name)s (%(group)s)")
                % {
                    "seat": ordinal(deputy.circonscription),
                    "name": deputy.full_name,
                    "group": deputy.organisation,
                },
            )
            for deputy in recipients.deputies
        ]
        if recipients.deputy is not None:
            field.initial = recipients.deputy.circonscription


class WriteForm(forms.Form):
    """The decision-maker whose message the signer opens: one they may write to."""

    target = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": _("Please choose whom to write to."),
            "invalid_choice": _("You cannot write to this decision-maker from here."),
        },
    )

    def __init__(self, *args, recipients: Recipients, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = {target.pk: target for target in recipients.allowed()}
        self.fields["target"].choices = [(pk, str(pk)) for pk in self.allowed]

    def chosen(self) -> Target:
        return self.allowed[self.cleaned_data["target"]]
