
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0004_cadence_run'),
    ]

    operations = [
        migrations.AddField(
            model_name='client',
            name='sophie_enabled',
            field=models.BooleanField(default=True),
        ),
    ]
