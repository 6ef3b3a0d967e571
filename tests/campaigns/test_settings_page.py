"""The campaign pages: list, settings form, live preview, lifecycle buttons, test send, access."""

from datetime import time

import pytest
from django.forms.models import model_to_dict

from campaigns.models import Message
from campaigns.transports.base import TransportError
from clients.models import User
from leads.models import CampaignSettings, Dataset, Lead
from leads.services import dataset_create
from tests.campaigns.helpers import number_register

HOST = {"HTTP_HOST": "alpha.localhost"}
HTMX = {**HOST, "HTTP_HX_REQUEST": "true"}
NUMBER = "+447700900999"


@pytest.fixture
def dataset(alpha) -> Dataset:
    dataset = dataset_create(name="Spring 2024")
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(twilio_number=NUMBER)
    number_register(NUMBER)
    Lead.objects.create(
        dataset=dataset, first_name="Gareth", last_name="Evans", phone_number="+447700900101", postcode="CF10 1AA"
    )
    return Dataset.objects.select_related("campaign_settings").get(pk=dataset.pk)


def _url(dataset, action="") -> str:
    return f"/campaigns/{dataset.pk}/" + (f"{action}/" if action else "")


def _form_data(options: CampaignSettings, **changes) -> dict:
    """What a browser posts for these settings (unticked boxes absent), with `changes` applied."""
    from campaigns.forms import CampaignSettingsForm

    values = {**model_to_dict(options, fields=CampaignSettingsForm._meta.fields), **changes}
    data = {}
    for name, value in values.items():
        if value is True:
            data[name] = "on"
        elif value is False:
            continue
        elif value is None:
            data[name] = ""
        elif isinstance(value, time):
            data[name] = value.strftime("%H:%M")
        else:
            data[name] = value
    data["required_fields"] = [f for f in data.get("required_fields", []) if f != "phone_number"]
    return data


def _settings(dataset) -> CampaignSettings:
    return Dataset.objects.get(pk=dataset.pk).campaign_settings


# --- The pages ------------------------------------------------------------------------------


def test_it_lists_each_dataset_with_its_campaign_and_a_link(alpha, owner, client, dataset):
    client.force_login(owner)

    response = client.get("/campaigns/", **HOST)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Spring 2024" in page and f'href="{_url(dataset)}"' in page
    assert "Check the settings, then start" in page
    assert 'href="/campaigns/" aria-current="page"' in page  # the nav entry is a real link now


def test_it_renders_the_campaign_page_for_the_owner(alpha, owner, client, dataset):
    client.force_login(owner)

    response = client.get(_url(dataset), **HOST)

    page = response.content.decode()
    assert response.status_code == 200
    for group in ("Messages", "Timing", "Sending window", "Rate limits", "Replies and AI", "Silence"):
        assert f"<legend>{group}</legend>" in page
    for group in ("Duplicates", "Hot leads", "Phone numbers and import", "Integrations"):
        assert f"<legend>{group}</legend>" in page
    assert 'type="time"' in page and 'value="monday"' in page and 'name="required_fields"' in page
    assert "Start campaign" in page and "Ready to start" in page
    assert 'id="message-preview"' in page and "Hi Gareth, it&#x27;s Sophie at Alpha Solar Ltd" in page
    assert 'hx-trigger="input changed delay:300ms"' in page
    assert "Ready" in page  # leads by status


def test_it_shows_why_a_campaign_paused_itself(alpha, owner, client, dataset):
    Dataset.objects.filter(pk=dataset.pk).update(
        campaign_status="paused", campaign_paused_reason="Carrier filtering (30007) on 6 of the last 100 texts"
    )
    client.force_login(owner)

    page = client.get(_url(dataset), **HOST).content.decode()

    assert "Why it is paused" in page and "Carrier filtering (30007) on 6 of the last 100 texts" in page
    assert "Resume" in page


