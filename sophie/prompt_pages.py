"""Sophie › Prompts pages (docs/prompts.md): the list, the wizard, templates, the editor, versions with their
diff, go live and roll back, apply a lesson, performance and trials. Every write is a service in
sophie/prompts.py or sophie/trials.py; everyone signed in reads, `edit_prompts` writes."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.roles import Action, can, require
from leads.models import Dataset
from leads.selectors import datasets_visible_to
from sophie.agent import agent_preview
from sophie.models import Lesson, Prompt, PromptTemplate, PromptTrial
from sophie.performance import MIN_SAMPLE, prompt_performance, versions_charted, versions_performance
from sophie.prompts import (
    SECTION_LABELS,
    SOURCE_LABELS,
    PromptRefused,
    WizardAnswers,
    chain_head,
    prompt_diff,
    prompt_from_template_create,
    prompt_from_wizard_create,
    prompt_go_live,
    prompt_lesson_apply,
    prompt_rollback,
    prompt_sections,
    prompt_sections_save,
    structure_problems,
    template_from_prompt_create,
    templates_available,
    wizard_structure,
)
from sophie.selectors import agent_inputs, prompts_visible_to
from sophie.trials import TrialRefused, trial_comparison, trial_promote, trial_running, trial_start, trial_stop


def prompt_for(user, pk) -> Prompt:
    return get_object_or_404(prompts_visible_to(user).select_related("dataset", "previous_version"), pk=pk)


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value or "")))
    except ValueError:
        return None


def _dataset_choice(user, value) -> Dataset | None:
    """The dataset named in a form ("" = the client default); one the user cannot see is a 404."""
    if not value:
        return None
    return get_object_or_404(datasets_visible_to(user), pk=_uuid(value) or "00000000-0000-0000-0000-000000000000")


def _chain(prompt: Prompt):
    rows = (
        Prompt.objects.filter(dataset_id=prompt.dataset_id)
        if prompt.dataset_id
        else Prompt.objects.filter(dataset__isnull=True)
    )
    return rows.select_related("deployed_by").order_by("-version_number")


@login_required
def prompt_list(request):
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("name")
    chains = [("Client default", None, chain_head(None))]
    chains += [(dataset.name, dataset, chain_head(dataset.pk)) for dataset in datasets]
    rows = []
    for label, dataset, head in chains:
        uses = agent_inputs(dataset=dataset, at=timezone.now()).prompt
        rows.append(
            {
                "label": label,
                "dataset": dataset,
                "head": head,
                "uses": uses,
                "drafts": Prompt.objects.filter(dataset=dataset, status=Prompt.Status.DRAFT).count(),
                "trial": trial_running(dataset=dataset),
            }
        )
    return render(
        request,
        "sophie/prompt_list.html",
        {
            "nav": "sophie",
            "rows": rows,
            "templates": templates_available(),
            "datasets": datasets,
            "can_edit": can(request.user, Action.EDIT_PROMPTS),
        },
    )


@login_required
def prompt_wizard(request):
    """GET the questions; POST "preview" shows the sections and three sample answers; POST "save" saves a
    draft. Nothing is saved before "save"."""
    require(request.user, Action.EDIT_PROMPTS)
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("name")
    answers = WizardAnswers.from_data(request.POST) if request.method == "POST" else None
    context = {"nav": "sophie", "datasets": datasets, "answers": answers, "dataset_value": request.POST.get("dataset")}
    if answers is None:
        context["answers"] = WizardAnswers.from_data({})
        return render(request, "sophie/prompt_wizard.html", context)
    dataset = _dataset_choice(request.user, request.POST.get("dataset"))
    problems = answers.problems()
    if problems:
        return render(request, "sophie/prompt_wizard.html", context | {"problems": problems}, status=400)
    structure = wizard_structure(answers)
    if request.POST.get("action") == "save":
        try:
            draft = prompt_from_wizard_create(dataset=dataset, answers=answers, actor=request.user, at=timezone.now())
        except PromptRefused as refused:
            return render(request, "sophie/prompt_wizard.html", context | {"error": str(refused)}, status=400)
        messages.success(request, f"Saved as draft v{draft.version}. Check it, then make it live or put it on trial.")
        return redirect("sophie_prompt", pk=draft.pk)
    preview = agent_preview(structure=structure, dataset=dataset, at=timezone.now())
    return render(
        request,
        "sophie/prompt_wizard.html",
        context | {"sections": _sections(structure), "preview": preview},
    )


@login_required
@require_POST
def template_start(request, pk):
    require(request.user, Action.EDIT_PROMPTS)
    template = get_object_or_404(PromptTemplate, pk=pk)
    dataset = _dataset_choice(request.user, request.POST.get("dataset"))
    try:
        draft = prompt_from_template_create(template=template, dataset=dataset, actor=request.user, at=timezone.now())
    except PromptRefused as refused:
        messages.error(request, str(refused))
        return redirect("sophie_prompts")
    messages.success(request, f"Draft v{draft.version} started from {template.name!r}.")
    return redirect("sophie_prompt", pk=draft.pk)


def _sections(structure: dict) -> list[dict]:
    texts = prompt_sections(structure)
    return [
        {
            "name": name,
            "label": SECTION_LABELS.get(name, name.title()),
            "content": text,
            "source": SOURCE_LABELS.get((structure.get(name) or {}).get("source", ""), "—")
            if isinstance(structure.get(name), dict)
            else "—",
            "why": (structure.get(name) or {}).get("why", "") if isinstance(structure.get(name), dict) else "",
        }
        for name, text in texts.items()
    ]


@login_required
def prompt_detail(request, pk):
    prompt = prompt_for(request.user, pk)
    chain = list(_chain(prompt))
    live = next((row for row in chain if row.is_live), None)
    performance = prompt_performance(prompt=prompt)
    history = versions_performance(versions_charted(prompt=prompt, chain=chain))
    trial = trial_running(dataset=prompt.dataset)
    past_trials = PromptTrial.objects.filter(Q(candidate=prompt) | Q(control=prompt)).exclude(
        status=PromptTrial.Status.RUNNING
    )
    return render(
        request,
        "sophie/prompt_detail.html",
        {
            "nav": "sophie",
            "prompt": prompt,
            "sections": _sections(prompt.prompt_structure or {}),
            "chain": chain,
            "live": live,
            "uses_now": agent_inputs(dataset=prompt.dataset, at=timezone.now()).prompt,
            "performance": performance,
            "chart": _chart(history, current=prompt.pk),
            "minimum": MIN_SAMPLE,
            "trial": trial,
            "comparison": trial_comparison(trial=trial) if trial else None,
            "past_trials": [(t, trial_comparison(trial=t)) for t in past_trials],
            "lessons": Lesson.objects.filter(status=Lesson.Status.ACTIVE)
            .exclude(pk__in=prompt.applied_lessons or [])
            .order_by("-priority", "title"),
            "applied": Lesson.objects.filter(pk__in=prompt.applied_lessons or []).order_by("title"),
            "records": prompt.versions.select_related("lesson_applied", "created_by").order_by("-created_at"),
            "can_edit": can(request.user, Action.EDIT_PROMPTS),
        },
    )


# The chart: reply rate per version with its 95% interval, drawn as SVG on the server.
CHART_W, CHART_H, CHART_PAD = 480, 180, 32


def _chart(history, *, current) -> dict:
    points = []
    step = (CHART_W - 2 * CHART_PAD) / max(len(history), 1)
    for i, perf in enumerate(history):
        rate = perf.reply_rate
        x = CHART_PAD + step * (i + 0.5)
        low, high = rate.interval

        def y(value):
            return CHART_H - CHART_PAD - value * (CHART_H - 2 * CHART_PAD)

        points.append(
            {
                "perf": perf,
                "x": round(x, 1),
                "y": round(y(rate.value), 1) if rate.value is not None else None,
                "y_low": round(y(low), 1),
                "y_high": round(y(high), 1),
                "enough": rate.enough,
                "current": perf.prompt_id == current,
            }
        )
    grid = [
        {"label": f"{pct}%", "y": round(CHART_H - CHART_PAD - pct / 100 * (CHART_H - 2 * CHART_PAD), 1)}
        for pct in (0, 50, 100)
    ]
    return {"points": points, "grid": grid, "w": CHART_W, "h": CHART_H, "pad": CHART_PAD}


@login_required
def prompt_edit(request, pk):
    """The editor: each section with its source and why; saving makes a new draft after this version."""
    prompt = prompt_for(request.user, pk)
    require(request.user, Action.EDIT_PROMPTS)
    sections = _sections(prompt.prompt_structure or {})
    if request.method != "POST":
        return render(request, "sophie/prompt_edit.html", {"nav": "sophie", "prompt": prompt, "sections": sections})
    contents = {s["name"]: request.POST.get(f"section_{s['name']}", s["content"]) for s in sections}
    why = request.POST.get("why", "")
    candidate = {name: {"content": text} for name, text in contents.items()}
    problems = structure_problems(candidate)
    error = None
    if not problems:
        try:
            draft = prompt_sections_save(base=prompt, contents=contents, why=why, actor=request.user, at=timezone.now())
        except PromptRefused as refused:
            error = str(refused)
        else:
            messages.success(request, f"Saved as draft v{draft.version}. Compare it, then make it live.")
            return redirect("sophie_prompt_diff", pk=draft.pk)
    for section in sections:
        section["content"] = contents[section["name"]]
        section["problem"] = problems.get(section["name"], "")
    return render(
        request,
        "sophie/prompt_edit.html",
        {"nav": "sophie", "prompt": prompt, "sections": sections, "why": why, "error": error or problems.get("")},
        status=400,
    )


@login_required
def prompt_diff_view(request, pk):
    prompt = prompt_for(request.user, pk)
    chain = list(_chain(prompt))
    against_pk = request.GET.get("against")
    if against_pk:
        against = next((row for row in chain if str(row.pk) == against_pk), None)
        if against is None:
            raise Http404("That version is not in this prompt's history.")
    else:
        against = prompt.previous_version or next((r for r in chain if r.version_number < prompt.version_number), None)
    return render(
        request,
        "sophie/prompt_diff.html",
        {
            "nav": "sophie",
            "prompt": prompt,
            "against": against,
            "chain": chain,
            "diff": prompt_diff(against, prompt) if against else None,
            "live": next((row for row in chain if row.is_live), None),
            "can_edit": can(request.user, Action.EDIT_PROMPTS),
        },
    )


def _act(request, prompt: Prompt, change, done: str):
    """Runs one service for the prompt page and comes back to it with what happened."""
    require(request.user, Action.EDIT_PROMPTS)
    try:
        result = change()
    except (PromptRefused, TrialRefused) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done.format(result=result))
    return redirect("sophie_prompt", pk=prompt.pk)


def _replacing(request):
    # The live version the person saw when they pressed the button ("" = none was live).
    return request.POST.get("replacing", "") or None


@login_required
@require_POST
def prompt_go_live_view(request, pk):
    prompt = prompt_for(request.user, pk)
    return _act(
        request,
        prompt,
        lambda: prompt_go_live(prompt=prompt, actor=request.user, at=timezone.now(), replacing=_replacing(request)),
        "v{result.version} is live: Sophie uses it from her next reply.",
    )


@login_required
@require_POST
def prompt_rollback_view(request, pk):
    prompt = prompt_for(request.user, pk)
    reason = request.POST.get("reason", "")
    return _act(
        request,
        prompt,
        lambda: prompt_rollback(
            to=prompt, actor=request.user, at=timezone.now(), reason=reason, replacing=_replacing(request)
        ),
        "Rolled back: v{result.version} is live again.",
    )


@login_required
@require_POST
def prompt_apply_lesson(request, pk):
    prompt = prompt_for(request.user, pk)
    require(request.user, Action.EDIT_PROMPTS)
    lesson_pk = _uuid(request.POST.get("lesson"))
    lesson = Lesson.objects.filter(pk=lesson_pk).first() if lesson_pk else None
    if lesson is None:
        messages.error(request, "Choose a lesson to apply.")
        return redirect("sophie_prompt", pk=prompt.pk)
    try:
        draft = prompt_lesson_apply(base=prompt, lesson=lesson, actor=request.user, at=timezone.now())
    except PromptRefused as refused:
        messages.error(request, str(refused))
        return redirect("sophie_prompt", pk=prompt.pk)
    messages.success(request, f"Draft v{draft.version} has the lesson {lesson.title!r}. Here is what changed.")
    return redirect("sophie_prompt_diff", pk=draft.pk)


@login_required
@require_POST
def prompt_save_template(request, pk):
    prompt = prompt_for(request.user, pk)
    return _act(
        request,
        prompt,
        lambda: template_from_prompt_create(
            prompt=prompt,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            actor=request.user,
        ),
        "Saved as your template {result.name!r}: start new prompts from it on the Prompts page.",
    )


@login_required
@require_POST
def prompt_trial_start(request, pk):
    prompt = prompt_for(request.user, pk)
    return _act(
        request,
        prompt,
        lambda: trial_start(
            prompt=prompt, share_percent=request.POST.get("share", ""), actor=request.user, at=timezone.now()
        ),
        "Trial started: v{result.candidate.version} answers {result.share_percent}% of new conversations.",
    )


def _trial_for(request, pk) -> PromptTrial:
    trial = get_object_or_404(PromptTrial.objects.select_related("candidate", "control"), pk=pk)
    prompt_for(request.user, trial.candidate_id)  # 404 unless the user may see the dataset
    return trial


@login_required
@require_POST
def trial_stop_view(request, pk):
    trial = _trial_for(request, pk)
    return _act(
        request,
        trial.candidate,
        lambda: trial_stop(trial=trial, actor=request.user, at=timezone.now(), reason=request.POST.get("reason", "")),
        "Trial stopped: every conversation uses the live version from its next reply.",
    )


@login_required
@require_POST
def trial_promote_view(request, pk):
    trial = _trial_for(request, pk)
    return _act(
        request,
        trial.candidate,
        lambda: trial_promote(trial=trial, actor=request.user, at=timezone.now()),
        "v{result.version} is live for every conversation; the trial is closed.",
    )
