"""Every dashboard counter and the hourly lead rollup stay equal to a recount under any mix of writes."""

import itertools
from datetime import UTC, datetime, timedelta

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.counters import DATASET_COUNTERS, dataset_counters_recount
from leads.models import Dataset, Lead, LeadStatsHour
from leads.services import dataset_create

BASE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
stamps = st.none() | st.integers(0, 72).map(lambda h: BASE + timedelta(hours=h))
changes = st.fixed_dictionaries(
    {},
    optional={
        "m1_sent_at": stamps,
        "reply_received_at": stamps,
        "opted_out_at": stamps,
        "call_booked": st.booleans(),
        "archived": st.booleans(),
        "sms_capable": st.booleans(),
        "is_duplicate": st.booleans(),
        "next_step": st.sampled_from([None, "M1", "M2"]),
        "contact_status": st.sampled_from(["READY", "CONTACTED_1", "HOT", "CONVERTED", "REMOVED"]),
        "created_at": st.integers(0, 72).map(lambda h: BASE + timedelta(hours=h)),
    },
)
operations = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), changes),
    st.tuples(st.just("update_one"), st.integers(0, 30), changes),
    st.tuples(st.just("update_all"), st.integers(0, 1), changes),
    st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 1)),
    st.tuples(st.just("delete_one"), st.integers(0, 30), st.none()),
)


_numbers = itertools.count()  # every lead in a run needs its own number


def _state():
    counters = {d.pk: tuple(getattr(d, c) for c in DATASET_COUNTERS) for d in Dataset.objects.order_by("pk")}
    hours = sorted(
        row
        for row in LeadStatsHour.objects.values_list(
            "dataset_id", "hour", "added", "contacted", "replied", "hot", "booked", "converted", "opted_out"
        )
        if any(row[2:])
    )
    return counters, hours


def _apply(op, arg, value, datasets):
    leads = list(Lead.objects.order_by("pk"))
    if op == "create":
        phone = f"+4477009{next(_numbers) % 10**5:05d}"
        Lead.objects.create(dataset=datasets[arg], first_name="T", phone_number=phone, **value)
    elif op == "update_one" and leads and value:
        Lead.objects.filter(pk=leads[arg % len(leads)].pk).update(**value)
    elif op == "update_all" and value:
        Lead.objects.filter(dataset=datasets[arg]).update(**value)
    elif op == "move" and leads:
        Lead.objects.filter(pk=leads[arg % len(leads)].pk).update(dataset=datasets[value])
    elif op == "delete_one" and leads:
        Lead.objects.filter(pk=leads[arg % len(leads)].pk).delete()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operations, min_size=1, max_size=10))
def test_counters_and_the_hourly_rollup_equal_a_recount(alpha, ops):
    with transaction.atomic():
        datasets = [dataset_create(name="Counters A"), dataset_create(name="Counters B")]
        for op, arg, value in ops:
            _apply(op, arg, value, datasets)
            kept = _state()
            dataset_counters_recount()
            assert _state() == kept, (op, arg, value)
        transaction.set_rollback(True)


def test_the_parts_add_up_to_the_not_archived_leads(alpha):
    dataset = dataset_create(name="Parts")
    for n, values in enumerate(
        [{}, {"archived": True}, {"contact_status": "REMOVED"}, {"contact_status": "SEND_FAILED"},
         {"sms_capable": False}, {"is_duplicate": True}, {"reply_received_at": BASE},
         {"next_step": "M2", "m1_sent_at": BASE}, {"m1_sent_at": BASE}]
    ):  # fmt: skip
        Lead.objects.create(dataset=dataset, first_name="P", phone_number=f"+44770090{n:04d}", **values)
    dataset.refresh_from_db()

    parts = [dataset.removed_leads, dataset.send_failed_leads, dataset.no_sms_leads, dataset.duplicate_leads,
             dataset.replied_open_leads, dataset.in_cadence_leads, dataset.not_started_leads,
             dataset.waiting_leads]  # fmt: skip
    assert parts == [1, 1, 1, 1, 1, 1, 1, 1]
    assert sum(parts) == dataset.active_leads == 8
