"""Queueing tenant-aware Celery tasks.

tenant-schemas-celery reads the schema from the connection when a task is *sent*. A task
queued with `transaction.on_commit` is sent later, when the connection may have moved to
another schema, so the schema is captured now and passed explicitly.
"""

from django.db import connection, transaction


def queue_after_commit(task, *args, **kwargs) -> None:
    schema_name = connection.schema_name
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs, headers={"_schema_name": schema_name}))
