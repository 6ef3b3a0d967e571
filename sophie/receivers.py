"""Sophie's side of the seam: campaigns announces a processed reply, Sophie acts on it."""

import logging

log = logging.getLogger(__name__)


def reply_processed(sender, *, message, at, **kwargs) -> None:
    """A lead's reply is stored and matched: Sophie takes it from here."""
    from sophie.replies import reply_received  # the receiver stays importable before the apps are ready

    reply_received(message=message, at=at)
