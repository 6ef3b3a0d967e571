"""Forms of Sophie's learning pages: shapes and labels only; what a lesson may hold is sophie/lessons.py's."""

from django import forms

from sophie.lessons import example_conversation_text
from sophie.models import Lesson

HELP = {
    "trigger": "When the lesson applies: quote a phrase (“too expensive”) or give the words a lead would use.",
    "tags": "Comma-separated. A tag that names a reply's intent (price, later, interested, bot, person…) "
    "lets the offline backend use the lesson's correct response for it.",
    "example_conversation": "One line each, starting “Lead:” or “Sophie:”.",
    "priority": "Higher first, from -100 to 100.",
}


class LessonForm(forms.Form):
    lesson_type = forms.ChoiceField(label="Type", choices=Lesson.Type.choices)
    title = forms.CharField(label="Title", max_length=500, required=False)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    trigger = forms.CharField(label="Trigger", required=False, help_text=HELP["trigger"])
    correct_response = forms.CharField(
        label="What Sophie should say", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    incorrect_response = forms.CharField(
        label="What Sophie should not say", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    reasoning = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    example_conversation = forms.CharField(
        label="Example conversation",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=HELP["example_conversation"],
    )
    tags = forms.CharField(label="Tags", required=False, help_text=HELP["tags"])
    priority = forms.IntegerField(label="Priority", initial=0, required=False, help_text=HELP["priority"])
    status = forms.ChoiceField(label="Status", choices=Lesson.Status.choices, initial=Lesson.Status.ACTIVE)

    @classmethod
    def initial_from(cls, fields: dict) -> dict:
        """A lesson's (or a prefill's) fields as the form shows them."""
        initial = dict(fields)
        initial["tags"] = ", ".join(fields.get("tags") or [])
        conversation = fields.get("example_conversation")
        if isinstance(conversation, list):
            initial["example_conversation"] = example_conversation_text(conversation)
        return initial

    def lesson_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["priority"] = data.get("priority") or 0
        return data


class TeachForm(forms.Form):
    should_have_said = forms.CharField(
        label="What Sophie should have said", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    title = forms.CharField(label="Lesson title (optional)", required=False)


class DismissForm(forms.Form):
    feedback = forms.CharField(label="Why (optional)", required=False)
