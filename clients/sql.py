"""SQL used by migrations of several apps."""

# One function per schema; `SET search_path FROM CURRENT` pins it to the schema it was
# created in, so a trigger never touches another client's tables.
UPDATED_AT_FUNCTION = """
CREATE OR REPLACE FUNCTION dbr_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW IS DISTINCT FROM OLD THEN
    NEW.updated_at = now();
  END IF;
  RETURN NEW;
END $$;
"""


def touch_updated_at_sql(tables: list[str]) -> tuple[str, str]:
    """Forward and reverse SQL keeping `updated_at` right for UPDATEs that bypass Django."""
    forward = UPDATED_AT_FUNCTION + "".join(
        f"CREATE TRIGGER {t}_touch_updated_at BEFORE UPDATE ON {t} "
        f"FOR EACH ROW EXECUTE FUNCTION dbr_touch_updated_at();\n"
        for t in tables
    )
    reverse = "".join(f"DROP TRIGGER IF EXISTS {t}_touch_updated_at ON {t};\n" for t in tables)
    return forward, reverse
