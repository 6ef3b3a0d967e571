"""What /healthz reports: the database, Redis and whether a worker answered recently."""

import redis
from django.conf import settings
from django.db import connection


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def record_worker_heartbeat(at: float) -> None:
    redis_client().set(settings.DBR_WORKER_HEARTBEAT_KEY, at, ex=24 * 3600)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # any failure is the report
        return {"ok": False, "error": str(exc)}


def check_redis() -> dict:
    try:
        redis_client().ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


def check_worker(now: float) -> dict:
    try:
        raw = redis_client().get(settings.DBR_WORKER_HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": f"Redis unavailable: {exc}"}
    if raw is None:
        return {"ok": False, "last_seen_seconds_ago": None, "error": "no worker heartbeat yet"}
    age = round(now - float(raw), 1)
    return {"ok": age <= settings.DBR_WORKER_STALE_SECONDS, "last_seen_seconds_ago": age}


def report(now: float) -> dict:
    checks = {"database": check_database(), "redis": check_redis(), "worker": check_worker(now)}
    # The web process is usable without a worker; the worker's state is reported, not fatal.
    return {"ok": checks["database"]["ok"] and checks["redis"]["ok"], **checks}