def test_it_does_not_write_anything_when_a_page_is_only_viewed(alpha, owner, client):
    template = CampaignSettings.objects.get(is_template=True, name="Default")
    dataset = Dataset.objects.create(name="Linked to a template", campaign_settings=template)
    client.force_login(owner)

    page = client.get(_url(dataset), **HOST).content.decode()

    assert "the template “Default”" in page
    assert Dataset.objects.get(pk=dataset.pk).campaign_settings_id == template.pk


# --- Roles ----------------------------------------------------------------------------------


def test_it_shows_a_sales_rep_the_settings_read_only(alpha, teammate, client, dataset):
    client.force_login(teammate)

    page = client.get(_url(dataset), **HOST).content.decode()

    assert 'name="m1_message"' in page and "disabled" in page
    assert "Save settings" not in page and "Start campaign" not in page and "Send a test" not in page


def test_it_refuses_a_sales_rep_saving_settings(alpha, teammate, client, dataset):
    client.force_login(teammate)

    response = client.post(_url(dataset), _form_data(dataset.campaign_settings, m1_message="Changed"), **HOST)

    assert response.status_code == 403
    assert _settings(dataset).m1_message != "Changed"


def test_it_refuses_a_sales_rep_starting_a_campaign_or_sending_a_test(alpha, teammate, client, dataset, sms_outbox):
    client.force_login(teammate)

    assert client.post(_url(dataset, "start"), **HOST).status_code == 403
    assert client.post(_url(dataset, "test-send"), {"phone": "07700900123"}, **HOST).status_code == 403
    assert Dataset.objects.get(pk=dataset.pk).campaign_status == "draft"
    assert sms_outbox.messages == []


def test_it_refuses_another_clients_user(alpha, outsider, client, dataset):
    client.force_login(outsider)

    assert client.get(_url(dataset), **HOST).status_code == 403
    assert client.get(_url(dataset), HTTP_HOST="beta.localhost").status_code == 404
    assert client.post(_url(dataset, "start"), HTTP_HOST="beta.localhost").status_code == 404
    assert b"Spring 2024" not in client.get("/campaigns/", HTTP_HOST="beta.localhost").content


