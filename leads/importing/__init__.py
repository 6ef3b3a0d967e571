"""Importing a file of leads, one module per stage.

reading (what the file is, its rows) → mapping (which column fills which field) → rows (each row judged) →
receive / preview (the wizard's first steps) → run: staging (COPY into a temporary table) → classify
(duplicates, suppressions, in SQL) → apply (leads, merges, events) → summary. `options` holds the campaign
settings rows are judged by; `progress` the live progress bar.
"""
