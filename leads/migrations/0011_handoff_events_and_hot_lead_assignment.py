
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0010_erasure'),
    ]

    operations = [
        migrations.AddField(
            model_name='campaignsettings',
            name='round_robin_last_user_id',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='campaignsettings',
            name='territory_rules',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name='leadevent',
            name='event_type',
            field=models.TextField(choices=[('imported', 'Imported'), ('merged', 'Merged from an upload'), ('queued', 'Message queued'), ('sent', 'Message sent'), ('delivered', 'Message delivered'), ('failed', 'Message failed'), ('cadence_left', 'Left the cadence'), ('replied', 'Replied'), ('status_changed', 'Status changed'), ('assigned', 'Assigned'), ('manual_mode', 'Manual mode changed'), ('suppressed', 'Number suppressed'), ('archived', 'Archived'), ('call_booked', 'Call booked'), ('note', 'Note'), ('handoff', 'Handed to a person'), ('handoff_cleared', 'Hand-off cleared'), ('ai_reply', "Sophie's reply"), ('erased', 'Personal data erased')]),
        ),
    ]
