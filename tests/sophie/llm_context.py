"""AgentContexts for the LLM backend tests, built from the default prompt and lessons (no database)."""

from datetime import UTC, datetime

from sophie.classify import classify
from sophie.defaults import DEFAULT_LESSONS, SYSTEM_TEMPLATES
from sophie.llm.base import AgentContext, LeadFacts, LessonView, Turn

COMPANY, AGENT, LINK = "Alpha Solar Ltd", "Sophie", "https://cal.example/alpha"
M1 = (
    "Hi Sarah, it's Sophie at Alpha Solar Ltd. You asked us about solar panels in March 2025. "
    "Is that still on your list? Reply STOP to opt out."
)
SENT_AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
REPLIED_AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # the Monday after


def fill(text: str, *, booking_link: str = LINK) -> str:
    for field, value in (("{company_name}", COMPANY), ("{agent_name}", AGENT), ("{booking_link}", booking_link)):
        text = text.replace(field, value)
    return text


def sections(template: int = 1, *, booking_link: str = LINK) -> dict[str, str]:
    """The live prompt by section: the solar old-database template (1) or the general one (3)."""
    structure = SYSTEM_TEMPLATES[template]["template_structure"]
    link = booking_link or "two time slots"
    return {name: fill(section["content"], booking_link=link) for name, section in structure.items()}


def default_lessons() -> tuple[LessonView, ...]:
    views = [
        LessonView(
            id=str(number),
            lesson_type=lesson["lesson_type"],
            title=fill(lesson["title"]),
            description=fill(lesson["description"]),
            trigger=fill(lesson["trigger"]),
            correct_response=fill(lesson["correct_response"]),
            incorrect_response=fill(lesson["incorrect_response"]),
            priority=lesson["priority"],
            tags=tuple(lesson["tags"]),
        )
        for number, lesson in enumerate(DEFAULT_LESSONS, start=1)
    ]
    return tuple(sorted(views, key=lambda view: -view.priority))


def context_for(
    *texts: str,
    booking_link: str = LINK,
    first_name: str = "Sarah",
    lessons: tuple[LessonView, ...] | None = None,
    template: int = 1,
    thread: tuple[Turn, ...] | None = None,
    classification: dict | None = None,
    retry_because: str = "",
    enquiry_month: str = "March 2025",
) -> AgentContext:
    """The context for answering `texts` (one burst) after M1."""
    by_section = sections(template, booking_link=booking_link)
    if thread is None:
        thread = (Turn("outbound", M1, SENT_AT), *(Turn("inbound", text, REPLIED_AT) for text in texts))
    return AgentContext(
        prompt="\n\n".join(by_section.values()),
        sections=by_section,
        lessons=default_lessons() if lessons is None else lessons,
        thread=thread,
        new_texts=texts,
        lead=LeadFacts(first_name=first_name, status="NEW", postcode="BS1 4DJ", enquiry_month=enquiry_month),
        company_name=COMPANY,
        agent_name=AGENT,
        booking_link=booking_link,
        classification=classification if classification is not None else classify(" ".join(texts)).to_dict(),
        retry_because=retry_because,
    )
