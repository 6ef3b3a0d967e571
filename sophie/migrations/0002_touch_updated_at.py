from django.db import migrations

from clients.sql import touch_updated_at_sql

FORWARD, REVERSE = touch_updated_at_sql(["lessons", "prompt_templates", "prompts", "sophie_insights"])


class Migration(migrations.Migration):
    dependencies = [("sophie", "0001_initial"), ("campaigns", "0003_touch_updated_at")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
