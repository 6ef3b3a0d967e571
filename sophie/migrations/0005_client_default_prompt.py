"""Gives every existing client a live client-default prompt (dataset NULL) from its system template.

New clients get theirs from `sophie.services.seed_client_defaults` after their migrations; when this
runs for a schema being created the templates are not there yet, so it leaves the work to that seed.
A migration must not change when the code does, so the compiling is copied here, not imported.
"""

from django.db import migrations
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

SECTION_ORDER = ("context", "goal", "tone", "knowledge", "objections", "boundaries")


def _compile(structure: dict) -> str:
    names = [n for n in SECTION_ORDER if n in structure] + sorted(n for n in structure if n not in SECTION_ORDER)
    parts = []
    for name in names:
        section = structure[name]
        text = section.get("content", "") if isinstance(section, dict) else str(section or "")
        parts.append(f"## {name.title()}\n{text}")
    return "\n\n".join(parts)


def _industry(connection) -> str | None:
    # Migrations run with only the tenant schema on the search path: name the public table in full.
    table = f"{connection.ops.quote_name(get_public_schema_name())}.clients"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT industry FROM {table} WHERE schema_name = %s", [connection.schema_name])
        row = cursor.fetchone()
    return row[0] if row else None


def client_default_prompt(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.schema_name == get_public_schema_name():
        return
    Prompt = apps.get_model("sophie", "Prompt")
    PromptTemplate = apps.get_model("sophie", "PromptTemplate")
    PromptVersion = apps.get_model("sophie", "PromptVersion")
    if Prompt.objects.filter(dataset__isnull=True, is_live=True).exists():
        return
    category = "solar_dbr_old" if _industry(connection) in (None, "solar") else "general"
    template = PromptTemplate.objects.filter(category=category, is_system_template=True).first()
    if template is None:
        return
    structure = {name: dict(section) for name, section in template.template_structure.items()}
    last = Prompt.objects.filter(dataset__isnull=True).order_by("-version_number").first()
    number = (last.version_number if last else 0) + 1
    now = timezone.now()
    prompt = Prompt.objects.create(
        dataset=None,
        name="Client default",
        description=f"From the system template {template.name!r}; used by datasets without their own.",
        prompt_structure=structure,
        compiled_prompt=_compile(structure),
        created_from="template",
        template=template,
        wizard_answers=template.default_wizard_answers,
        version=f"{number}.0",
        version_number=number,
        status="live",
        is_live=True,
        deployed_at=now,
        changes_summary="Client default from the system template.",
        created_at=now,
    )
    PromptVersion.objects.create(
        prompt=prompt,
        version=prompt.version,
        version_number=number,
        changes={
            "type": "created_from_template",
            "template_id": str(template.pk),
            "template_category": template.category,
            "went_live": True,
        },
        changes_summary=f"Client default created from {template.name!r} and made live (data migration).",
        created_by_type="system",
        created_at=now,
    )


class Migration(migrations.Migration):
    dependencies = [("sophie", "0004_ai_reply_and_live_prompt")]

    operations = [migrations.RunPython(client_default_prompt, migrations.RunPython.noop)]
