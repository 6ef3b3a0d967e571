"""Classify the staged rows (`import_rows`): what each becomes, decided in SQL against the client's leads.

create, merged (folded into an earlier row of the file), merge_into (an existing lead), or skipped; and, among
the created, flagged duplicates and suppressed numbers. The dataset's `duplicate_action` decides for numbers
already in another dataset.
"""

from django.db import connection

from leads.models import CampaignSettings, Dataset

MERGED_FIELDS = ["first_name", "last_name", "email", "postcode", "inquiry_date", "notes"]


def import_rows_classify(*, dataset: Dataset, duplicate_action: str) -> None:
    """Sets each staged row's outcome: create, merged (into an earlier row), merge_into (a lead) or skipped."""
    merge = duplicate_action == CampaignSettings.DuplicateAction.MERGE
    with connection.cursor() as cursor:
        _repeats_in_file(cursor, merge=merge)
        _already_in_dataset(cursor, dataset=dataset, merge=merge)
        _in_other_datasets(cursor, dataset=dataset, duplicate_action=duplicate_action)
        _suppressed(cursor)


def _repeats_in_file(cursor, *, merge: bool) -> None:
    """The same number twice in the file: later rows fold into (merge) or are skipped for the first."""
    cursor.execute(
        """
        UPDATE import_rows r SET first_row = f.first_row, reason = 'duplicate of row ' || f.first_row,
               outcome = %s
        FROM (SELECT phone_number, min(row_number) AS first_row FROM import_rows
              GROUP BY phone_number HAVING count(*) > 1) f
        WHERE r.phone_number = f.phone_number AND r.row_number > f.first_row
    """,
        ["merged" if merge else "skipped"],
    )
    if merge:
        _fold_into_first_rows(cursor)


def _fold_into_first_rows(cursor) -> None:
    """A first row keeps its values and takes, for each empty one, the first later row's that is filled."""
    fill_from_dups = ", ".join(f"{f} = {keep_filled_sql('f', 'd', f)}" for f in MERGED_FIELDS)
    first_non_empty = ", ".join(
        f"(array_agg({f} ORDER BY row_number) FILTER (WHERE {f} IS NOT NULL AND {f}::text <> ''))[1] AS {f}"
        for f in MERGED_FIELDS
    )
    cursor.execute(f"""
        UPDATE import_rows f SET {fill_from_dups},
               custom_fields = COALESCE(c.merged, '{{}}') || f.custom_fields
        FROM (SELECT first_row, {first_non_empty} FROM import_rows
              WHERE first_row IS NOT NULL GROUP BY first_row) d
        LEFT JOIN (SELECT first_row, jsonb_object_agg(key, value) AS merged
                   FROM (SELECT DISTINCT ON (r.first_row, e.key) r.first_row, e.key, e.value
                         FROM import_rows r, jsonb_each(r.custom_fields) e
                         WHERE r.first_row IS NOT NULL ORDER BY r.first_row, e.key, r.row_number) x
                   GROUP BY first_row) c ON c.first_row = d.first_row
        WHERE f.row_number = d.first_row
    """)


def _already_in_dataset(cursor, *, dataset: Dataset, merge: bool) -> None:
    """A number already in this dataset (unique per dataset): merged into that lead, or skipped."""
    cursor.execute(
        """
        UPDATE import_rows r SET outcome = %s, reason = 'already in this dataset', target = l.id
        FROM leads l WHERE l.dataset_id = %s AND l.phone_number = r.phone_number AND r.outcome IS NULL
    """,
        ["merge_into" if merge else "skipped", dataset.pk],
    )


_OTHER_DATASET_OUTCOMES = {
    "flag": "outcome = 'create', is_duplicate = true",
    "skip": "outcome = 'skipped'",
    "merge": "outcome = 'merge_into'",
    "keep_both": "outcome = 'create', target = NULL",
}


def _in_other_datasets(cursor, *, dataset: Dataset, duplicate_action: str) -> None:
    """A number in another dataset of this client (its oldest lead): the dataset's duplicate_action decides."""
    cursor.execute(
        """
        UPDATE import_rows r SET target = o.id, reason = 'already in dataset "' || o.name || '"'
        FROM (SELECT DISTINCT ON (l.phone_number) l.phone_number, l.id, d.name
              FROM leads l JOIN datasets d ON d.id = l.dataset_id
              WHERE l.dataset_id <> %s AND l.phone_number IN (SELECT phone_number FROM import_rows)
              ORDER BY l.phone_number, l.created_at) o
        WHERE r.phone_number = o.phone_number AND r.outcome IS NULL
    """,
        [dataset.pk],
    )
    outcome = _OTHER_DATASET_OUTCOMES[duplicate_action]
    cursor.execute(f"UPDATE import_rows SET {outcome} WHERE outcome IS NULL AND target IS NOT NULL")
    cursor.execute("UPDATE import_rows SET outcome = 'create', target = NULL, reason = NULL WHERE outcome IS NULL")
    cursor.execute("UPDATE import_rows SET target = NULL WHERE outcome = 'create' AND NOT is_duplicate")


def _suppressed(cursor) -> None:
    """Suppressed numbers are created as removed, never messageable."""
    cursor.execute("""
        UPDATE import_rows r SET suppressed_reason = 'number is on the suppression list (' || s.source || ')'
        FROM suppressions s WHERE s.phone_number = r.phone_number AND r.outcome = 'create'
    """)


def keep_filled_sql(existing: str, new: str, field_name: str) -> str:
    """SQL keeping `existing`'s value unless it is empty, then taking `new`'s (a merge never overwrites)."""
    if field_name == "inquiry_date":
        return f"COALESCE({existing}.{field_name}, {new}.{field_name})"
    return f"COALESCE(NULLIF({existing}.{field_name}, ''), {new}.{field_name}, {existing}.{field_name})"
