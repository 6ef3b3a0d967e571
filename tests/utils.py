from django.db import connection

# Data tables of a client schema, children first; templates and system lessons are kept.
DATA_TABLES = [
    "webhook_deliveries",
    "message_status_events",
    "sophie_insights",
    "prompt_versions",
    "prompts",
    "messages",
    "conversations",
    "lead_events",
    "booking_events",
    "leads",
    "uploads",
    "sending_health",
    "suppressions",
]


def wipe_client_data(schema_name: str) -> None:
    with connection.cursor() as cursor:
        tables = ", ".join(f'"{schema_name}".{t}' for t in DATA_TABLES)
        cursor.execute(f"TRUNCATE {tables} CASCADE")
        cursor.execute(f'DELETE FROM "{schema_name}".datasets')
        cursor.execute(f'DELETE FROM "{schema_name}".campaign_settings WHERE NOT is_template')
        cursor.execute(f"DELETE FROM \"{schema_name}\".lessons WHERE source IS DISTINCT FROM 'system'")
