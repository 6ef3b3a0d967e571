from django.db import migrations

from clients.sql import touch_updated_at_sql

FORWARD, REVERSE = touch_updated_at_sql(["clients", "users"])


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
