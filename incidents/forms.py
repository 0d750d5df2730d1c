"""Forms of the researchers' admin (incidents/admin.py).

Validation lives in one layer, `incidents.services.validate_incident`: these forms only
parse input. Model CheckConstraints are not re-checked here (the services word the same
rules for the person who entered the data, field by field), and the admin maps the
services' errors back onto these forms.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.utils.translation import gettext_lazy as _

from incidents import services
from incidents.models import (
    Actor,
    Claim,
    Incident,
    Location,
    Source,
)

RTL = {"dir": "rtl", "lang": "ar"}

# Arabic fields, rendered right-to-left wherever an admin form shows them.
ARABIC_FIELDS = ("title_ar", "summary_ar", "name_ar", "label_ar", "definition_ar")
ARABIC_FIELDS += ("description_ar",)


def rtl_widgets(form: forms.BaseForm) -> None:
    """Mark the form's Arabic fields dir="rtl" (and lang="ar")."""
    for name, field in form.fields.items():
        if name in ARABIC_FIELDS or name.endswith("_ar"):
            field.widget.attrs.update(RTL)


class ServiceValidatedModelForm(forms.ModelForm):
    """A model form whose constraint checks are left to the service layer.

    Field-level parsing and validators still run; the model's CheckConstraints (and the
    unique constraints involving the parent incident) are checked by the services, which
    name the field and what is allowed, so each rule speaks once and with one voice.
    Errors the services raised on an earlier attempt are re-attached by the admin
    (`service_errors`)."""

    service_errors: dict[str, list[str]] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rtl_widgets(self)

    def _post_clean(self):
        full_clean = self.instance.full_clean

        def without_constraints(**kwargs):
            kwargs["validate_constraints"] = False
            return full_clean(**kwargs)

        self.instance.full_clean = without_constraints
        try:
            super()._post_clean()
        finally:
            del self.instance.full_clean

    def validate_unique(self):
        """Uniqueness is the services' too (they word it per field)."""

    def clean(self):
        cleaned = super().clean()
        for name, messages in (self.service_errors or {}).items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return cleaned


class IncidentAdminForm(ServiceValidatedModelForm):
    """The incident form: the model's editable fields plus the optimistic-locking
    version it was loaded with and the reasons recorded in the audit trail."""

    expected_version = forms.IntegerField(
        required=False,
        widget=forms.HiddenInput,
        help_text=_("The version this form was loaded with."),
    )
    change_reason = forms.CharField(
        required=False,
        max_length=500,
        label=_("Why (internal)"),
        help_text=_("Recorded in the history with your name."),
        widget=forms.TextInput(attrs={"size": 60}),
    )
    public_reason = forms.CharField(
        required=False,
        max_length=500,
        label=_("Public reason"),
        help_text=_("Shown in the public history of a published incident."),
        widget=forms.TextInput(attrs={"size": 60}),
    )
    save_anyway = forms.BooleanField(
        required=False,
        label=_("Save anyway"),
        help_text=_(
            "Tick after checking the possible duplicates listed above: this is a "
            "different incident."
        ),
    )

    class Meta:
        model = Incident
        fields = services.EDITABLE_FIELDS
        widgets = {
            "title": forms.TextInput(attrs={"size": 80}),
            "title_ar": forms.TextInput(attrs={"size": 80, **RTL}),
            "summary": forms.Textarea(attrs={"rows": 4, "cols": 80}),
            "summary_ar": forms.Textarea(attrs={"rows": 4, "cols": 80, **RTL}),
            "internal_notes": forms.Textarea(attrs={"rows": 3, "cols": 80}),
            "latitude": forms.NumberInput(
                attrs={"step": "any", "class": "civtrack-lat"}
            ),
            "longitude": forms.NumberInput(
                attrs={"step": "any", "class": "civtrack-lon"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version
            self.fields["expected_version"].required = True
            self.fields["expected_version"].error_messages["required"] = _(
                "The form lost the version it was loaded with: reload the page."
            )


class CasualtyInlineForm(ServiceValidatedModelForm):
    pass


class VictimInlineForm(ServiceValidatedModelForm):
    pass


class CitationInlineForm(ServiceValidatedModelForm):
    supports = forms.MultipleChoiceField(
        choices=Claim.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The claims this source backs."),
    )


class SourceAdminForm(ServiceValidatedModelForm):
    class Meta:
        model = Source
        fields = (
            "kind",
            "title",
            "publisher",
            "author",
            "url",
            "archive_url",
            "published_on",
            "accessed_on",
            "language",
            "release",
            "licence",
            "file",
            "file_public",
            "reliability",
            "confidential",
            "graphic",
        )


# ---------------------------------------------------------------------------------------
# Intermediate pages of actions
# ---------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        max_length=2000,
    )


class PublishForm(forms.Form):
    """The publish confirm page: carries the version the reviewer read, so that an
    incident changed since is refused rather than published unseen (DOMAIN.md)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=2_147_483_647
    )


class MergeIncidentForm(forms.Form):
    into = forms.CharField(
        label=_("Survivor's code"),
        max_length=20,
        help_text=_("The incident that stays, e.g. SY-2016-00042."),
    )
    reason = forms.CharField(label=_("Why (internal)"), required=False, max_length=500)

    def clean_into(self) -> Incident:
        code = self.cleaned_data["into"].strip().upper()
        survivor = Incident.objects.filter(code=code).first()
        if survivor is None:
            raise forms.ValidationError(
                _("No incident has the code %(code)s."), params={"code": code}
            )
        return survivor


class MergeActorForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Actor.objects.filter(merged_into__isnull=True),
        label=_("Surviving actor"),
    )

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        if admin_site is not None:
            self.fields["into"].widget = admin_widgets.AutocompleteSelect(
                Actor._meta.get_field("parent"), admin_site
            )


class MergeLocationForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Location.objects.filter(merged_into__isnull=True),
        label=_("Surviving place"),
    )

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        if admin_site is not None:
            self.fields["into"].widget = admin_widgets.AutocompleteSelect(
                Location._meta.get_field("parent"), admin_site
            )
