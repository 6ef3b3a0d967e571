"""Does a PostgreSQL or Redis server answer at this URL?"""


def maintenance_conninfo(database_url: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(database_url, dbname="postgres", connect_timeout=3)


def postgres_answers(database_url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(maintenance_conninfo(database_url)).close()
        return True
    except psycopg.Error:
        return False


def redis_answers(redis_url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        return False
