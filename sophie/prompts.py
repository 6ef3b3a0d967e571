"""Sophie's prompts (docs/prompts.md): every row is one immutable version; these services are the only writers.

A dataset's rows and the client default's rows (dataset NULL) are two separate chains: `version_number`
counts within each, `previous_version` links an edit to what it was made from, and exactly one row per
chain is live (the partial unique constraint `prompts_one_live_per_dataset` is the backstop). Editing
makes a draft; going live and rolling back flip `is_live` in one transaction; every change writes one
PromptVersion row.
"""

import difflib
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Max, QuerySet

from clients.access import current_client
from clients.models import Client, User
from leads.models import Dataset
from sophie.models import Lesson, Prompt, PromptImmutable, PromptTemplate, PromptTrial, PromptVersion
from sophie.performance import prompt_metrics_cache, prompt_performance

# The seed's section order; jsonb does not keep key order, so compiling always follows this list.
SECTION_ORDER = ("context", "goal", "tone", "knowledge", "objections", "boundaries")
DEFAULT_NAME = "Client default"
SECTION_LABELS = {
    "context": "Context",
    "goal": "Goal",
    "tone": "Tone",
    "knowledge": "Knowledge",
    "objections": "Objections",
    "boundaries": "Boundaries",
}
# Where a section's text came from (shown beside it in the editor).
SOURCE_LABELS = {
    "system": "Platform template",
    "template": "Template",
    "wizard": "Wizard answer",
    "lesson": "Lesson",
    "staff_edit": "Staff edit",
}
# A section longer than this is a pasted document, not instructions: the whole prompt must fit a model's
# context beside the thread and the lessons, and every character is paid for on every reply.
MAX_SECTION_CHARS = 8_000
# Unset means "do not check which row was live" (admin actions, the demo); the pages and the API pass it.
UNCHECKED = object()


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
    performance_before: dict | None = None,
) -> PromptVersion:
    return PromptVersion.objects.create(
        performance_before=performance_before,
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
    # F(): two drafts started from one template at once both count.
    PromptTemplate.objects.filter(pk=template.pk).update(times_used=F("times_used") + 1)


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
    created_from: str | None = None,
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
    structure_check(structure)
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
        created_from=created_from or (Prompt.CreatedFrom.COPIED if from_prompt else Prompt.CreatedFrom.TEMPLATE),
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
    created_from: str | None = None,
    wizard_answers: dict | None = None,
    template: PromptTemplate | None = None,
) -> Prompt:
    """An edit: a new draft row in `base`'s chain with the next number, pointing back at `base`."""
    structure_check(structure)
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
        created_from=created_from or base.created_from,
        template=template or base.template,
        copied_from_prompt=base.copied_from_prompt,
        wizard_answers=wizard_answers if wizard_answers is not None else base.wizard_answers,
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
    structure_check(structure)
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


def _refuse_archived_dataset(prompt: Prompt, doing: str) -> None:
    dataset = Dataset.objects.filter(pk=prompt.dataset_id).values("name", "archived").first()
    if dataset and dataset["archived"]:
        raise PromptRefused(
            f"The dataset {dataset['name']} is archived, so its prompt cannot be {doing}. "
            "Restore the dataset first; nothing was changed."
        )


