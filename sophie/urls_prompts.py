"""Sophie › Prompts (included at /sophie/prompts/)."""

from django.urls import path

from sophie import prompt_pages as pages

urlpatterns = [
    path("", pages.prompt_list, name="sophie_prompts"),
    path("wizard/", pages.prompt_wizard, name="sophie_prompt_wizard"),
    path("templates/<uuid:pk>/start/", pages.template_start, name="sophie_template_start"),
    path("<uuid:pk>/", pages.prompt_detail, name="sophie_prompt"),
    path("<uuid:pk>/edit/", pages.prompt_edit, name="sophie_prompt_edit"),
    path("<uuid:pk>/diff/", pages.prompt_diff_view, name="sophie_prompt_diff"),
    path("<uuid:pk>/go-live/", pages.prompt_go_live_view, name="sophie_prompt_go_live"),
    path("<uuid:pk>/rollback/", pages.prompt_rollback_view, name="sophie_prompt_rollback"),
    path("<uuid:pk>/apply-lesson/", pages.prompt_apply_lesson, name="sophie_prompt_apply_lesson"),
    path("<uuid:pk>/save-template/", pages.prompt_save_template, name="sophie_prompt_save_template"),
    path("<uuid:pk>/trial/", pages.prompt_trial_start, name="sophie_prompt_trial"),
    path("trials/<uuid:pk>/stop/", pages.trial_stop_view, name="sophie_trial_stop"),
    path("trials/<uuid:pk>/promote/", pages.trial_promote_view, name="sophie_trial_promote"),
]
