"""The seed's unique constraints hold in the database, not only in forms."""

import pytest
from django.db import IntegrityError, transaction

from clients.models import Client, User
from leads.models import Lead, Suppression
from leads.services import dataset_create


def test_it_refuses_the_same_phone_twice_in_a_dataset(alpha):
    dataset = dataset_create(name="Unique phones")
    Lead.objects.create(dataset=dataset, first_name="Ann", phone_number="+447700900123")

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(dataset=dataset, first_name="Bob", phone_number="+447700900123")


def test_it_allows_the_same_phone_in_another_dataset(alpha):
    first, second = dataset_create(name="First"), dataset_create(name="Second")
    Lead.objects.create(dataset=first, first_name="Ann", phone_number="+447700900123")

    Lead.objects.create(dataset=second, first_name="Ann", phone_number="+447700900123")

    assert Lead.objects.filter(phone_number="+447700900123").count() == 2


def test_it_refuses_a_duplicate_company_name(tenants, db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.bulk_create([Client(slug="copycat", schema_name="copycat", company_name="Alpha Solar Ltd")])


def test_it_refuses_a_duplicate_user_email_across_clients(tenants, db):
    User.objects.create_user("sam@example.com", "pw-123456789", client=tenants["alpha"])

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("sam@example.com", "pw-123456789", client=tenants["beta"])


def test_it_stores_emails_lowercased_so_case_cannot_dodge_uniqueness(tenants, db):
    User.objects.create_user("Sam@Example.com", "pw-123456789", client=tenants["alpha"])

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("sam@example.COM", "pw-123456789", client=tenants["beta"])


def test_it_refuses_a_duplicate_dataset_name(alpha):
    dataset_create(name="Old database")

    with pytest.raises(IntegrityError), transaction.atomic():
        dataset_create(name="Old database")


def test_it_refuses_a_number_suppressed_twice(alpha):
    Suppression.objects.create(phone_number="+447700900123", source=Suppression.Source.STAFF)

    with pytest.raises(IntegrityError), transaction.atomic():
        Suppression.objects.create(phone_number="+447700900123", source=Suppression.Source.OPT_OUT)


def test_it_keeps_one_cadence_message_per_step(alpha):
    from campaigns.models import Conversation, Message

    dataset = dataset_create(name="Outbox")
    lead = Lead.objects.create(dataset=dataset, first_name="Ann", phone_number="+447700900123")
    conversation = Conversation.objects.create(lead=lead, dataset=dataset)
    Message.objects.create(conversation=conversation, lead=lead, content="Hi", direction="outbound", message_type="M1")
    Message.objects.create(
        conversation=conversation, lead=lead, content="Re", direction="outbound", message_type="reply"
    )
    Message.objects.create(
        conversation=conversation, lead=lead, content="Re", direction="outbound", message_type="reply"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            conversation=conversation, lead=lead, content="Hi", direction="outbound", message_type="M1"
        )


def test_it_maintains_updated_at_for_updates_that_bypass_django(alpha):
    dataset = dataset_create(name="Timestamps")
    lead = Lead.objects.create(dataset=dataset, first_name="Ann", phone_number="+447700900123")
    Lead.objects.filter(pk=lead.pk).update(updated_at="2020-01-01T00:00Z")

    with transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("UPDATE leads SET notes = 'rang' WHERE id = %s", [lead.pk])
    lead.refresh_from_db()

    assert lead.updated_at.year > 2020
    assert lead.created_at is not None
