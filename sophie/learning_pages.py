"""Sophie › Lessons and Sophie › Insights (docs/learning.md): the library and the review queue. Everyone
signed in reads; writing needs `can_edit_lessons` (clients/roles.py), checked again by every service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.roles import Action, can, require
from sophie.insights.review import (
    InsightRefused,
    insight_approve,
    insight_dismiss,
    insight_for,
    insight_teach,
    insight_view,
    insights_find,
    lesson_prefill,
)
from sophie.learning_forms import DismissForm, LessonForm, TeachForm
from sophie.lessons import (
    LessonRefused,
    lesson_archive,
    lesson_create,
    lesson_figures,
    lesson_tags,
    lesson_try,
    lesson_update,
    lessons_find,
)
from sophie.models import Insight, Lesson

PAGE_SIZE = 50


def _query(request) -> str:
    """The filters as a query string, without the page (the pager adds its own)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _frame(request, tab: str, **context) -> dict:
    return {"nav": "sophie", "tab": tab, "can_edit": can(request.user, Action.EDIT_LESSONS), **context}


@login_required
def sophie_home(request):
    return redirect("sophie_lessons")


# --- Lessons --------------------------------------------------------------------------------------


@login_required
def lesson_list(request):
    filters = {name: request.GET.get(name, "") for name in ("q", "lesson_type", "tag", "status")}
    page = Paginator(lessons_find(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = _frame(
        request,
        "lessons",
        page=page,
        filters=filters,
        types=Lesson.Type.choices,
        statuses=Lesson.Status.choices,
        tags=lesson_tags(),
        query=_query(request),
    )
    template = "sophie/lessons.html#lesson-table" if request.htmx else "sophie/lessons.html"
    return render(request, template, context)


@login_required
def lesson_new(request):
    require(request.user, Action.EDIT_LESSONS)
    form = LessonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lesson = lesson_create(actor=request.user, fields=form.lesson_fields())
        except LessonRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Lesson “{lesson.title}” saved: Sophie uses it from her next reply.")
            return redirect("sophie_lesson", pk=lesson.pk)
    return render(request, "sophie/lesson_form.html", _frame(request, "lessons", form=form, lesson=None))


@login_required
def lesson_detail(request, pk):
    """The lesson, its figures, the test box, and (for editors) the form."""
    lesson = get_object_or_404(Lesson, pk=pk)
    form = LessonForm(request.POST or None, initial=LessonForm.initial_from(_fields(lesson)))
    if request.method == "POST":
        require(request.user, Action.EDIT_LESSONS)
        if form.is_valid():
            try:
                lesson = lesson_update(lesson=lesson, actor=request.user, fields=form.lesson_fields())
            except LessonRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, "Lesson saved.")
                return redirect("sophie_lesson", pk=lesson.pk)
    context = _frame(request, "lessons", form=form, lesson=lesson, figures=lesson_figures(lesson.pk))
    return render(request, "sophie/lesson_form.html", context)


def _fields(lesson: Lesson) -> dict:
    names = ("lesson_type", "title", "description", "trigger", "correct_response", "incorrect_response")
    names += ("reasoning", "example_conversation", "tags", "priority", "status")
    return {name: getattr(lesson, name) for name in names}


@login_required
@require_POST
def lesson_archive_view(request, pk):
    lesson = get_object_or_404(Lesson, pk=pk)
    require(request.user, Action.EDIT_LESSONS)
    try:
        lesson_archive(lesson=lesson, actor=request.user)
    except LessonRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"“{lesson.title}” is archived: Sophie no longer uses it.")
    return redirect("sophie_lesson", pk=lesson.pk)


@login_required
@require_POST
def lesson_test(request, pk):
    """Runs the lesson against a sample reply; the result replaces #lesson-test (or the page without htmx)."""
    lesson = get_object_or_404(Lesson, pk=pk)
    sample = request.POST.get("sample", "")
    trial, error = None, ""
    try:
        trial = lesson_try(lesson=lesson, sample=sample, at=timezone.now())
    except LessonRefused as refused:
        error = str(refused)
    context = _frame(request, "lessons", lesson=lesson, trial=trial, test_error=error, sample=sample)
    if request.htmx:
        return render(request, "sophie/lesson_form.html#lesson-test", context)
    form = LessonForm(initial=LessonForm.initial_from(_fields(lesson)))
    return render(request, "sophie/lesson_form.html", {**context, "form": form, "figures": lesson_figures(lesson.pk)})


