
import django.contrib.postgres.fields
import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0012_planned_replies'),
        ('leads', '0007_ai_mode'),
        ('sophie', '0003_alter_prompttemplate_use_case'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AiReply',
            fields=[
                ('id', models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID(), default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False)),
                ('prompt_version_number', models.IntegerField(blank=True, null=True)),
                ('backend', models.TextField()),
                ('model', models.TextField(blank=True, default='')),
                ('lessons_used', django.contrib.postgres.fields.ArrayField(base_field=models.UUIDField(), blank=True, default=list, size=None)),
                ('action', models.TextField(choices=[('send', 'Send'), ('handoff', 'Hand to a person')])),
                ('reason', models.TextField(blank=True, default='')),
                ('attempts', models.JSONField(blank=True, default=list)),
                ('regenerated', models.BooleanField(default=False)),
                ('status', models.TextField(blank=True, default='')),
                ('sentiment', models.TextField(blank=True, default='')),
                ('original_text', models.TextField(blank=True, default='')),
                ('edited_at', models.DateTimeField(blank=True, null=True)),
                ('written_at', models.DateTimeField()),
            ],
            options={
                'verbose_name_plural': 'AI replies',
                'db_table': 'ai_replies',
            },
        ),
        migrations.AddConstraint(
            model_name='prompt',
            constraint=models.UniqueConstraint(condition=models.Q(('is_live', True)), fields=('dataset',), name='prompts_one_live_per_dataset', nulls_distinct=False),
        ),
        migrations.AddConstraint(
            model_name='prompt',
            constraint=models.UniqueConstraint(fields=('dataset', 'version_number'), name='prompts_version_number_unique', nulls_distinct=False),
        ),
        migrations.AddField(
            model_name='aireply',
            name='edited_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='aireply',
            name='message',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='ai_reply', to='campaigns.message'),
        ),
        migrations.AddField(
            model_name='aireply',
            name='prompt',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='ai_replies', to='sophie.prompt'),
        ),
        migrations.AddIndex(
            model_name='aireply',
            index=models.Index(fields=['-created_at'], name='idx_ai_replies_created'),
        ),
    ]
