
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0011_inbound_text_names'),
        ('leads', '0007_ai_mode'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='handoff_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='conversation',
            name='handoff_reason',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='message',
            name='due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='message',
            name='status',
            field=models.TextField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('unknown', 'Unknown (being reconciled)'), ('sent', 'Sent'), ('delivered', 'Delivered'), ('undelivered', 'Undelivered'), ('failed', 'Failed'), ('received', 'Received'), ('cancelled', 'Cancelled'), ('scheduled', 'Scheduled'), ('draft', 'Draft')], default='pending'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('status', 'scheduled')), fields=['due_at'], name='idx_messages_planned_due'),
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['scheduled', 'draft'])), fields=('conversation',), name='messages_one_planned_reply_per_conversation'),
        ),
    ]
