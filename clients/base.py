"""Abstract models shared by every app: UUID keys and maintained timestamps."""

import uuid

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now


class UUIDModel(models.Model):
    # db_default too, so rows written by COPY or raw SQL get a key as in the seed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)

    class Meta:
        abstract = True


class CreatedModel(UUIDModel):
    created_at = models.DateTimeField(db_default=Now(), editable=False, db_index=False)

    class Meta:
        abstract = True


class TimestampedModel(CreatedModel):
    """`updated_at` is set by Django on save and by a database trigger on any UPDATE."""

    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)

    class Meta:
        abstract = True
