"""The "Default" campaign settings template every client starts with (docs/architecture.md §3, docs/domain.md)."""

import datetime

DEFAULT_TEMPLATE_NAME = "Default"

DEFAULT_TEMPLATE = {
    "name": DEFAULT_TEMPLATE_NAME,
    "description": "Three texts over about a week, weekdays 09:00–17:00 UK time.",
    "m1_message": (
        "Hi {first_name}, it's {agent_name} at {company_name}. You asked us about solar panels "
        "in {enquiry_month}. Is that still on your list? Reply STOP to opt out."
    ),
    "m2_message": (
        "Hi {first_name}, {agent_name} from {company_name} again. Should I keep your solar "
        "enquiry open, or close your file? Either is fine. Reply STOP to opt out."
    ),
    "m3_message": (
        "Last one from me, {first_name}: if solar is still of interest, reply YES and I'll book "
        "a quick call with {company_name}. No pressure. Reply STOP to opt out."
    ),
    "sending_hours_start": datetime.time(9, 0),
    "sending_hours_end": datetime.time(17, 0),
    "sending_days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "sending_timezone": "Europe/London",
    "bank_holiday_region": "",
    "auto_append_opt_out": True,
    "is_template": True,
}
