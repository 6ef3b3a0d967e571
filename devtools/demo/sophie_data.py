"""Sophie's side of the demo: the live prompt, lessons taught by the owner, and insights."""

from datetime import datetime, timedelta

from clients.models import User
from devtools.demo.greenstar import BOOKING_LINK, COMPANY
from devtools.demo.plans import Plan
from devtools.demo.replies import INTENT_BY_KEY, PRICE_ANSWER, C
from leads.models import Dataset
from sophie.models import Insight, Lesson, Prompt, PromptTemplate
from sophie.prompts import prompt_for_dataset_create, prompt_go_live

COMPANY_KNOWLEDGE = (
    "About {company_name}: a Leeds installer of solar panels, batteries and EV chargers across Yorkshire since "
    "2014; MCS certified. Surveys are in person and carry no obligation."
)


def sophie_data_create(dataset: Dataset, owner: User, plans: list[Plan], now: datetime, start: datetime) -> dict:
    template = PromptTemplate.objects.get(category=PromptTemplate.Category.SOLAR_DBR_OLD, is_system_template=True)
    structure = {name: dict(section) for name, section in template.template_structure.items()}
    structure["knowledge"]["content"] += "\n" + COMPANY_KNOWLEDGE
    lessons = _lessons_create(owner)
    deployed = start - timedelta(days=1, hours=-5)
    # The product's own path: a draft from the template, then made live.
    draft = prompt_for_dataset_create(
        dataset=dataset,
        template=template,
        structure=structure,
        name="Greenstar old-database prompt",
        description="From the old-database template, with what we sell.",
        wizard_answers={
            **(template.default_wizard_answers or {}),
            "company_name": COMPANY,
            "agent_name": "Sophie",
            "booking_link": BOOKING_LINK,
            "products": ["solar panels", "batteries", "EV chargers"],
        },
        actor=owner,
        at=deployed,
        summary="Created from 'Solar reactivation - old database'; added what Greenstar sells.",
    )
    prompt = prompt_go_live(prompt=draft, actor=owner, at=deployed)
    # A measured figure, not part of the version's text.
    Prompt.objects.filter(pk=prompt.pk).update(conversations_count=sum(1 for p in plans if p.sends))
    insights = _insights_create(dataset, plans, lessons["price"], now)
    return {"prompts": 1, "lessons": len(lessons), "insights": insights}


def _lessons_create(owner: User) -> dict[str, Lesson]:
    common = {"source": Lesson.Source.USER_TAUGHT, "created_by": owner, "status": Lesson.Status.ACTIVE}
    specs = {
        "price": dict(
            lesson_type=Lesson.Type.OBJECTION_HANDLING,
            title="Price question in the first reply",
            description="When someone asks how much, give the honest range and offer a call; never a quote by text.",
            trigger="Lead asks how much, a ballpark, or what sort of money",
            correct_response=PRICE_ANSWER,
            incorrect_response="Our systems start from 4,999 and save up to 70% on your bills!",
            reasoning="Price depends on roof and usage; 'up to' savings claims are banned. A call converts better.",
            tags=["price", "objection"],
            priority=50,
            times_applied=3,
        ),
        "partner": dict(
            lesson_type=Lesson.Type.OBJECTION_HANDLING,
            title="Needs to talk to their partner",
            description="Respect it and offer a call when both are in, without chasing.",
            trigger="I need to talk to my husband / wife / partner first",
            correct_response="Of course. Would a call when you're both home suit better? Evenings are fine.",
            incorrect_response="It only takes a minute, you can decide on your own.",
            reasoning="Big household decisions are shared; pushing loses the lead.",
            tags=["objection", "partner"],
            priority=40,
        ),
        "who": dict(
            lesson_type=Lesson.Type.EXAMPLE_GOOD,
            title="Answering 'who is this?'",
            description="Company, the original enquiry and the opt-out, no link.",
            trigger="Who is this? / Is this a scam?",
            correct_response="It's Sophie at Greenstar Solar. You asked us about solar panels in May 2023. "
            "Reply STOP if you'd rather not hear from us.",
            reasoning="Reminding them of their own enquiry answers the scam worry; a link would feed it.",
            example_conversation=[
                {"role": "lead", "text": "Who is this?"},
                {
                    "role": "sophie",
                    "text": "It's Sophie at Greenstar Solar. You asked us about "
                    "solar panels in May 2023. Reply STOP if you'd rather not hear from us.",
                },
            ],
            tags=["trust", "example"],
            priority=40,
        ),
        "pushy": dict(
            lesson_type=Lesson.Type.EXAMPLE_BAD,
            title="Chasing after a no",
            description="A no gets one line closing the file, nothing else.",
            trigger="No thanks / not interested",
            correct_response="Understood, I'll close your file.",
            incorrect_response="Are you sure? Prices are going up in the new year.",
            reasoning="Fake urgency and chasing after a no break the never-rules and annoy people.",
            tags=["decline", "example"],
            priority=40,
        ),
    }
    return {key: Lesson.objects.create(**common, **spec) for key, spec in specs.items()}


