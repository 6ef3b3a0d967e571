"""Queueing tenant-aware Celery tasks: `enqueue`, the one way tasks are sent.

tenant-schemas-celery reads the schema from the connection when a task is *sent*. A task
queued with `transaction.on_commit` is sent later, when the connection may have moved to
another schema, so the schema is captured now and passed explicitly.

A broker outage must never fail the caller's request: the task is published once, without
retries and with short broker timeouts (CELERY_BROKER_TRANSPORT_OPTIONS), and a failure is
logged and reported to the caller instead of raised.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction

logger = logging.getLogger(__name__)


def enqueue(
    task,
    *args,
    eta: datetime | None = None,
    after_commit: bool = True,
    on_error: Callable[[Exception], None] | None = None,
    **kwargs,
) -> bool | None:
    """Sends `task(*args, **kwargs)` to run in the current schema.

    Now: True when published, False when not. After commit: None, and a failure goes to
    `on_error` (the caller's request has answered by then).
    """
    schema_name = connection.schema_name

    def publish() -> bool:
        try:
            task.apply_async(args=args, kwargs=kwargs, eta=eta, headers={"_schema_name": schema_name}, retry=False)
        except Exception as exc:
            logger.exception("Could not queue %s for schema %s", task.name, schema_name)
            if on_error is not None:
                on_error(exc)
            return False
        return True

    if after_commit:
        transaction.on_commit(publish, robust=True)
        return None
    return publish()
