"""Dataset stats kept by statement-level triggers with transition tables.

The seed's row trigger recounted the whole dataset for every lead written and read NEW on
DELETE. These triggers run once per statement (one COPY of 100,000 rows = one UPDATE per
dataset touched), add the difference each statement made, and on UPDATE write a dataset
row only when a counted attribute (dataset, archived, contact_status) changed, so sending
does not lock the dataset row.
"""

from django.db import migrations

from clients.sql import touch_updated_at_sql

CONTRIBUTION = """
  SELECT dataset_id,
         1 AS total,
         (NOT archived)::int AS active,
         (contact_status = 'HOT')::int AS hot,
         (contact_status = 'CONVERTED')::int AS converted
"""

FORWARD = f"""
CREATE OR REPLACE FUNCTION dbr_dataset_stats_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE datasets d SET total_leads = d.total_leads + s.total,
                          active_leads = d.active_leads + s.active,
                          hot_leads = d.hot_leads + s.hot,
                          converted_leads = d.converted_leads + s.converted
    FROM (SELECT dataset_id, sum(total) total, sum(active) active, sum(hot) hot, sum(converted) converted
          FROM ({CONTRIBUTION} FROM new_rows) c GROUP BY dataset_id) s
    WHERE d.id = s.dataset_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE datasets d SET total_leads = d.total_leads - s.total,
                          active_leads = d.active_leads - s.active,
                          hot_leads = d.hot_leads - s.hot,
                          converted_leads = d.converted_leads - s.converted
    FROM (SELECT dataset_id, sum(total) total, sum(active) active, sum(hot) hot, sum(converted) converted
          FROM ({CONTRIBUTION} FROM old_rows) c GROUP BY dataset_id) s
    WHERE d.id = s.dataset_id;
  ELSE
    UPDATE datasets d SET total_leads = d.total_leads + s.total,
                          active_leads = d.active_leads + s.active,
                          hot_leads = d.hot_leads + s.hot,
                          converted_leads = d.converted_leads + s.converted
    FROM (SELECT dataset_id, sum(total) total, sum(active) active, sum(hot) hot, sum(converted) converted
          FROM ({CONTRIBUTION} FROM new_rows
                UNION ALL
                SELECT dataset_id, -1, -(NOT archived)::int, -(contact_status = 'HOT')::int,
                       -(contact_status = 'CONVERTED')::int FROM old_rows) c
          GROUP BY dataset_id) s
    WHERE d.id = s.dataset_id
      AND (s.total, s.active, s.hot, s.converted) <> (0, 0, 0, 0);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER leads_stats_insert AFTER INSERT ON leads
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dbr_dataset_stats_apply();
CREATE TRIGGER leads_stats_update AFTER UPDATE ON leads
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION dbr_dataset_stats_apply();
CREATE TRIGGER leads_stats_delete AFTER DELETE ON leads
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dbr_dataset_stats_apply();

CREATE OR REPLACE FUNCTION dbr_dataset_stats_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE datasets SET total_leads = 0, active_leads = 0, hot_leads = 0, converted_leads = 0;
  RETURN NULL;
END $$;
CREATE TRIGGER leads_stats_truncate AFTER TRUNCATE ON leads
  FOR EACH STATEMENT EXECUTE FUNCTION dbr_dataset_stats_truncate();
"""

REVERSE = """
DROP TRIGGER IF EXISTS leads_stats_insert ON leads;
DROP TRIGGER IF EXISTS leads_stats_update ON leads;
DROP TRIGGER IF EXISTS leads_stats_delete ON leads;
DROP TRIGGER IF EXISTS leads_stats_truncate ON leads;
DROP FUNCTION IF EXISTS dbr_dataset_stats_apply();
DROP FUNCTION IF EXISTS dbr_dataset_stats_truncate();
"""

TOUCH_FORWARD, TOUCH_REVERSE = touch_updated_at_sql(["campaign_settings", "datasets", "leads"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [
        migrations.RunSQL(FORWARD, REVERSE),
        migrations.RunSQL(TOUCH_FORWARD, TOUCH_REVERSE),
    ]