def _insights_create(dataset: Dataset, plans: list[Plan], price_lesson: Lesson, now: datetime) -> int:
    total = len(plans)
    messaged = [p for p in plans if p.sends]
    delivered = [p for p in messaged if not p.undelivered]
    replied = [p for p in plans if p.group in INTENT_BY_KEY]
    negative = [p for p in replied if p.lead.lead_sentiment == C.NEGATIVE]
    positive = [p for p in replied if p.lead.lead_sentiment in (C.POSITIVE, C.HOT)]
    booked = [p for p in replied if p.lead.call_booked]

    def pct(part, whole) -> str:
        return f"{100 * len(part) / len(whole):.0f}%"

    Insight.objects.create(
        insight_type=Insight.Type.CAMPAIGN,
        dataset=dataset,
        severity=Insight.Severity.INFO,
        category=Insight.Category.SUCCESS_PATTERN,
        affected_leads_count=total,
        title=f"Reply rate {pct(replied, plans)}: inside the normal range for an old list",
        description=(
            f"{len(delivered)} of {len(messaged)} texted numbers took delivery ({pct(delivered, messaged)}; normal "
            f"80-90% on an old list). {len(replied)} of {total} leads replied ({pct(replied, plans)}; normal 10-25%), "
            f"{len(negative)} of them negatively ({pct(negative, replied)}; normal a third to a half). "
            f"{len(positive)} positive ({pct(positive, plans)} of leads; normal 3-8%) and {len(booked)} calls booked "
            f"({pct(booked, plans)}; normal 1-4%). Ranges are vendor claims; no independent UK data exists."
        ),
        suggestion="Nothing to fix. Resume the campaign once the hot leads have been called.",
    )
    price = [p for p in replied if p.group == "price"]
    Insight.objects.create(
        insight_type=Insight.Type.PATTERN,
        dataset=dataset,
        severity=Insight.Severity.SUGGESTION,
        category=Insight.Category.OBJECTION,
        affected_leads_count=len(price),
        related_lesson=price_lesson,
        title=f"{len(price)} leads asked about price in their first reply",
        description="Each got the honest range and an offer of a call; none has booked yet.",
        suggestion="Offer two call times in the price answer instead of asking whether a call would help.",
        original_text=PRICE_ANSWER,
        suggested_text="It depends on your roof and usage; a typical 3-4 kW system is around £7,000. "
        "Could the team ring you Tuesday or Thursday evening to go through it?",
    )
    hostile = next(p for p in replied if p.group == "hostile")
    Insight.objects.create(
        insight_type=Insight.Type.CONVERSATION,
        dataset=dataset,
        severity=Insight.Severity.WARNING,
        category=Insight.Category.TONE,
        conversation_id=hostile.lead.conversation.pk,
        title="An angry reply to M1 was handed to you",
        description=f"{hostile.lead.full_name} called the text harassment. Sophie apologised, explained where the "
        "number came from and removed it; the number is suppressed.",
        suggestion="Check the lead's source before the next campaign on this list.",
    )
    return Insight.objects.count()
