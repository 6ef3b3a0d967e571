import clients.models
from django.db import migrations, models


def fill_secrets(apps, schema_editor):
    # One secret per existing client (a callable default in AddField would give them all the same one).
    Client = apps.get_model("clients", "Client")
    for client in Client.objects.filter(n8n_webhook_secret=""):
        client.n8n_webhook_secret = clients.models.new_event_secret()
        client.save(update_fields=["n8n_webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [("clients", "0008_client_cal_webhook_secret")]

    operations = [
        migrations.AddField(
            model_name="client", name="n8n_webhook_secret", field=models.TextField(default=""), preserve_default=False
        ),
        migrations.RunPython(fill_secrets, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="client",
            name="n8n_webhook_secret",
            field=models.TextField(default=clients.models.new_event_secret),
        ),
        migrations.AlterField(
            model_name="client",
            name="n8n_webhook_url",
            field=models.TextField(blank=True, null=True, validators=[clients.models.validate_webhook_url]),
        ),
    ]
