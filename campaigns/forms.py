from django import forms

from leads.models import Lead


class LeadStatusForm(forms.Form):
    contact_status = forms.ChoiceField(choices=Lead.ContactStatus.choices, label="Status")