def _make_live(
    prompt: Prompt, *, actor: User | None, at: datetime, replacing=UNCHECKED
) -> tuple[Prompt, Prompt | None]:
    """Inside a transaction: the chain's live row archived, then `prompt` made live (in that order,
    since the unique index is checked statement by statement).

    `replacing` is the live row's id the person saw (None: none was live): if another person changed the
    live row since, this one is refused, so of two people going live at once exactly one wins."""
    rows = {row.pk: row for row in _lock_chain(prompt.dataset_id)}
    target = rows.get(prompt.pk)
    if target is None:
        raise Prompt.DoesNotExist(f"Prompt {prompt.pk} is gone.")
    if target.is_live:
        raise PromptRefused(f"{target.name} v{target.version} is already live.")
    previous = next((row for row in rows.values() if row.is_live), None)
    if replacing is not UNCHECKED and str(replacing or "") != str(previous.pk if previous else ""):
        now_live = f"v{previous.version}" if previous else "no version"
        raise PromptRefused(
            f"Someone else changed the live version while you were looking: {now_live} is live now. "
            f"v{target.version} did not go live; check the versions and try again."
        )
    if previous is not None:
        Prompt.objects.filter(pk=previous.pk).update(is_live=False, status=Prompt.Status.ARCHIVED)
    Prompt.objects.filter(pk=target.pk).update(
        is_live=True, status=Prompt.Status.LIVE, deployed_at=at, deployed_by=actor
    )
    _trial_end_on_live_change(target, actor=actor, at=at)
    return Prompt.objects.get(pk=target.pk), previous


def _trial_end_on_live_change(target: Prompt, *, actor: User | None, at: datetime) -> None:
    """A dataset's running trial compares a version with the live one: a new live row ends it (made live
    when the trial's own version went live, else stopped)."""
    if target.dataset_id is None:
        # Trials whose control is the client default compare against a version no longer used.
        PromptTrial.objects.filter(status=PromptTrial.Status.RUNNING, control__dataset__isnull=True).update(
            status=PromptTrial.Status.STOPPED,
            ended_at=at,
            ended_by=actor,
            end_reason=f"Stopped: the client default changed to v{target.version}.",
        )
        return
    running = PromptTrial.objects.filter(dataset_id=target.dataset_id, status=PromptTrial.Status.RUNNING)
    promoted = running.filter(candidate=target).update(
        status=PromptTrial.Status.PROMOTED, ended_at=at, ended_by=actor, end_reason="The trial version was made live."
    )
    if not promoted:
        running.update(
            status=PromptTrial.Status.STOPPED,
            ended_at=at,
            ended_by=actor,
            end_reason=f"Stopped: v{target.version} went live instead.",
        )


def _replaced(previous: Prompt | None) -> dict:
    return {"replaced": str(previous.pk), "replaced_version": previous.version} if previous else {}


def _figures_of_replaced(previous: Prompt | None) -> dict | None:
    """The replaced version's figures at the moment it stopped (kept on the version record as
    `performance_before`), and its metric columns refreshed: they are a cache of the selector."""
    if previous is None:
        return None
    figures = prompt_performance(prompt=previous)
    prompt_metrics_cache(prompt=previous, performance=figures)
    return figures.as_dict()


@transaction.atomic
def prompt_go_live(*, prompt: Prompt, actor: User | None, at: datetime, replacing=UNCHECKED) -> Prompt:
    """Makes `prompt` the live row of its chain; the one it replaces is archived. With `replacing` (the
    live row's id the person saw, or None), a live row changed meanwhile refuses (see `_make_live`)."""
    _refuse_archived_dataset(prompt, "made live")
    target, previous = _make_live(prompt, actor=actor, at=at, replacing=replacing)
    summary = f"v{target.version} went live" + (f", replacing v{previous.version}." if previous else ".")
    _record(
        target,
        changes={"type": "went_live", **_replaced(previous)},
        summary=summary,
        actor=actor,
        at=at,
        performance_before=_figures_of_replaced(previous),
    )
    return target


