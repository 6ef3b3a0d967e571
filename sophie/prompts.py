"""Sophie's prompts (docs/prompts.md): every row is one immutable version; these services are the only writers.

A dataset's rows and the client default's rows (dataset NULL) are two separate chains: `version_number`
counts within each, `previous_version` links an edit to what it was made from, and exactly one row per
chain is live (the partial unique constraint `prompts_one_live_per_dataset` is the backstop). Editing
makes a draft; going live and rolling back flip `is_live` in one transaction; every change writes one
PromptVersion row.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet

from clients.access import current_client
from clients.models import Client, User
from leads.models import Dataset
from sophie.models import Lesson, Prompt, PromptImmutable, PromptTemplate, PromptVersion

# The seed's section order; jsonb does not keep key order, so compiling always follows this list.
SECTION_ORDER = ("context", "goal", "tone", "knowledge", "objections", "boundaries")
DEFAULT_NAME = "Client default"


class PromptRefused(Exception):
    """A prompt change that does not make sense (going live with the live row, rolling forward...)."""


def prompt_sections(structure: dict) -> dict[str, str]:
    """Section name -> text, in the seed's order (unknown sections last, by name)."""
    names = [n for n in SECTION_ORDER if n in structure] + sorted(n for n in structure if n not in SECTION_ORDER)
    return {name: _content(structure[name]) for name in names}


def prompt_compile(structure: dict) -> str:
    """The prompt text: one "## Section" block per section, in the seed's order."""
    return "\n\n".join(f"## {name.title()}\n{text}" for name, text in prompt_sections(structure).items())


def _content(section) -> str:
    return section.get("content", "") if isinstance(section, dict) else str(section or "")


def template_for_client(client: Client) -> PromptTemplate:
    """The system template a client's default starts from: old-database solar for solar clients, else general."""
    category = (
        PromptTemplate.Category.SOLAR_DBR_OLD
        if client.industry == Client.Industry.SOLAR
        else PromptTemplate.Category.GENERAL
    )
    return PromptTemplate.objects.get(category=category, is_system_template=True)


def _chain(dataset_id) -> QuerySet[Prompt]:
    """The rows of one dataset, or of the client default when `dataset_id` is None."""
    return (
        Prompt.objects.filter(dataset__isnull=True)
        if dataset_id is None
        else Prompt.objects.filter(dataset_id=dataset_id)
    )


def _next_number(dataset_id) -> int:
    return (_chain(dataset_id).aggregate(n=Max("version_number"))["n"] or 0) + 1


def _version_text(number: int) -> str:
    # `version` is the seed's display text; it follows version_number so the two never disagree.
    return f"{number}.0"


def _by_type(actor: User | None, created_by_type: str | None) -> str:
    if created_by_type:
        return created_by_type
    return PromptVersion.CreatedByType.USER if actor else PromptVersion.CreatedByType.SYSTEM


def _record(
    prompt: Prompt,
    *,
    changes: dict,
    summary: str,
    actor: User | None,
    at: datetime,
    lesson: Lesson | None = None,
    created_by_type: str | None = None,
) -> PromptVersion:
    return PromptVersion.objects.create(
        prompt=prompt,
        version=prompt.version,
        version_number=prompt.version_number,
        changes=changes,
        changes_summary=summary,
        lesson_applied=lesson,
        created_by=actor,
        created_by_type=_by_type(actor, created_by_type),
        created_at=at,
    )


def _sections_changed(before: dict, after: dict) -> dict:
    names = [n for n in dict.fromkeys([*before, *after]) if before.get(n) != after.get(n)]
    return {
        "sections_changed": names,
        "before": {n: _content(before[n]) for n in names if n in before},
        "after": {n: _content(after[n]) for n in names if n in after},
    }


def _copy_structure(structure: dict) -> dict:
    return {name: dict(section) if isinstance(section, dict) else section for name, section in structure.items()}


