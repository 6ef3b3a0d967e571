from django.db import migrations, models


def ai_mode_from_enabled(apps, schema_editor):
    # Settings that had AI replies switched off keep them off.
    apps.get_model("leads", "CampaignSettings").objects.filter(ai_response_enabled=False).update(ai_mode="off")


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0006_leadevent_cadence_left'),
    ]

    operations = [
        migrations.AddField(
            model_name='campaignsettings',
            name='ai_max_messages_per_lead',
            field=models.IntegerField(default=10),
        ),
        migrations.AddField(
            model_name='campaignsettings',
            name='ai_mode',
            field=models.TextField(choices=[('off', 'Off: staff answer every reply'), ('suggest', 'Suggest: Sophie drafts, staff send'), ('auto', 'Auto: Sophie answers')], default='auto'),
        ),
        migrations.RunPython(ai_mode_from_enabled, migrations.RunPython.noop),
    ]