@transaction.atomic
def prompt_rollback(*, to: Prompt, actor: User | None, at: datetime, reason: str = "", replacing=UNCHECKED) -> Prompt:
    """Makes an earlier row of the chain live again (a row numbered below the live one)."""
    _refuse_archived_dataset(to, "rolled back")
    if to.status == Prompt.Status.DRAFT:
        raise PromptRefused(f"v{to.version} is a draft that was never live: make it live instead of rolling back.")
    live = next((row for row in _lock_chain(to.dataset_id) if row.is_live), None)
    if live is not None and to.version_number >= live.version_number:
        raise PromptRefused(
            f"Rolling back goes to an earlier version than the live v{live.version}; v{to.version} is not one."
        )
    target, previous = _make_live(to, actor=actor, at=at, replacing=replacing)
    summary = f"Rolled back to v{target.version}" + (f" from v{previous.version}" if previous else "")
    summary += f": {reason}" if reason else "."
    _record(
        target,
        changes={"type": "rolled_back", **_replaced(previous), **({"reason": reason} if reason else {})},
        summary=summary,
        actor=actor,
        at=at,
        performance_before=_figures_of_replaced(previous),
    )
    return target


# --- Checking a structure ------------------------------------------------------------------


def structure_problems(structure: dict) -> dict[str, str]:
    """Section name -> what is wrong with it, for the person editing (empty when it may be saved)."""
    problems = {}
    if not isinstance(structure, dict) or not structure:
        return {"": "A prompt needs at least one section."}
    for name, section in structure.items():
        label = SECTION_LABELS.get(name, str(name))
        text = _content(section)
        if len(text) > MAX_SECTION_CHARS:
            problems[name] = (
                f"{label} is {len(text):,} characters; a section may have at most {MAX_SECTION_CHARS:,}. "
                "Keep instructions short and put long documents in the knowledge base of the team, not the prompt."
            )
    if not any(_content(section).strip() for section in structure.values()):
        problems[""] = "Every section is empty: Sophie would have no instructions."
    return problems


def structure_check(structure: dict) -> None:
    """Refuses a structure with a problem (one message listing them all)."""
    problems = structure_problems(structure)
    if problems:
        raise PromptRefused(" ".join(problems.values()))


def _section(content: str, source: str, why: str) -> dict:
    return {"content": content.strip(), "source": source, "why": why}


# --- Where a new draft goes ------------------------------------------------------------------


def chain_head(dataset_id) -> Prompt | None:
    """What a new draft of a chain is made from: its live row, else its newest row."""
    rows = _chain(dataset_id)
    return rows.filter(is_live=True).first() or rows.order_by("-version_number").first()


def _draft_in_chain(
    *,
    dataset: Dataset | None,
    structure: dict,
    actor: User | None,
    at: datetime,
    summary: str,
    created_from: str,
    wizard_answers: dict | None = None,
    template: PromptTemplate | None = None,
) -> Prompt:
    """A draft for a dataset (or the client default): after the chain's head, or starting the dataset's chain."""
    head = chain_head(dataset.pk if dataset else None)
    if head is None and dataset is not None:
        return prompt_for_dataset_create(
            dataset=dataset,
            actor=actor,
            at=at,
            template=template,
            structure=structure,
            wizard_answers=wizard_answers,
            summary=summary,
            created_from=created_from,
        )
    head = head or prompt_default_create(at=at)
    draft = prompt_draft_create(
        base=head,
        structure=structure,
        actor=actor,
        at=at,
        summary=summary,
        created_from=created_from,
        wizard_answers=wizard_answers,
        template=template,
    )
    if template is not None:
        _template_used(template)
    return draft


# --- The wizard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WizardAnswers:
    """What the wizard asks; each answer becomes part of a section (its source is "wizard")."""

    company: str
    offer: str
    audience: str
    lead_age: str
    tone: str
    goal: str
    booking_link: str = ""
    never_say: str = ""  # one thing per line

    FIELDS = ("company", "offer", "audience", "lead_age", "tone", "goal", "booking_link", "never_say")
    REQUIRED = ("company", "offer", "audience", "lead_age", "tone", "goal")
    MAX_CHARS = 2_000

    @classmethod
    def from_data(cls, data) -> "WizardAnswers":
        return cls(**{name: str(data.get(name) or "").strip() for name in cls.FIELDS})

    def problems(self) -> dict[str, str]:
        """Field -> message, for the form."""
        problems = {name: "Please answer this." for name in self.REQUIRED if not getattr(self, name)}
        for name in self.FIELDS:
            if len(getattr(self, name)) > self.MAX_CHARS:
                problems[name] = f"Keep this under {self.MAX_CHARS:,} characters."
        link = self.booking_link
        if link and not (link.startswith("https://") or link.startswith("http://")) and link != "{booking_link}":
            problems["booking_link"] = "A booking link starts with https:// (or leave it empty)."
        return problems

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}


