"""Start-up checks (`manage.py check`) for the SMS backend, so a bad setting fails at deploy, not at the first send."""

from django.conf import settings
from django.core.checks import CheckMessage, Error

from campaigns.transports import BACKENDS

TWILIO_CREDENTIALS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")


def sms_backend_check(app_configs, **kwargs) -> list[CheckMessage]:
    backend = settings.DBR_SMS_BACKEND
    if backend not in BACKENDS:
        return [
            Error(
                f"DBR_SMS_BACKEND={backend!r} is not a known SMS backend.",
                hint=f"Set DBR_SMS_BACKEND to one of: {', '.join(BACKENDS)}.",
                id="campaigns.E001",
            )
        ]
    missing = [name for name in TWILIO_CREDENTIALS if not getattr(settings, name, None)]
    if backend == "twilio" and missing:
        return [
            Error(
                f"DBR_SMS_BACKEND=twilio but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.",
                hint="Set both from the Twilio console, or use DBR_SMS_BACKEND=simulator away from production.",
                id="campaigns.E002",
            )
        ]
    return []