def prompt_default_create(*, template: PromptTemplate | None = None, at: datetime, actor: User | None = None) -> Prompt:
    """The client default (dataset NULL), live, version 1, from a system template; the existing one if any."""
    existing = Prompt.objects.filter(dataset__isnull=True, is_live=True).first()
    if existing:
        return existing
    template = template or template_for_client(current_client())
    structure = _copy_structure(template.template_structure)
    number = _next_number(None)
    try:
        # A savepoint: a second process creating the default at the same moment loses on the unique
        # version number, and we hand back the winner's row instead of failing the caller.
        with transaction.atomic():
            prompt = Prompt.objects.create(
                dataset=None,
                name=DEFAULT_NAME,
                description=f"From the system template {template.name!r}; used by datasets without their own.",
                prompt_structure=structure,
                compiled_prompt=prompt_compile(structure),
                created_from=Prompt.CreatedFrom.TEMPLATE,
                template=template,
                wizard_answers=template.default_wizard_answers,
                version=_version_text(number),
                version_number=number,
                status=Prompt.Status.LIVE,
                is_live=True,
                deployed_at=at,
                deployed_by=actor,
                changes_summary="Client default from the system template.",
                created_at=at,
            )
            _record(
                prompt,
                changes={
                    "type": "created_from_template",
                    "template_id": str(template.pk),
                    "template_category": template.category,
                    "went_live": True,
                },
                summary=f"Client default created from {template.name!r} and made live.",
                actor=actor,
                at=at,
                created_by_type=PromptVersion.CreatedByType.SYSTEM,
            )
    except IntegrityError:
        existing = Prompt.objects.filter(dataset__isnull=True, is_live=True).first()
        if existing is None:
            raise
        return existing
    _template_used(template)
    return prompt


def _template_used(template: PromptTemplate) -> None:
    PromptTemplate.objects.filter(pk=template.pk).update(times_used=template.times_used + 1)


@transaction.atomic
def prompt_for_dataset_create(
    *,
    dataset: Dataset,
    actor: User | None,
    at: datetime,
    from_prompt: Prompt | None = None,
    template: PromptTemplate | None = None,
    structure: dict | None = None,
    name: str | None = None,
    description: str | None = None,
    wizard_answers: dict | None = None,
    summary: str = "",
) -> Prompt:
    """A dataset's own draft, copied from a prompt or a template (the client default's live row when
    neither is given), with `structure` replacing the source's when given. It starts the dataset's chain
    at the next number; going live is a separate step (`prompt_go_live`)."""
    if from_prompt is not None and template is not None:
        raise PromptRefused("A dataset prompt starts from a prompt or from a template, not both.")
    if template is None and from_prompt is None:
        from_prompt = Prompt.objects.filter(dataset__isnull=True, is_live=True).first() or prompt_default_create(at=at)
    source = from_prompt.prompt_structure if from_prompt else template.template_structure
    structure = _copy_structure(structure if structure is not None else source)
    _lock_chain(dataset.pk)
    number = _next_number(dataset.pk)
    if from_prompt:
        changes = {"type": "copied_from_prompt", "prompt_id": str(from_prompt.pk), "version": from_prompt.version}
        default_summary = f"Copied from {from_prompt.name} v{from_prompt.version}."
    else:
        changes = {
            "type": "created_from_template",
            "template_id": str(template.pk),
            "template_category": template.category,
        }
        default_summary = f"Created from the template {template.name!r}."
    changes |= _sections_changed(source, structure)
    prompt = Prompt.objects.create(
        dataset=dataset,
        name=name or f"{dataset.name} prompt",
        description=description if description is not None else (from_prompt.description if from_prompt else None),
        prompt_structure=structure,
        compiled_prompt=prompt_compile(structure),
        created_from=Prompt.CreatedFrom.COPIED if from_prompt else Prompt.CreatedFrom.TEMPLATE,
        template=from_prompt.template if from_prompt else template,
        copied_from_prompt=from_prompt,
        wizard_answers=wizard_answers
        if wizard_answers is not None
        else (from_prompt.wizard_answers if from_prompt else template.default_wizard_answers),
        applied_lessons=list(from_prompt.applied_lessons) if from_prompt else [],
        lessons_count=from_prompt.lessons_count if from_prompt else 0,
        version=_version_text(number),
        version_number=number,
        status=Prompt.Status.DRAFT,
        is_live=False,
        changes_summary=summary or default_summary,
        created_at=at,
    )
    _record(prompt, changes=changes, summary=summary or default_summary, actor=actor, at=at)
    if template is not None:
        _template_used(template)
    return prompt


