from django.db import migrations

from clients.sql import touch_updated_at_sql

FORWARD, REVERSE = touch_updated_at_sql(["conversations", "messages"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_initial"), ("leads", "0002_dataset_stats_triggers")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
