import functools
import zoneinfo

from django import forms
from django.conf import settings

from campaigns import content
from campaigns.numbers import sending_number_problem
from campaigns.preview import merge_field_hint
from campaigns.settings_services import TemplateNameRefused, template_name_clean
from clients.access import current_client
from leads.assignment import territory_rules_parse, territory_rules_text
from leads.importing.mapping import FIELD_LABELS, FIELDS
from leads.models import WEEKDAYS, CampaignSettings, Lead
from leads.phones import normalise_phone


class LeadStatusForm(forms.Form):
    contact_status = forms.ChoiceField(choices=Lead.ContactStatus.choices, label="Status")
    install_date = forms.DateField(
        required=False,
        label="Install date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For Converted: when the installation is (or was) booked in.",
    )

    def clean(self):
        data = super().clean()
        if data.get("contact_status") == Lead.ContactStatus.CONVERTED and not data.get("install_date"):
            self.add_error("install_date", "Give the install date to mark the lead Converted.")
        return data


# --- Campaign settings ------------------------------------------------------------------

MERGE_HELP = (
    "Merge fields: {first_name} (“there” when unknown), {last_name}, {company_name}, {agent_name}, "
    "{booking_link}, {enquiry_month} (e.g. “April 2024”), {postcode}, and {custom.<column>} for a column "
    "of the imported file."
)
RATE_FIELDS = ("messages_per_minute", "messages_per_hour", "messages_per_day")
MESSAGE_FIELDS = ("m1_message", "m2_message", "m3_message", "silence_nudge_message")
# Upper bounds keep the cadence's date arithmetic sane (and catch a typed extra zero).
NON_NEGATIVE = {
    "m2_delay_hours": (24 * 365, "hours"),
    "m3_delay_hours": (24 * 365, "hours"),
    "ai_response_delay_seconds": (24 * 3600, "seconds"),
    "ai_max_messages_per_lead": (1000, "texts"),
    "ai_multiple_messages_wait_seconds": (24 * 3600, "seconds"),
    "silence_timeout_days": (365, "days"),
    "silence_nudge_days": (365, "days"),
}
SUGGESTED_TIME_ZONES = ("Europe/London", "Europe/Dublin", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/Guernsey")
_NOT_A_PLACE = {"localtime", "Factory", "posixrules"}

# (title, what the group is about, fields) — the order staff read the page in.
GROUPS = (
    ("About these settings", "", ("name", "description")),
    ("Messages", MERGE_HELP, ("m1_message", "m2_message", "m3_message", "agent_name", "auto_append_opt_out")),
    (
        "Timing",
        "When M2 and M3 follow if the lead has not replied.",
        ("m2_delay_hours", "m3_delay_hours", "delay_type", "delay_respect_sending_hours"),
    ),
    (
        "Sending window",
        "Cadence texts go out only inside this window. Whatever it says, nothing is sent 21:00–08:00 "
        "(quiet hours, DMA code).",
        (
            "sending_enabled",
            "sending_days",
            "sending_hours_start",
            "sending_hours_end",
            "sending_timezone",
            "bank_holiday_region",
        ),
    ),
    ("Rate limits", "Leave a limit empty for no limit.", RATE_FIELDS),
    (
        "Replies and AI",
        "How Sophie answers leads who reply.",
        (
            "ai_mode",
            "ai_response_delay_seconds",
            "ai_response_delay_random",
            "ai_multiple_messages_wait_seconds",
            "respond_to_inbound_24_7",
            "respect_schedule_strictly",
            "ai_max_messages_per_lead",
            "auto_status_updates",
        ),
    ),
    (
        "Silence",
        "Leads who never reply.",
        ("silence_timeout_days", "silence_nudge_enabled", "silence_nudge_days", "silence_nudge_message"),
    ),
    ("Duplicates", "", ("duplicate_action",)),
    (
        "Hot leads",
        "",
        ("hot_lead_notification", "hot_lead_auto_assign", "hot_lead_assignment_rule", "territory_rules"),
    ),
    (
        "Phone numbers and import",
        "Applied when leads are imported into this dataset.",
        ("auto_normalize_uk_numbers", "allow_international", "required_fields"),
    ),
    ("Integrations", "", ("twilio_number", "cal_booking_link")),
)

HELP = {
    "name": "Shown in lists; a dataset's own settings are usually called after it.",
    "description": "A note for colleagues: what these settings are for.",
    "m1_message": "The first text, sent inside the sending window once the campaign starts. "
    "Name the sender, mention the original enquiry, ask one easy question. No link in M1.",
    "m2_message": "Sent if there is no reply to M1. Leave empty for a one-message campaign.",
    "m3_message": "The last text. Leave empty to stop after M2.",
    "agent_name": "Fills {agent_name}: the name the texts are signed with.",
    "auto_append_opt_out": "Adds “Reply STOP to opt out.” to any cadence message without the word STOP. "
    "Turn it off only if every message has its own opt-out line (PECR).",
    "m2_delay_hours": "Hours after M1 was sent.",
    "m3_delay_hours": "Hours after M2 was sent.",
    "delay_type": "Real hours count the clock; business hours count only hours inside the sending window.",
    "delay_respect_sending_hours": "When a delay ends outside the window, wait for it to open. Off: M2/M3 go "
    "when due (never in quiet hours).",
    "sending_enabled": "Off stops all cadence texts from this dataset (replies still work).",
    "sending_days": "Days the window opens.",
    "sending_hours_start": "Local time the window opens, e.g. 09:00.",
    "sending_hours_end": "Local time it closes, e.g. 17:00; must be later than the start (no windows across midnight).",
    "sending_timezone": "An IANA time zone name, e.g. Europe/London (handles GMT/BST).",
    "bank_holiday_region": "Skip that region's bank holidays.",
    "messages_per_minute": "At most this many cadence texts in any 60 seconds, sent evenly spaced through the minute.",
    "messages_per_hour": "At most this many in any 60 minutes.",
    "messages_per_day": "At most this many in any 24 hours.",
    "ai_mode": "Auto: Sophie answers on her own. Suggest: she drafts each answer in the inbox for a person to "
    "send, edit or discard. Off: every reply waits for a person.",
    "ai_max_messages_per_lead": "Sophie stops answering a lead after this many texts and leaves it to a person.",
    "ai_response_delay_seconds": "Wait this long before answering, so it reads like a person.",
    "ai_response_delay_random": "Add a random 0–300 seconds to that wait.",
    "ai_multiple_messages_wait_seconds": "Wait this long for more texts from the same lead, then answer them together.",
    "respond_to_inbound_24_7": "Answer replies at any hour, outside the sending window too "
    "(quiet hours still apply to cadence texts).",
    "respect_schedule_strictly": "Even answers to replies wait for the sending window.",
    "auto_status_updates": "Sophie moves leads between Hot, Warm, Cold… from what they say.",
    "silence_timeout_days": "After the last cadence message and this many days without a reply, the lead goes "
    "Cold and the conversation is archived.",
    "silence_nudge_enabled": "Send one nudge to leads who went quiet.",
    "silence_nudge_days": "Days of silence before the nudge.",
    "silence_nudge_message": "The nudge. Same merge fields as the messages.",
    "duplicate_action": "What an import does with a number already in this client's leads.",
    "hot_lead_notification": "Tell the team when a lead turns Hot.",
    "hot_lead_auto_assign": "Assign hot leads to a sales rep automatically.",
    "hot_lead_assignment_rule": "How hot leads are shared out when assigned automatically.",
    "territory_rules": "For the territory rule: one line per area, a postcode prefix and a sales rep's e-mail, e.g. "
    '"LS6 jo@example.com". The longest matching prefix wins; leads with no match go round robin.',
    "auto_normalize_uk_numbers": "Turn 07…, 447… and 0044… into +44… on import.",
    "allow_international": "Accept numbers outside the UK.",
    "required_fields": "Rows missing one of these are rejected on import. The phone number is always required.",
    "twilio_number": "The number texts come from, e.g. +447700900123. Empty: the client's number.",
    "cal_booking_link": "Fills {booking_link}, e.g. https://cal.com/greenstar/survey. Empty: none.",
}
LABELS = {
    "m1_message": "M1 (first message)",
    "m2_message": "M2",
    "m3_message": "M3",
    "auto_append_opt_out": "Append the opt-out line automatically",
    "m2_delay_hours": "M2 delay (hours)",
    "m3_delay_hours": "M3 delay (hours)",
    "delay_respect_sending_hours": "Delays wait for the sending window",
    "sending_hours_start": "Sending starts",
    "sending_hours_end": "Sending ends",
    "sending_timezone": "Time zone",
    "ai_mode": "Sophie's replies",
    "ai_max_messages_per_lead": "Most texts Sophie sends one lead",
    "ai_response_delay_seconds": "Answer delay (seconds)",
    "ai_response_delay_random": "Randomise the answer delay",
    "ai_multiple_messages_wait_seconds": "Wait for more texts (seconds)",
    "respond_to_inbound_24_7": "Answer replies 24/7",
    "respect_schedule_strictly": "Answers wait for the window too",
    "auto_status_updates": "Sophie updates lead statuses",
    "silence_timeout_days": "Go cold after (days)",
    "silence_nudge_enabled": "Send a nudge",
    "silence_nudge_days": "Nudge after (days)",
    "silence_nudge_message": "Nudge message",
    "hot_lead_notification": "Notify the team",
    "hot_lead_auto_assign": "Assign automatically",
    "hot_lead_assignment_rule": "Assignment rule",
    "territory_rules": "Territories",
    "auto_normalize_uk_numbers": "Correct UK numbers automatically",
    "allow_international": "Allow international numbers",
    "twilio_number": "Sending number",
    "cal_booking_link": "Booking link",
}


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_A_PLACE


def time_zone_choices() -> list[str]:
    """For the time zone field's suggestions: the UK and its neighbours first, then the rest."""
    return [*SUGGESTED_TIME_ZONES, *sorted(_time_zones() - set(SUGGESTED_TIME_ZONES))]


class CampaignSettingsForm(forms.ModelForm):
    """Every seed field of `campaign_settings` plus agent name, bank holidays and the opt-out line.

    Read-only (every field disabled) for users who may not edit campaign settings.
    """

    sending_days = forms.MultipleChoiceField(
        choices=[(day, day.title()) for day in WEEKDAYS], widget=forms.CheckboxSelectMultiple, required=False
    )
    required_fields = forms.MultipleChoiceField(
        choices=[(field, FIELD_LABELS[field]) for field in FIELDS if field != "phone_number"],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Required fields",
    )
    cal_booking_link = forms.URLField(required=False, assume_scheme="https", empty_value=None)
    territory_rules = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    save_as_template = forms.CharField(
        required=False,
        max_length=200,
        label="Also save as a reusable template named",
        help_text="Optional. A copy for future datasets: later edits here do not change it, nor it these.",
    )

    class Meta:
        model = CampaignSettings
        fields = [name for _, _, names in GROUPS for name in names]
        labels = LABELS
        help_texts = HELP
        widgets = {
            "name": forms.TextInput(),
            "agent_name": forms.TextInput(),
            "twilio_number": forms.TextInput(attrs={"inputmode": "tel"}),
            "sending_timezone": forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 2}),
            "m1_message": forms.Textarea(attrs={"rows": 4}),
            "m2_message": forms.Textarea(attrs={"rows": 4}),
            "m3_message": forms.Textarea(attrs={"rows": 4}),
            "silence_nudge_message": forms.Textarea(attrs={"rows": 3}),
            "sending_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sending_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, editable: bool = True, preview_url: str | None = None, custom_columns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_columns = custom_columns  # the dataset's imported columns, for {custom.<column>}
        if preview_url:
            self._live_preview(preview_url)
        self.fields["required_fields"].help_text = HELP["required_fields"]
        self.fields["cal_booking_link"].help_text = HELP["cal_booking_link"]
        self.fields["cal_booking_link"].label = LABELS["cal_booking_link"]
        self.fields["sending_days"].help_text = HELP["sending_days"]
        self.fields["territory_rules"].help_text = HELP["territory_rules"]
        self.fields["territory_rules"].label = LABELS["territory_rules"]
        if not self.is_bound:
            self.initial["territory_rules"] = territory_rules_text(self.instance.territory_rules)
            self.initial["required_fields"] = [f for f in self.initial.get("required_fields") or [] if f in FIELDS]
        if not editable:
            for field in self.fields.values():
                field.disabled = True
            del self.fields["save_as_template"]

    def _live_preview(self, url: str) -> None:
        """What changes a preview posts the whole form (HTMX includes the enclosing form) to `url`."""
        for name in ("m1_message", "m2_message", "m3_message", "agent_name", "cal_booking_link", "auto_append_opt_out"):
            trigger = "change" if name == "auto_append_opt_out" else "input changed delay:300ms"
            self.fields[name].widget.attrs.update(
                {"hx-post": url, "hx-trigger": trigger, "hx-target": "#message-preview", "hx-swap": "outerHTML"}
            )

    def groups(self) -> list[tuple[str, str, list]]:
        """(title, help, bound fields) per group, for the template."""
        return [(title, about, [self[name] for name in names]) for title, about, names in GROUPS]

    def clean_territory_rules(self) -> list[dict]:
        return territory_rules_parse(self.cleaned_data.get("territory_rules") or "")

    def _clean_message(self, name: str) -> str | None:
        text = self.cleaned_data.get(name)
        unknown = content.unknown_merge_fields(text or "", custom_columns=self.custom_columns)
        if unknown:
            raise forms.ValidationError(
                [f"Unknown merge field {{{field}}}{merge_field_hint(field, self.custom_columns)}" for field in unknown]
            )
        return text

    def clean_m1_message(self):
        return self._clean_message("m1_message")

    def clean_m2_message(self):
        return self._clean_message("m2_message")

    def clean_m3_message(self):
        return self._clean_message("m3_message")

    def clean_silence_nudge_message(self):
        return self._clean_message("silence_nudge_message")

    def clean_sending_timezone(self) -> str:
        name = (self.cleaned_data.get("sending_timezone") or "").strip()
        if name not in _time_zones():
            raise forms.ValidationError(
                f"Unknown time zone “{name}”: use an IANA name such as Europe/London.",
                code="unknown_time_zone",
            )
        return name

    def clean_sending_days(self) -> list[str]:
        days = self.cleaned_data.get("sending_days") or []
        if not days and not self.fields["sending_days"].disabled:
            raise forms.ValidationError(
                "Choose at least one day. To stop sending, untick “Sending enabled” or pause the campaign."
            )
        return [day for day in WEEKDAYS if day in days]

    def clean_required_fields(self) -> list[str]:
        chosen = set(self.cleaned_data.get("required_fields") or []) | {"phone_number"}
        return [field for field in FIELDS if field in chosen]

    def clean_twilio_number(self) -> str | None:
        raw = (self.cleaned_data.get("twilio_number") or "").strip()
        if not raw:
            return None
        result = normalise_phone(raw, allow_international=True, allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS)
        if result.e164 is None or not result.sms_capable:
            raise forms.ValidationError(f"{result.reason}. Give the Twilio number texts are sent from.")
        if problem := sending_number_problem(result.e164, current_client()):
            raise forms.ValidationError(f"{problem} Ask DBR support to register it, or leave this empty.")
        return result.e164

    def clean_save_as_template(self) -> str:
        try:
            return template_name_clean(self.cleaned_data.get("save_as_template"))
        except TemplateNameRefused as refused:
            raise forms.ValidationError(str(refused)) from None

    def clean(self):
        data = super().clean()
        for name in ("name", "description", "m2_message", "m3_message", "silence_nudge_message"):
            if name in data and not (data[name] or "").strip():
                data[name] = None  # empty, as the seed stores it (a TextField's form field gives "")
        for name in RATE_FIELDS:
            value = data.get(name)
            if value == 0:
                self.add_error(name, "0 would never send; leave it empty for no limit.")
            elif value is not None and value < 0:
                self.add_error(name, "A limit can't be negative; leave it empty for no limit.")
        for name, (most, unit) in NON_NEGATIVE.items():
            value = data.get(name)
            if value is not None and value < 0:
                self.add_error(name, "Can't be negative.")
            elif value is not None and value > most:
                self.add_error(name, f"At most {most} {unit}.")
        start, end = data.get("sending_hours_start"), data.get("sending_hours_end")
        if start and end and start >= end:
            self.add_error("sending_hours_end", "Sending must start before it ends: windows can't cross midnight.")
        elif bool(start) != bool(end) and "sending_hours_start" not in self.errors:
            self.add_error("sending_hours_end" if start else "sending_hours_start", "Set both the start and the end.")
        if data.get("silence_nudge_enabled") and not (data.get("silence_nudge_message") or "").strip():
            if "silence_nudge_message" not in self.errors:
                self.add_error("silence_nudge_message", "Write the nudge, or untick “Send a nudge”.")
        return data


class TemplateChoiceForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=CampaignSettings.objects.none(),
        label="Start from template",
        empty_label="Choose a template…",
        help_text="Copies the template's values into this dataset's settings (name and description stay).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Evaluated per request, in the client's schema.
        self.fields["template"].queryset = CampaignSettings.objects.filter(is_template=True).order_by("name")


class PauseForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, label="Reason (optional)")


class TestSendForm(forms.Form):
    """The number a test goes to: the user's own phone, or one they type when they have none."""

    phone = forms.CharField(required=False, max_length=40, label="Your mobile number")

    def __init__(self, *args, user_phone: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_phone = (user_phone or "").strip()

    def clean_phone(self) -> str:
        raw = self.user_phone or (self.cleaned_data.get("phone") or "").strip()
        if not raw:
            raise forms.ValidationError("Type the mobile number the test should go to.")
        result = normalise_phone(raw, allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS)
        if result.e164 is None:
            raise forms.ValidationError(result.reason)
        if not result.sms_capable:
            raise forms.ValidationError(f"{result.reason}: a test needs a mobile.")
        return result.e164


# --- Staff replies and the inbox ----------------------------------------------------------------


class StaffReplyForm(forms.Form):
    text = forms.CharField(
        label="Reply",
        strip=True,
        error_messages={"required": "Write a reply first: the text is empty."},
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1600}),
    )
    manual_mode = forms.BooleanField(
        label="Take over from Sophie (manual mode)",
        required=False,
        initial=True,
        help_text="Sophie and the cadence stop texting this lead until it is handed back.",
    )


class InboundLeadForm(forms.Form):
    """A new lead for a text from an unknown number."""

    dataset = forms.ModelChoiceField(queryset=None, empty_label=None)
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, datasets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = datasets
