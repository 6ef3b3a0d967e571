"""Sophie's section: /sophie/lessons/ and /sophie/insights/ (the prompts pages add their own module)."""

from django.urls import path

from sophie import learning_pages as pages

urlpatterns = [
    path("", pages.sophie_home, name="sophie"),
    path("lessons/", pages.lesson_list, name="sophie_lessons"),
    path("lessons/new/", pages.lesson_new, name="sophie_lesson_new"),
    path("lessons/<uuid:pk>/", pages.lesson_detail, name="sophie_lesson"),
    path("lessons/<uuid:pk>/archive/", pages.lesson_archive_view, name="sophie_lesson_archive"),
    path("lessons/<uuid:pk>/test/", pages.lesson_test, name="sophie_lesson_test"),
    path("insights/", pages.insight_list, name="sophie_insights"),
    path("insights/<uuid:pk>/", pages.insight_detail, name="sophie_insight"),
    path("insights/<uuid:pk>/approve/", pages.insight_approve_view, name="sophie_insight_approve"),
    path("insights/<uuid:pk>/teach/", pages.insight_teach_view, name="sophie_insight_teach"),
    path("insights/<uuid:pk>/dismiss/", pages.insight_dismiss_view, name="sophie_insight_dismiss"),
]
