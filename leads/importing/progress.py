"""Live import progress, kept in Redis so it is visible while the import's transaction is open."""

import json

import redis
from django.conf import settings
from django.db import connection

TTL_SECONDS = 24 * 3600


def _key(upload_id) -> str:
    return f"dbr:{connection.schema_name}:upload:{upload_id}:progress"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def progress_set(upload_id, *, done: int, total: int | None, phase: str) -> None:
    try:
        _redis().set(_key(upload_id), json.dumps({"done": done, "total": total, "phase": phase}), ex=TTL_SECONDS)
    except redis.RedisError:
        pass  # progress is a courtesy; the import itself must not fail for it


def progress_get(upload_id) -> dict | None:
    try:
        raw = _redis().get(_key(upload_id))
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None
