"""Dataset stats stay equal to a plain recount under any mix of writes (statement triggers)."""

import itertools
import uuid

from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Dataset, Lead
from leads.services import dataset_create

STATUSES = ["READY", "CONTACTED_1", "HOT", "WARM", "COLD", "CONVERTED", "REMOVED"]

lead_values = st.fixed_dictionaries({"status": st.sampled_from(STATUSES), "archived": st.booleans()})
operations = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), lead_values),
    st.tuples(st.just("bulk_create"), st.integers(0, 1), st.lists(lead_values, max_size=8)),
    st.tuples(st.just("copy"), st.integers(0, 1), st.lists(lead_values, max_size=8)),
    st.tuples(st.just("update_one"), st.integers(0, 50), lead_values),
    st.tuples(st.just("update_where"), st.sampled_from(STATUSES), lead_values),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, 1)),
    st.tuples(st.just("touch"), st.integers(0, 50), st.none()),
    st.tuples(st.just("delete_one"), st.integers(0, 50), st.none()),
    st.tuples(st.just("delete_where"), st.sampled_from(STATUSES), st.none()),
)


_numbers = itertools.count()


def _phone() -> str:
    # A counter, not a random draw: every lead in a run needs its own number.
    return f"+4477009{next(_numbers) % 10**5:05d}"


def _lead(dataset: Dataset, values: dict) -> Lead:
    return Lead(
        dataset=dataset,
        first_name="Test",
        phone_number=_phone(),
        contact_status=values["status"],
        archived=values["archived"],
    )


def _copy(dataset: Dataset, rows: list[dict]) -> None:
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY leads (id, dataset_id, first_name, phone_number, contact_status, archived, custom_fields,"
            " call_booked, manual_mode, total_messages) FROM STDIN"
        ) as copy,
    ):
        for values in rows:
            copy.write_row(
                [
                    uuid.uuid4(),
                    dataset.pk,
                    "Copied",
                    _phone(),
                    values["status"],
                    values["archived"],
                    "{}",
                    False,
                    False,
                    0,
                ]
            )


def _pick(index: int) -> Lead | None:
    leads = list(Lead.objects.order_by("id"))
    return leads[index % len(leads)] if leads else None


def _apply(op: str, arg, values, datasets: list[Dataset]) -> None:
    if op == "create":
        _lead(datasets[arg], values).save()
    elif op == "bulk_create":
        Lead.objects.bulk_create([_lead(datasets[arg], v) for v in values])
    elif op == "copy":
        _copy(datasets[arg], values)
    elif op in ("update_one", "move", "touch", "delete_one") and (lead := _pick(arg)):
        if op == "update_one":
            lead.contact_status, lead.archived = values["status"], values["archived"]
            lead.save()
        elif op == "move":
            Lead.objects.filter(pk=lead.pk).update(dataset=datasets[values])
        elif op == "touch":
            Lead.objects.filter(pk=lead.pk).update(notes="called back")
        else:
            lead.delete()
    elif op == "update_where":
        Lead.objects.filter(contact_status=arg).update(contact_status=values["status"], archived=values["archived"])
    elif op == "delete_where":
        Lead.objects.filter(contact_status=arg).delete()


def _recount(dataset: Dataset) -> tuple[int, int, int, int]:
    leads = Lead.objects.filter(dataset=dataset)
    return (
        leads.count(),
        leads.filter(archived=False).count(),
        leads.filter(contact_status="HOT").count(),
        leads.filter(contact_status="CONVERTED").count(),
    )


def _stats(dataset: Dataset) -> tuple[int, int, int, int]:
    dataset.refresh_from_db()
    return (dataset.total_leads, dataset.active_leads, dataset.hot_leads, dataset.converted_leads)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operations, min_size=1, max_size=12))
def test_it_keeps_stats_equal_to_a_recount(alpha, ops):
    with transaction.atomic():
        datasets = [dataset_create(name="Stats A"), dataset_create(name="Stats B")]
        for op, arg, values in ops:
            _apply(op, arg, values, datasets)
            for dataset in datasets:
                assert _stats(dataset) == _recount(dataset), (op, arg, values)
        transaction.set_rollback(True)


def _row_version(dataset: Dataset) -> str:
    # Every UPDATE writes a new row version, so a changed ctid means the row was written.
    with connection.cursor() as cursor:
        cursor.execute("SELECT ctid::text FROM datasets WHERE id = %s", [dataset.pk])
        return cursor.fetchone()[0]


def test_it_does_not_write_the_dataset_row_for_uncounted_changes(alpha):
    dataset = dataset_create(name="Hot spot")
    lead = Lead.objects.create(
        dataset=dataset,
        first_name="Ann",
        phone_number=_phone(),
        m1_sent_at="2026-11-25T10:00Z",
        contact_status="CONTACTED_1",
        next_step="M2",
    )
    before = _row_version(dataset)

    # M2 and M3 go out without writing the dataset row (M1 counts: "contacted").
    Lead.objects.filter(pk=lead.pk).update(notes="x", m2_sent_at="2026-11-27T10:00Z", contact_status="CONTACTED_2")
    lead.refresh_from_db()
    lead.save()

    assert _row_version(dataset) == before
    Lead.objects.filter(pk=lead.pk).update(contact_status="HOT")
    assert _row_version(dataset) != before
    assert _stats(dataset) == (1, 1, 1, 0)