def wizard_structure(answers: WizardAnswers) -> dict:
    """The six sections from the wizard's answers; knowledge and objections start from the client's
    template so the wizard never drops the platform's facts and objection handling."""
    base = template_for_client(current_client()).template_structure
    booking = answers.booking_link or "{booking_link}"
    never = [line.strip(" -•\t") for line in answers.never_say.splitlines() if line.strip(" -•\t")]
    boundaries = _content(base.get("boundaries", ""))
    if never:
        boundaries = "\n".join([*(f"- Never say: {line}" for line in never), boundaries])
    return {
        "context": _section(
            f"You are {{agent_name}}, an automated assistant texting for {answers.company}. "
            f"{answers.company} offers: {answers.offer}.\n"
            f"The people you text: {answers.audience}. They enquired {answers.lead_age} ago and did not go ahead.",
            "wizard",
            "From the wizard: company, offer, audience and lead age. Tells Sophie who she is and who she texts.",
        ),
        "goal": _section(
            f"{answers.goal}\nWhen they want to talk, offer the booking link {booking} or two time slots. "
            "A no or a later is a fine outcome: close politely.",
            "wizard",
            "From the wizard: the goal and booking link. The one outcome every reply works towards.",
        ),
        "tone": _section(
            f"- {answers.tone}\n{_content(base.get('tone', ''))}",
            "wizard",
            "From the wizard: the tone, followed by the platform's SMS style rules.",
        ),
        "knowledge": _section(
            _content(base.get("knowledge", "")),
            "template",
            "From the client's template: facts Sophie may use. Add the company's own facts in the editor.",
        ),
        "objections": _section(
            _content(base.get("objections", "")),
            "template",
            "From the client's template: how to answer the common objections.",
        ),
        "boundaries": _section(
            boundaries,
            "wizard" if never else "template",
            "From the wizard's 'never say' list, followed by the platform's compliance limits."
            if never
            else "The platform's compliance limits (the wizard's 'never say' list was empty).",
        ),
    }


def prompt_from_wizard_create(
    *, dataset: Dataset | None, answers: WizardAnswers, actor: User | None, at: datetime
) -> Prompt:
    """Saves the wizard's prompt as a draft for a dataset or the client default (never live by itself)."""
    problems = answers.problems()
    if problems:
        raise PromptRefused("Some answers are missing or too long: " + ", ".join(sorted(problems)) + ".")
    return _draft_in_chain(
        dataset=dataset,
        structure=wizard_structure(answers),
        actor=actor,
        at=at,
        summary="Written with the wizard.",
        created_from=Prompt.CreatedFrom.WIZARD,
        wizard_answers=answers.as_dict(),
    )


# --- Templates -------------------------------------------------------------------------------


def templates_available():
    """Active templates: the system library (seeded in every client) and the client's own."""
    return PromptTemplate.objects.filter(is_active=True).order_by("-is_system_template", "name")


def prompt_from_template_create(
    *, template: PromptTemplate, dataset: Dataset | None, actor: User | None, at: datetime
) -> Prompt:
    """A draft from a template; the template's `times_used` goes up by one."""
    if not template.is_active:
        raise PromptRefused(f"The template {template.name!r} is no longer offered.")
    structure = {
        name: {**section, "source": "template", "why": section.get("why") or f"From the template {template.name!r}."}
        if isinstance(section, dict)
        else _section(str(section), "template", f"From the template {template.name!r}.")
        for name, section in template.template_structure.items()
    }
    return _draft_in_chain(
        dataset=dataset,
        structure=structure,
        actor=actor,
        at=at,
        summary=f"Started from the template {template.name!r}.",
        created_from=Prompt.CreatedFrom.TEMPLATE,
        template=template,
    )


