import secrets

from django.db import migrations, models

import clients.models


def give_each_client_its_own_secret(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    for client in Client.objects.filter(cal_webhook_secret=""):
        client.cal_webhook_secret = secrets.token_hex(32)
        client.save(update_fields=["cal_webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0007_notifications"),
    ]

    operations = [
        # A callable default would give every existing client the same value: "" first, then one each.
        migrations.AddField(
            model_name="client",
            name="cal_webhook_secret",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(give_each_client_its_own_secret, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="client",
            name="cal_webhook_secret",
            field=models.TextField(blank=True, default=clients.models.new_webhook_secret),
        ),
    ]