# --- Insights -------------------------------------------------------------------------------------


@login_required
def insight_list(request):
    filters = {name: request.GET.get(name, "") for name in ("status", "category", "severity", "insight_type", "q")}
    filters["status"] = filters["status"] or "open"
    page = Paginator(insights_find(user=request.user, **filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = _frame(
        request,
        "insights",
        page=page,
        filters=filters,
        categories=Insight.Category.choices,
        severities=Insight.Severity.choices,
        types=Insight.Type.choices,
        statuses=[("open", "Open"), ("closed", "Reviewed"), *Insight.Status.choices],
        query=_query(request),
    )
    template = "sophie/insights.html#insight-table" if request.htmx else "sophie/insights.html"
    return render(request, template, context)


@login_required
def insight_detail(request, pk):
    insight = insight_for(request.user, pk)
    if insight.status == Insight.Status.PENDING:
        insight_view(insight=insight, actor=request.user, at=timezone.now())
        insight.status = Insight.Status.VIEWED
    return render(request, "sophie/insight.html", _insight_context(request, insight))


def _insight_context(request, insight, *, lesson_form=None, teach_form=None) -> dict:
    return _frame(
        request,
        "insights",
        insight=insight,
        lesson_form=lesson_form or LessonForm(initial=LessonForm.initial_from(lesson_prefill(insight))),
        teach_form=teach_form or TeachForm(initial={"should_have_said": insight.suggested_text or ""}),
        dismiss_form=DismissForm(),
        is_open=insight.status in Insight.OPEN,
    )


def _closed(insight: Insight) -> bool:
    insight.refresh_from_db()
    return insight.status not in Insight.OPEN


def _refused(request, insight: Insight, refused: InsightRefused):
    """Someone reviewed it first: say so on the insight's page (which shows who and when)."""
    messages.error(request, str(refused))
    return redirect("sophie_insight", pk=insight.pk)


@login_required
@require_POST
def insight_approve_view(request, pk):
    insight = insight_for(request.user, pk)
    require(request.user, Action.EDIT_LESSONS)
    form = LessonForm(request.POST)
    if form.is_valid():
        try:
            fields = form.lesson_fields()
            lesson = insight_approve(insight=insight, actor=request.user, at=timezone.now(), fields=fields)
        except InsightRefused as refused:
            if _closed(insight):
                return _refused(request, insight, refused)
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Approved: Sophie learned “{lesson.title}”.")
            return redirect("sophie_insight", pk=insight.pk)
    return render(request, "sophie/insight.html", _insight_context(request, insight, lesson_form=form), status=400)


@login_required
@require_POST
def insight_teach_view(request, pk):
    insight = insight_for(request.user, pk)
    require(request.user, Action.EDIT_LESSONS)
    form = TeachForm(request.POST)
    if form.is_valid():
        try:
            lesson = insight_teach(
                insight=insight,
                actor=request.user,
                at=timezone.now(),
                should_have_said=form.cleaned_data["should_have_said"],
                title=form.cleaned_data["title"],
            )
        except InsightRefused as refused:
            if _closed(insight):
                return _refused(request, insight, refused)
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Sophie was taught: “{lesson.title}” is a new good example.")
            return redirect("sophie_insight", pk=insight.pk)
    return render(request, "sophie/insight.html", _insight_context(request, insight, teach_form=form), status=400)


@login_required
@require_POST
def insight_dismiss_view(request, pk):
    insight = insight_for(request.user, pk)
    require(request.user, Action.EDIT_LESSONS)
    try:
        feedback = request.POST.get("feedback", "")
        insight_dismiss(insight=insight, actor=request.user, at=timezone.now(), feedback=feedback)
    except InsightRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Dismissed.")
    return redirect("sophie_insights")