def test_it_refuses_a_user_limited_to_other_datasets(alpha, make_user, client, dataset):
    other = dataset_create(name="Another list")
    manager = make_user(alpha, "manager@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[other.pk])
    client.force_login(manager)

    assert client.get(_url(dataset), **HOST).status_code == 404
    assert client.post(_url(dataset, "preview"), {"m1_message": "x"}, **HTMX).status_code == 404


# --- Saving settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"sending_hours_start": "17:00", "sending_hours_end": "09:00"},
            "sending_hours_end",
            "Sending must start before it ends: windows can&#x27;t cross midnight",
        ),
        ({"messages_per_hour": 0}, "messages_per_hour", "0 would never send; leave it empty for no limit"),
        ({"sending_timezone": "Europe/Londn"}, "sending_timezone", "Unknown time zone “Europe/Londn”"),
        (
            {"m2_message": "Hi {firstname}, {company_name} here. Reply STOP to opt out."},
            "m2_message",
            "Unknown merge field {firstname}; did you mean {first_name}?",
        ),
        (
            {"silence_nudge_message": "Hi {Postcode}"},
            "silence_nudge_message",
            "Unknown merge field {Postcode}; did you mean {postcode}?",
        ),
        ({"m2_delay_hours": -1}, "m2_delay_hours", "Can&#x27;t be negative."),
        ({"sending_days": []}, "sending_days", "Choose at least one day."),
    ],
)
def test_it_refuses_invalid_settings_with_the_reason(alpha, owner, client, dataset, changes, field, reason):
    client.force_login(owner)
    before = model_to_dict(_settings(dataset))

    response = client.post(
        _url(dataset), _form_data(dataset.campaign_settings, m1_message="Changed", **changes), **HOST
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in page and reason in page
    assert response.context["form"].errors[field]
    assert model_to_dict(_settings(dataset)) == before


def test_it_accepts_an_empty_rate_limit_as_no_limit(alpha, owner, client, dataset):
    client.force_login(owner)

    response = client.post(_url(dataset), _form_data(dataset.campaign_settings, messages_per_minute=None), **HOST)

    assert response.status_code == 302
    assert _settings(dataset).messages_per_minute is None


def test_it_saves_every_group(alpha, owner, client, dataset):
    client.force_login(owner)
    changes = {
        # Messages
        "m1_message": "Hi {first_name}, {agent_name} at {company_name}. Still thinking about solar?",
        "m2_message": "",
        "agent_name": "Priya",
        "auto_append_opt_out": True,
        # Timing
        "m2_delay_hours": 24,
        "m3_delay_hours": 96,
        "delay_type": "business_hours",
        "delay_respect_sending_hours": False,
        # Sending window
        "sending_enabled": False,
        "sending_days": ["tuesday", "monday", "saturday"],
        "sending_hours_start": "10:30",
        "sending_hours_end": "16:45",
        "sending_timezone": "Europe/Dublin",
        "bank_holiday_region": "SCT",
        # Rate limits
        "messages_per_minute": None,
        "messages_per_hour": 120,
        "messages_per_day": 1000,
        # Replies / AI
        "ai_mode": "off",
        "ai_max_messages_per_lead": 4,
        "ai_response_delay_seconds": 5,
        "ai_response_delay_random": True,
        "ai_multiple_messages_wait_seconds": 30,
        "respond_to_inbound_24_7": False,
        "respect_schedule_strictly": True,
        "auto_status_updates": False,
        # Silence
        "silence_timeout_days": 14,
        "silence_nudge_enabled": True,
        "silence_nudge_days": 3,
        "silence_nudge_message": "Still there, {first_name}? {company_name}. Reply STOP to opt out.",
        # Duplicates, hot leads
        "duplicate_action": "merge",
        "hot_lead_notification": False,
        "hot_lead_auto_assign": True,
        "hot_lead_assignment_rule": "territory",
        # Phone numbers and import
        "auto_normalize_uk_numbers": False,
        "allow_international": True,
        "required_fields": ["postcode", "first_name"],
        # Integrations
        "twilio_number": "07700 900888",
        "cal_booking_link": "cal.com/alpha/survey",
    }
    number_register("+447700900888")

    response = client.post(_url(dataset), _form_data(dataset.campaign_settings, **changes), **HOST)

    assert response.status_code == 302, response.context["form"].errors
    saved = _settings(dataset)
    expected = {
        **changes,
        "m2_message": None,
        "sending_days": ["monday", "tuesday", "saturday"],
        "sending_hours_start": time(10, 30),
        "sending_hours_end": time(16, 45),
        "required_fields": ["first_name", "phone_number", "postcode"],
        "twilio_number": "+447700900888",
        "cal_booking_link": "https://cal.com/alpha/survey",
    }
    assert {name: getattr(saved, name) for name in expected} == expected
    assert saved.ai_response_enabled is False  # the seed's flag follows ai_mode


def test_it_gives_a_dataset_its_own_copy_before_saving(alpha, owner, client):
    template = CampaignSettings.objects.get(is_template=True, name="Default")
    dataset = Dataset.objects.create(name="Linked to a template", campaign_settings=template)
    client.force_login(owner)

    shown = client.get(_url(dataset), **HOST).context["options"]  # what the page's form holds

    client.post(_url(dataset), _form_data(shown, m1_message="Ours, {company_name}"), **HOST)

    own = _settings(dataset)
    assert own.pk != template.pk and not own.is_template and own.m1_message == "Ours, {company_name}"
    assert own.name == "Linked to a template settings"
    template.refresh_from_db()
    assert template.m1_message != "Ours, {company_name}"


def test_it_saves_the_settings_as_a_reusable_template(alpha, owner, client, dataset):
    client.force_login(owner)

    client.post(
        _url(dataset),
        _form_data(dataset.campaign_settings, m2_delay_hours=12, save_as_template="Quick follow-up"),
        **HOST,
    )

    template = CampaignSettings.objects.get(is_template=True, name="Quick follow-up")
    own = _settings(dataset)
    assert template.pk != own.pk and not own.is_template
    assert template.m2_delay_hours == own.m2_delay_hours == 12
    assert template.twilio_number == NUMBER
    # a second template of the same name is refused
    response = client.post(
        _url(dataset), _form_data(own, save_as_template="quick follow-up", m2_delay_hours=13), **HOST
    )
    assert "exists already" in response.content.decode()
    assert _settings(dataset).m2_delay_hours == 12


def test_it_copies_a_templates_values_into_the_dataset(alpha, owner, client, dataset):
    template = CampaignSettings.objects.create(
        name="Gentle", is_template=True, m1_message="Gentle hello from {company_name}", m2_delay_hours=96
    )
    client.force_login(owner)

    response = client.post(_url(dataset, "template"), {"template": template.pk}, **HOST)

    assert response.status_code == 302
    own = _settings(dataset)
    assert own.pk not in (template.pk, None) and own.pk == dataset.campaign_settings_id
    assert (own.m1_message, own.m2_delay_hours, own.is_template) == ("Gentle hello from {company_name}", 96, False)
    assert own.name == "Spring 2024 settings"
    # a copy, never a link: editing the dataset leaves the template alone
    client.post(_url(dataset), _form_data(own, m2_delay_hours=1), **HOST)
    template.refresh_from_db()
    assert template.m2_delay_hours == 96


def test_it_refuses_a_change_that_would_break_a_running_campaign(alpha, owner, client, dataset):
    client.force_login(owner)
    client.post(_url(dataset, "start"), **HOST)

    response = client.post(
        _url(dataset),
        _form_data(dataset.campaign_settings, m1_message="Hello {first_name}", auto_append_opt_out=False),
        **HOST,
    )

    page = response.content.decode()
    assert "The campaign is running, so this can&#x27;t be saved: M1 does not name the sender" in page
    assert "M1 has no opt-out instruction" in page
    assert _settings(dataset).m1_message != "Hello {first_name}"


# --- The live preview -----------------------------------------------------------------------


def _preview(client, dataset, **fields):
    data = {"m1_message": "", "m2_message": "", "m3_message": "", "agent_name": "Sophie", **fields}
    response = client.post(_url(dataset, "preview"), data, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def _step(page: str, step: str) -> str:
    start = page.index(f'id="preview-{step}"')
    end = page.find("</article>", start)
    return page[start:end]


def test_the_preview_counts_a_160_character_gsm7_message_as_one_segment(alpha, owner, client, dataset):
    client.force_login(owner)
    text = "Alpha Solar Ltd: STOP to opt out. " + "x" * (160 - 34)

    page = _preview(client, dataset, m1_message=text)

    m1 = _step(page, "M1")
    assert "<html" not in page and page.lstrip().startswith('<section id="message-preview"')
    assert '<span class="encoding">GSM-7</span>' in m1
    assert '<span class="characters">160</span>' in m1 and '<span class="segments">1</span> segment<' in m1
    m1_161 = _step(_preview(client, dataset, m1_message=text + "x"), "M1")
    assert '<span class="segments">2</span> segments' in m1_161


def test_the_preview_flips_to_ucs2_for_an_emoji_and_says_why(alpha, owner, client, dataset):
    client.force_login(owner)

    page = _preview(client, dataset, m1_message="Hi {first_name}, Alpha Solar Ltd here ☀️ Reply STOP to opt out.")

    m1 = _step(page, "M1")
    assert '<span class="encoding">UCS-2</span>' in m1
    assert "UCS-2 because of ☀" in m1 and "70 characters instead of 160" in m1
    assert "Hi Gareth, Alpha Solar Ltd here" in m1  # rendered for the dataset's lead


def test_the_preview_normalises_smart_quotes_and_says_so(alpha, owner, client, dataset):
    client.force_login(owner)

    page = _preview(client, dataset, m1_message="It’s {agent_name} at {company_name} – reply STOP to opt out.")

    m1 = _step(page, "M1")
    assert '<span class="encoding">GSM-7</span>' in m1 and "It&#x27;s Sophie at Alpha Solar Ltd - reply" in m1
    assert "Smart quotes, long dashes" in m1 and "replaced by plain GSM-7 characters automatically" in m1


def test_the_preview_warns_about_unknown_fields_missing_stop_sender_and_a_link_in_m1(alpha, owner, client, dataset):
    client.force_login(owner)

    page = _preview(client, dataset, m1_message="Hi {firstname}, book at https://cal.com/x", m2_message="Hello again")

    m1, m2, m3 = _step(page, "M1"), _step(page, "M2"), _step(page, "M3")
    assert "Unknown merge field {firstname}; did you mean {first_name}?" in m1
    assert "No opt-out instruction" in m1  # auto-append is off: the checkbox was not posted
    assert "Doesn&#x27;t name the sender" in m1 and "M1 contains a link" in m1
    assert "Doesn&#x27;t name the sender" in m2 and "M1 contains a link" not in m2
    assert "Empty: no M3 is sent." in m3


def test_the_preview_appends_the_opt_out_line_when_that_is_on(alpha, owner, client, dataset):
    client.force_login(owner)

    page = _preview(client, dataset, m1_message="Hi from {company_name}", auto_append_opt_out="on")

    m1 = _step(page, "M1")
    assert "Hi from Alpha Solar Ltd Reply STOP to opt out." in m1 and "is added at the end" in m1
    assert "No opt-out instruction" not in m1


def test_the_preview_uses_an_example_lead_when_the_dataset_has_none(alpha, owner, client):
    dataset = dataset_create(name="Empty list")
    client.force_login(owner)

    page = _preview(client, dataset, m1_message="Hi {first_name} in {postcode}, you asked in {enquiry_month}")

    assert "Sarah Jones" in page and "Hi Sarah in LS6 2AB, you asked in April 2024" in page


def test_the_preview_without_htmx_renders_the_whole_page_unsaved(alpha, owner, client, dataset):
    client.force_login(owner)
    data = _form_data(dataset.campaign_settings, m1_message="Hello 😀 from {company_name}")

    response = client.post(_url(dataset, "preview"), data, **HOST)

    page = response.content.decode()
    assert "<html" in page and "UCS-2" in page and "Save settings" in page
    assert _settings(dataset).m1_message != data["m1_message"]


# --- Lifecycle ------------------------------------------------------------------------------


def test_a_refused_start_shows_every_reason(alpha, owner, client, dataset):
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        twilio_number=None,
        m1_message="Hi {frist_name}",
        auto_append_opt_out=False,
        sending_hours_start=None,
    )
    client.force_login(owner)

    response = client.post(_url(dataset, "start"), **HOST)

    page = response.content.decode()
    refused = page[page.index('id="refused"') : page.index("</div>", page.index('id="refused"'))]
    assert "Can't start" in refused
    for reason in (
        "Set the sending hours (start and end).",
        "There is no sending number",
        "M1 uses an unknown merge field {frist_name}",
        "M1 does not name the sender",
        "M1 has no opt-out instruction",
    ):
        assert reason in refused
    assert refused.count("<li>") == 5
    assert Dataset.objects.get(pk=dataset.pk).campaign_status == "draft"


def test_it_starts_pauses_resumes_and_completes_from_the_page(alpha, owner, client, dataset):
    client.force_login(owner)

    assert client.post(_url(dataset, "start"), **HOST).status_code == 302
    assert Dataset.objects.get(pk=dataset.pk).campaign_status == "active"
    assert Lead.objects.get(dataset=dataset).next_step == "M1"

    client.post(_url(dataset, "pause"), {"reason": "Checking the wording"}, **HOST)
    paused = Dataset.objects.get(pk=dataset.pk)
    assert paused.campaign_status == "paused" and paused.campaign_paused_reason.endswith(": Checking the wording")
    assert "Checking the wording" in client.get(_url(dataset), **HOST).content.decode()

    client.post(_url(dataset, "resume"), **HOST)
    assert Dataset.objects.get(pk=dataset.pk).campaign_status == "active"

    client.post(_url(dataset, "complete"), **HOST)
    assert Dataset.objects.get(pk=dataset.pk).campaign_status == "completed"
    assert "Campaign completed" in client.get(_url(dataset), **HOST).content.decode()


def test_it_refuses_to_pause_a_draft_with_the_reason(alpha, owner, client, dataset):
    client.force_login(owner)

    response = client.post(_url(dataset, "pause"), **HOST)

    assert "Only a running campaign can be paused" in response.content.decode()


# --- Test send ------------------------------------------------------------------------------


def _snapshot(dataset):
    return (
        list(Lead.objects.filter(dataset=dataset).values()),
        list(Dataset.objects.filter(pk=dataset.pk).values()),
        Message.objects.count(),
    )


def test_it_sends_a_test_to_the_users_phone_and_changes_nothing_else(alpha, owner, client, dataset, sms_outbox):
    User.objects.filter(pk=owner.pk).update(phone="07700 900123")
    owner.refresh_from_db()
    client.force_login(owner)
    before = _snapshot(dataset)

    response = client.post(_url(dataset, "test-send"), follow=True, **HOST)

    assert len(sms_outbox.messages) == 1
    sent = sms_outbox.messages[0]
    assert (sent.to, sent.from_, sent.status_callback) == ("+447700900123", NUMBER, None)
    assert sent.body.startswith("Hi Gareth, it's Sophie at Alpha Solar Ltd.")
    assert f"Message SID {sent.sid}" in response.content.decode()
    assert _snapshot(dataset) == before


def test_it_asks_for_a_number_when_the_user_has_none(alpha, owner, client, dataset, sms_outbox):
    client.force_login(owner)

    page = client.get(_url(dataset), **HOST).content.decode()
    assert "Your mobile number" in page

    response = client.post(_url(dataset, "test-send"), {"phone": "0131 496 0000"}, **HOST)
    assert "a test needs a mobile" in response.content.decode() and sms_outbox.messages == []

    client.post(_url(dataset, "test-send"), {"phone": "07700 900456"}, **HOST)
    assert [m.to for m in sms_outbox.messages] == ["+447700900456"]


def test_it_explains_a_failed_test_send(alpha, owner, client, dataset, sms_outbox):
    client.force_login(owner)
    sms_outbox.fail_next(
        TransportError("Permission to send an SMS has not been enabled", kind="permanent", code="21408")
    )

    response = client.post(_url(dataset, "test-send"), {"phone": "07700900456"}, follow=True, **HOST)

    page = response.content.decode()
    assert "The test was not sent: Permission to send an SMS has not been enabled (error 21408)." in page
    assert sms_outbox.messages == []


def test_it_refuses_a_test_without_a_sending_number(alpha, owner, client, dataset, sms_outbox):
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(twilio_number=None)
    client.force_login(owner)

    response = client.post(_url(dataset, "test-send"), {"phone": "07700900456"}, **HOST)

    assert "There is no sending number" in response.content.decode() and sms_outbox.messages == []


def test_it_says_when_the_next_queued_text_is_planned(alpha, owner, client, dataset):
    from datetime import UTC, datetime

    from campaigns.cadence import tick
    from campaigns.services import campaign_start

    tuesday_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    campaign_start(dataset=dataset, at=tuesday_10)
    assert tick(at=tuesday_10).queued
    client.force_login(owner)

    page = client.get(_url(dataset), **HOST).content.decode()

    assert 'id="next-send"' in page and "1 Dec 10:00:00" in page


def test_the_preview_renders_for_a_lead_that_would_be_texted(alpha, owner, client, dataset):
    # The lowest number is a landline: never texted, so never the sample.
    Lead.objects.create(dataset=dataset, first_name="Landline", phone_number="+441632960001", sms_capable=False)
    client.force_login(owner)

    page = _preview(client, dataset, m1_message="Hi {first_name} from {company_name}")

    assert "Hi Gareth from Alpha Solar Ltd" in page and "Landline" not in page


def test_the_preview_and_start_flag_a_custom_field_the_dataset_lacks(alpha, owner, client, dataset):
    Lead.objects.filter(dataset=dataset).update(custom_fields={"Roof": "south"})
    m1 = "Hi {first_name}, {company_name} here: {custom.system_size_kw} kW? STOP to opt out"
    client.force_login(owner)

    page = _preview(client, dataset, m1_message=m1)
    saved = client.post(_url(dataset), _form_data(_settings(dataset), m1_message=m1), **HOST)

    assert "Unknown merge field {custom.system_size_kw}" in page and "their extra columns: Roof" in page
    assert saved.status_code == 200 and "no column &#x27;system_size_kw&#x27;" in saved.content.decode()


def test_it_says_when_m1_goes_after_a_start_in_quiet_hours(alpha, dataset):
    from datetime import UTC, datetime

    from campaigns.selectors import campaign_timing
    from campaigns.services import campaign_start

    tuesday_night = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    campaign_start(dataset=dataset, at=tuesday_night)
    dataset.refresh_from_db()

    timing = campaign_timing(dataset, dataset.campaign_settings, now=tuesday_night)

    assert timing["m1_waiting"] == 1
    assert timing["m1_at"] == "Wed 2 Dec at 09:00 (Europe/London), when the window opens"


def test_the_campaign_page_shows_the_default_window_and_rate(alpha, owner, client, dataset):
    client.force_login(owner)

    client.post(_url(dataset, "start"), **HOST)
    page = client.get(_url(dataset), **HOST).content.decode()

    assert "Texts go out Mon–Fri, 09:00–17:00 (Europe/London)" in page
    assert "at most 1 text a minute, 30 an hour and 500 a day" in page
    assert 'id="m1-at"' in page and "M1 to 1 lead:" in page


def test_territory_rules_are_saved_from_lines_and_shown_back(alpha, owner, client, dataset, make_user):
    rep = make_user(alpha, "jo@alpha.example", User.Role.SALES_REP)
    client.force_login(owner)
    lines = "ls6 jo@alpha.example\nM1 JO@alpha.example\n"

    response = client.post(
        _url(dataset), _form_data(dataset.campaign_settings, hot_lead_assignment_rule="territory",
                                  territory_rules=lines), **HOST
    )  # fmt: skip

    assert response.status_code == 302
    assert _settings(dataset).territory_rules == [
        {"prefix": "LS6", "user_id": str(rep.pk)},
        {"prefix": "M1", "user_id": str(rep.pk)},
    ]
    assert "LS6 jo@alpha.example" in client.get(_url(dataset), **HOST).content.decode()


@pytest.mark.parametrize(
    "line, error",
    [("LS6", "a postcode prefix and a rep"), ("12X jo@alpha.example", "postcode prefix"),
     ("LS6 nobody@alpha.example", "not an active sales rep")],
)  # fmt: skip
def test_a_bad_territory_rule_is_refused_with_its_line(alpha, owner, client, dataset, make_user, line, error):
    make_user(alpha, "jo@alpha.example", User.Role.SALES_REP)
    client.force_login(owner)

    response = client.post(_url(dataset), _form_data(dataset.campaign_settings, territory_rules=line), **HOST)

    assert response.status_code == 200
    assert error in response.content.decode() and "Line 1" in response.content.decode()
    assert _settings(dataset).territory_rules == []


def test_it_accepts_only_a_number_registered_to_the_client(alpha, beta, owner, client, dataset):
    from clients.models import SendingNumber

    SendingNumber.objects.create(number="+447700900777", client=beta)
    client.force_login(owner)

    for number in ("+447700900777", "+447700900666"):
        page = client.post(_url(dataset), _form_data(dataset.campaign_settings, twilio_number=number), **HOST)
        assert page.status_code == 200 and "is not registered to" in page.content.decode()
    assert _settings(dataset).twilio_number == NUMBER