def template_from_prompt_create(*, prompt: Prompt, name: str, description: str, actor: User | None) -> PromptTemplate:
    """Keeps a version as one of the client's own templates."""
    name = (name or "").strip()
    if not name:
        raise PromptRefused("A template needs a name.")
    if PromptTemplate.objects.filter(name__iexact=name, is_system_template=False).exists():
        raise PromptRefused(f"You already have a template called {name!r}.")
    return PromptTemplate.objects.create(
        name=name,
        description=(description or "").strip() or f"Saved from {prompt.name} v{prompt.version}.",
        category=prompt.template.category if prompt.template else PromptTemplate.Category.GENERAL,
        template_structure=_copy_structure(prompt.prompt_structure),
        industry=current_client().industry or "general",
        default_wizard_answers=prompt.wizard_answers,
        included_lessons_count=len(prompt.applied_lessons or []),
        is_system_template=False,
        is_active=True,
    )


# --- The editor ------------------------------------------------------------------------------


def prompt_sections_save(
    *, base: Prompt, contents: dict[str, str], why: str, actor: User | None, at: datetime
) -> Prompt:
    """The editor's save: a new draft after `base` with the changed sections marked as staff edits (the
    row `base` is never changed). `why` is the person's reason, kept with each changed section."""
    structure = _copy_structure(base.prompt_structure)
    changed = []
    for name, text in contents.items():
        text = (text or "").replace("\r\n", "\n").strip()
        if name not in structure or _content(structure[name]) == text:
            continue
        who = (actor.get_full_name() or actor.email) if actor else "staff"
        structure[name] = _section(text, "staff_edit", (why or "").strip() or f"Edited by {who}.")
        changed.append(SECTION_LABELS.get(name, name))
    if not changed:
        raise PromptRefused("Nothing changed: edit a section before saving a new version.")
    summary = f"Edited {', '.join(changed)}" + (f": {why.strip()}" if (why or "").strip() else ".")
    return prompt_draft_create(
        base=base, structure=structure, actor=actor, at=at, summary=summary, created_from=Prompt.CreatedFrom.MANUAL
    )


# --- Applying a lesson -------------------------------------------------------------------------

# Which section a lesson of each type changes, and the line it adds there.
LESSON_SECTION = {
    Lesson.Type.OBJECTION_HANDLING: "objections",
    Lesson.Type.DOS_DONTS: "tone",
    Lesson.Type.EXAMPLE_GOOD: "tone",
    Lesson.Type.EXAMPLE_BAD: "boundaries",
    Lesson.Type.BLACKLIST_WORD: "boundaries",
    Lesson.Type.NEVER_RULE: "boundaries",
    Lesson.Type.BEST_PRACTICE: "goal",
}


def lesson_line(lesson: Lesson) -> str:
    """The instruction a lesson adds to its section, in the words the agent reads."""
    kind = lesson.lesson_type
    trigger, good, bad = (
        (lesson.trigger or "").strip(),
        (lesson.correct_response or "").strip(),
        (lesson.incorrect_response or "").strip(),
    )
    if kind == Lesson.Type.BLACKLIST_WORD:
        return f"- Never use the word or phrase: {lesson.title.strip()}."
    if kind == Lesson.Type.NEVER_RULE:
        return f"- Never: {lesson.title.strip()}." + (f" {lesson.description.strip()}" if lesson.description else "")
    if kind == Lesson.Type.EXAMPLE_BAD:
        return f'- Do not write like this: "{bad or lesson.title.strip()}"' + (f" ({trigger})" if trigger else "")
    line = f"- {lesson.title.strip().rstrip('.')}."
    if trigger:
        line += f" When: {trigger.rstrip('.')}."
    if good:
        line += f' Answer like: "{good}"'
    if bad:
        line += f' Not like: "{bad}"'
    return line


