from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from sophie.defaults import DEFAULT_LESSONS, SYSTEM_TEMPLATES
from sophie.models import Lesson, PromptTemplate
from sophie.prompts import prompt_default_create, template_for_client


def seed_client_defaults(sender, tenant, **kwargs) -> None:
    """post_schema_sync: system prompt templates, the default never-rules and the live client-default
    prompt for a new client (a signal handler is the outermost layer, so it reads the clock)."""
    if tenant.schema_name == "public":
        return
    with schema_context(tenant.schema_name):
        system_templates_sync()
        default_lessons_seed()
        prompt_default_create(template=template_for_client(tenant), at=timezone.now())


@transaction.atomic
def system_templates_sync() -> int:
    """Creates or updates the system templates (by category) in the current schema."""
    for spec in SYSTEM_TEMPLATES:
        PromptTemplate.objects.update_or_create(category=spec["category"], is_system_template=True, defaults=spec)
    return len(SYSTEM_TEMPLATES)


@transaction.atomic
def default_lessons_seed() -> int:
    """Adds the platform's default lessons that are missing (matched by type and title)."""
    existing = set(Lesson.objects.values_list("lesson_type", "title"))
    missing = [
        Lesson(source=Lesson.Source.SYSTEM, **spec)
        for spec in DEFAULT_LESSONS
        if (spec["lesson_type"], spec["title"]) not in existing
    ]
    Lesson.objects.bulk_create(missing)
    return len(missing)