@transaction.atomic
def prompt_draft_create(
    *,
    base: Prompt,
    structure: dict,
    actor: User | None,
    at: datetime,
    summary: str,
    lesson: Lesson | None = None,
    created_by_type: str | None = None,
) -> Prompt:
    """An edit: a new draft row in `base`'s chain with the next number, pointing back at `base`."""
    _lock_chain(base.dataset_id)
    number = _next_number(base.dataset_id)
    structure = _copy_structure(structure)
    changed = _sections_changed(base.prompt_structure, structure)
    applied = list(base.applied_lessons)
    if lesson is not None and lesson.pk not in applied:
        applied.append(lesson.pk)
    prompt = Prompt.objects.create(
        dataset_id=base.dataset_id,
        name=base.name,
        description=base.description,
        prompt_structure=structure,
        compiled_prompt=prompt_compile(structure),
        created_from=base.created_from,
        template=base.template,
        copied_from_prompt=base.copied_from_prompt,
        wizard_answers=base.wizard_answers,
        applied_lessons=applied,
        lessons_count=len(applied),
        # A change a person typed, as opposed to a lesson applied (the seed's two counters).
        manual_edits_count=base.manual_edits_count + (0 if lesson else 1),
        version=_version_text(number),
        version_number=number,
        status=Prompt.Status.DRAFT,
        is_live=False,
        previous_version=base,
        changes_summary=summary,
        created_at=at,
    )
    changes = {"type": "edited", "based_on": str(base.pk), "based_on_version": base.version, **changed}
    if lesson is not None:
        changes["lesson_id"] = str(lesson.pk)
    _record(
        prompt, changes=changes, summary=summary, actor=actor, at=at, lesson=lesson, created_by_type=created_by_type
    )
    return prompt


def prompt_draft_edit(*, prompt: Prompt, structure: dict, at: datetime) -> Prompt:
    """Changes a draft's text in place (a draft is work in progress); a live or archived row refuses."""
    with transaction.atomic():
        row = Prompt.objects.select_for_update().get(pk=prompt.pk)
        if row.status != Prompt.Status.DRAFT:
            raise PromptImmutable(
                f"{row.name} v{row.version} is {row.status}: its text never changes. Make a new draft from it."
            )
        row.prompt_structure = _copy_structure(structure)
        row.compiled_prompt = prompt_compile(row.prompt_structure)
        row.save(update_fields=["prompt_structure", "compiled_prompt", "updated_at"])
    return row


def _lock_chain(dataset_id) -> list[Prompt]:
    """Locks one chain: the dataset's row (so two first versions cannot take the same number), then every
    prompt row in key order (so two lockers never deadlock). The default's chain has no parent row to
    lock; the unique version number settles a race there."""
    if dataset_id is not None:
        list(Dataset.objects.select_for_update(no_key=True).filter(pk=dataset_id).values_list("pk"))
    return list(_chain(dataset_id).select_for_update().order_by("pk"))


def _make_live(prompt: Prompt, *, actor: User | None, at: datetime) -> tuple[Prompt, Prompt | None]:
    """Inside a transaction: the chain's live row archived, then `prompt` made live (in that order,
    since the unique index is checked statement by statement)."""
    rows = {row.pk: row for row in _lock_chain(prompt.dataset_id)}
    target = rows.get(prompt.pk)
    if target is None:
        raise Prompt.DoesNotExist(f"Prompt {prompt.pk} is gone.")
    if target.is_live:
        raise PromptRefused(f"{target.name} v{target.version} is already live.")
    previous = next((row for row in rows.values() if row.is_live), None)
    if previous is not None:
        Prompt.objects.filter(pk=previous.pk).update(is_live=False, status=Prompt.Status.ARCHIVED)
    Prompt.objects.filter(pk=target.pk).update(
        is_live=True, status=Prompt.Status.LIVE, deployed_at=at, deployed_by=actor
    )
    return Prompt.objects.get(pk=target.pk), previous


def _replaced(previous: Prompt | None) -> dict:
    return {"replaced": str(previous.pk), "replaced_version": previous.version} if previous else {}


@transaction.atomic
def prompt_go_live(*, prompt: Prompt, actor: User | None, at: datetime) -> Prompt:
    """Makes `prompt` the live row of its chain; the one it replaces is archived."""
    target, previous = _make_live(prompt, actor=actor, at=at)
    summary = f"v{target.version} went live" + (f", replacing v{previous.version}." if previous else ".")
    _record(target, changes={"type": "went_live", **_replaced(previous)}, summary=summary, actor=actor, at=at)
    return target


@transaction.atomic
def prompt_rollback(*, to: Prompt, actor: User | None, at: datetime, reason: str = "") -> Prompt:
    """Makes an earlier row of the chain live again (a row numbered below the live one)."""
    live = next((row for row in _lock_chain(to.dataset_id) if row.is_live), None)
    if live is not None and to.version_number >= live.version_number:
        raise PromptRefused(
            f"Rolling back goes to an earlier version than the live v{live.version}; v{to.version} is not one."
        )
    target, previous = _make_live(to, actor=actor, at=at)
    summary = f"Rolled back to v{target.version}" + (f" from v{previous.version}" if previous else "")
    summary += f": {reason}" if reason else "."
    _record(
        target,
        changes={"type": "rolled_back", **_replaced(previous), **({"reason": reason} if reason else {})},
        summary=summary,
        actor=actor,
        at=at,
    )
    return target
