from celery import shared_task

from leads.services import dataset_stats_recount


@shared_task(ignore_result=True)
def recount_dataset_stats(dataset_id: str) -> None:
    dataset_stats_recount(dataset_id=dataset_id)