@transaction.atomic
def prompt_lesson_apply(*, base: Prompt, lesson: Lesson, actor: User | None, at: datetime) -> Prompt:
    """A new draft after `base` with the lesson written into its section; the version row records the lesson
    and the section it changed. An archived lesson, or one already in `base`, is refused."""
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    if lesson.status == Lesson.Status.ARCHIVED:
        raise PromptRefused(f"The lesson {lesson.title!r} is archived: restore it before applying it to a prompt.")
    if lesson.pk in (base.applied_lessons or []):
        raise PromptRefused(f"v{base.version} already includes the lesson {lesson.title!r}.")
    name = LESSON_SECTION.get(lesson.lesson_type, "boundaries")
    structure = _copy_structure(base.prompt_structure)
    current = _content(structure.get(name, ""))
    structure[name] = _section(
        f"{current}\n{lesson_line(lesson)}".strip(), "lesson", f"Lesson applied: {lesson.title.strip()}"
    )
    label = SECTION_LABELS.get(name, name)
    return prompt_draft_create(
        base=base,
        structure=structure,
        actor=actor,
        at=at,
        summary=f"Applied the lesson {lesson.title.strip()!r} to {label}.",
        lesson=lesson,
    )


# --- Comparing two versions --------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    kind: str  # same | changed | removed | added | skip (a run of unchanged lines, `left` says how many)
    left: str | None
    right: str | None
    left_no: int | None
    right_no: int | None


@dataclass(frozen=True)
class SectionDiff:
    name: str
    label: str
    changed: bool
    rows: tuple[DiffRow, ...]


def prompt_diff(old: Prompt, new: Prompt) -> list[SectionDiff]:
    """Line by line, section by section, side by side (difflib); pure, for the versions page."""
    before, after = prompt_sections(old.prompt_structure or {}), prompt_sections(new.prompt_structure or {})
    names = [*before, *(name for name in after if name not in before)]
    return [_section_diff(name, before.get(name, ""), after.get(name, "")) for name in names]


def _section_diff(name: str, old: str, new: str, context: int = 2) -> SectionDiff:
    """Changed lines with `context` unchanged lines around them; longer unchanged runs become one "skip" row."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    groups = list(matcher.get_grouped_opcodes(context)) if old != new else []
    shown_a = 0
    for group in groups:
        first = group[0][1]
        if first > shown_a:
            rows.append(DiffRow("skip", f"{first - shown_a} unchanged lines", None, None, None))
        for op, i1, i2, j1, j2 in group:
            rows += _diff_rows(op, a, b, i1, i2, j1, j2)
        shown_a = group[-1][2]
    if groups and shown_a < len(a):
        rows.append(DiffRow("skip", f"{len(a) - shown_a} unchanged lines", None, None, None))
    return SectionDiff(name, SECTION_LABELS.get(name, name.title()), old != new, tuple(rows))


def _diff_rows(op: str, a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int) -> list[DiffRow]:
    if op == "equal":
        return [DiffRow("same", a[i], b[j], i + 1, j + 1) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
    left, right = list(range(i1, i2)), list(range(j1, j2))
    rows = []
    for k in range(max(len(left), len(right))):
        i = left[k] if k < len(left) else None
        j = right[k] if k < len(right) else None
        kind = "changed" if i is not None and j is not None else ("removed" if j is None else "added")
        rows.append(
            DiffRow(
                kind,
                a[i] if i is not None else None,
                b[j] if j is not None else None,
                i + 1 if i is not None else None,
                j + 1 if j is not None else None,
            )
        )
    return rows
