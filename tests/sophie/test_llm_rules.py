"""The rules backend: one reply per row of the reply-intent table, plus the bot and person cues.

Every reply is checked for the same things: plain GSM-7, at most two segments, no default blacklisted
word and no link but the booking link.
"""

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from campaigns.content import segments
from sophie.defaults import BLACKLIST_WORDS
from sophie.llm import backend_get
from sophie.llm.base import Draft, LessonView, Turn
from sophie.llm.rules import RulesBackend
from tests.sophie.llm_context import LINK, M1, SENT_AT, context_for, default_lessons

URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(?:com|co\.uk|uk|org|net|io)\b\S*", re.IGNORECASE)
BLACKLIST = [re.compile(rf"(?<!\w){re.escape(lesson['title'])}(?!\w)", re.IGNORECASE) for lesson in BLACKLIST_WORDS]


def _reply(*texts: str, **options) -> Draft:
    context = context_for(*texts, **options)
    draft = RulesBackend().reply(context)
    shape = segments(draft.text)
    assert shape.encoding == "GSM-7", draft.text
    assert shape.segments <= 2, draft.text
    assert not [pattern.pattern for pattern in BLACKLIST if pattern.search(draft.text)], draft.text
    assert all(url == context.booking_link for url in URL.findall(draft.text)), draft.text
    assert draft.reason.startswith("rules: ")
    return draft


def _one_segment(draft: Draft) -> Draft:
    assert segments(draft.text).segments == 1, draft.text
    return draft


def test_it_is_the_default_backend(settings):
    settings.DBR_LLM_BACKEND = "rules"
    backend = backend_get()
    assert isinstance(backend, RulesBackend)
    assert (backend.name, backend.model) == ("rules", "")


def test_it_confirms_an_opt_out_once_and_sells_nothing():
    draft = _one_segment(_reply("please remove me from your list"))
    assert (draft.action, draft.status) == ("send", "REMOVED")
    assert "won't hear from Alpha Solar Ltd again" in draft.text
    assert "?" not in draft.text


def test_it_apologises_to_a_hostile_lead_says_where_the_number_came_from_and_hands_off():
    draft = _one_segment(_reply("how dare you, I'll report you"))
    assert (draft.action, draft.status) == ("handoff", "REMOVED")
    assert draft.text.startswith("Sorry")
    assert "your enquiry with Alpha Solar Ltd" in draft.text
    assert "removed your number" in draft.text
    assert LINK not in draft.text


def test_it_apologises_for_a_wrong_number_without_the_leads_name_or_a_sale():
    draft = _one_segment(_reply("wrong number, no Sarah here"))
    assert (draft.action, draft.status) == ("send", "REMOVED")
    assert draft.text.startswith("Sorry to have bothered you.")
    assert "Sarah" not in draft.text
    assert "removed this number" in draft.text


def test_it_asks_one_qualifying_question_then_gives_the_booking_link_when_interested():
    draft = _one_segment(_reply("yes still interested"))
    assert (draft.action, draft.status, draft.sentiment) == ("send", "HOT", "positive")
    assert draft.text.startswith("Great, Sarah.")
    assert draft.text.count("?") == 1
    assert draft.text.endswith(LINK)


def test_it_offers_two_time_slots_when_there_is_no_booking_link():
    draft = _one_segment(_reply("yes still interested", booking_link=""))
    # The lead wrote on Monday 30 November: the next two working days.
    assert "Tuesday morning or Wednesday afternoon" in draft.text
    assert "http" not in draft.text


def test_it_asks_the_qualifying_question_only_once_per_conversation():
    thread = (
        Turn("outbound", M1, SENT_AT),
        Turn("inbound", "yes", SENT_AT),
        Turn("outbound", f"Great, Sarah. Is it your own home? If so, pick a time here: {LINK}", SENT_AT),
        Turn("inbound", "yes it is, sounds good", SENT_AT),
    )
    draft = _reply("yes it is, sounds good", thread=thread)
    assert "?" not in draft.text
    assert draft.text == f"Great, Sarah. Pick a time for a quick call with the team here: {LINK}"


def test_it_confirms_a_call_in_the_leads_words_hands_to_a_person_and_carries_the_link():
    draft = _one_segment(_reply("can someone ring me tomorrow"))
    assert (draft.action, draft.status) == ("handoff", "HOT")
    assert "a member of the team will ring you tomorrow." in draft.text
    assert draft.text.endswith(LINK)


def test_it_keeps_the_leads_own_time_words():
    draft = _reply("call me after 5pm on Friday")
    assert "will ring you after 5pm on Friday." in draft.text


def test_it_answers_price_honestly_from_the_knowledge_and_offers_a_call():
    draft = _one_segment(_reply("how much roughly?"))
    assert (draft.action, draft.status) == ("send", "WARM")
    assert draft.text.startswith("It depends on your roof and how much power you use")
    assert "typical 3-4 kW system is around £7,000" in draft.text
    assert "call" in draft.text
    assert LINK not in draft.text


def test_a_price_question_with_a_yes_is_hot():
    draft = _reply("yes how much is it")
    assert draft.status == "HOT"
    assert "around £7,000" in draft.text


def test_it_gives_no_price_figure_the_knowledge_section_does_not_have():
    draft = _reply("how much is it", template=3)  # the general template has no facts
    assert "£" not in draft.text
    assert not re.search(r"\d", draft.text)
    assert "call" in draft.text


def test_it_hands_grant_questions_to_a_person_without_promising_eligibility():
    draft = _one_segment(_reply("is there a grant for solar?"))
    assert (draft.action, draft.status) == ("handoff", "WARM")
    assert "one of the team" in draft.text
    assert not re.search(r"\b(?:qualify|eligible|you'll get|funded)\b", draft.text, re.IGNORECASE)


def test_it_states_the_boiler_upgrade_fact_only_from_the_knowledge_section():
    assert "heat pumps, not solar panels" in _reply("can I get the boiler upgrade scheme?").text
    assert "heat pumps" not in _reply("can I get the boiler upgrade scheme?", template=3).text


def test_it_answers_product_questions_only_from_the_knowledge_section_and_offers_a_call():
    cloudy = _one_segment(_reply("do they work when it's cloudy?"))
    assert cloudy.action == "send"
    assert cloudy.text.startswith("Panels still generate in cloudy weather.")
    assert cloudy.text.endswith("Would a quick call with the team help?")
    unknown = _one_segment(_reply("do you fit EV chargers?"))
    assert "rather not guess" in unknown.text
    assert "call" in unknown.text


def test_it_makes_no_finance_offer():
    draft = _one_segment(_reply("do you do finance?"))
    assert draft.text == "Payment options are something the team can go through on a call. Would that help?"


def test_it_tells_who_is_asking_the_company_and_the_enquiry_with_no_link_and_stop():
    draft = _one_segment(_reply("who is this?"))
    assert (draft.action, draft.status) == ("send", "WARM")
    assert draft.text.startswith("It's Sophie at Alpha Solar Ltd.")
    assert "solar panels in March 2025" in draft.text
    assert "STOP" in draft.text
    assert "http" not in draft.text


def test_it_asks_to_check_back_in_the_month_the_lead_means():
    christmas = _one_segment(_reply("not now, maybe after christmas"))
    assert christmas.text == "No problem, Sarah. OK if I check back in January?"
    assert (christmas.status, christmas.reason) == ("WARM", "rules: later: check back in January 2027")
    assert _reply("maybe in the spring").text.endswith("check back in March?")
    assert _reply("after xmas").text.endswith("check back in January?")
    assert _reply("not until after June").text.endswith("check back in July?")
    assert _reply("busy at the moment, try me again in a couple of months").text.endswith("check back in January?")
    assert _reply("not right now").text.endswith("check back in February?")  # three months on


def test_it_asks_one_battery_question_of_a_lead_who_already_has_panels():
    draft = _one_segment(_reply("already got panels thanks"))
    assert (draft.action, draft.status) == ("send", "COLD")
    assert draft.text.count("?") == 1
    assert "battery" in draft.text
    thread = (
        Turn("outbound", "Thanks Sarah. Out of interest, do you have a battery too?", SENT_AT),
        Turn("inbound", "already got panels, went with someone else", SENT_AT),
    )
    again = _reply("already got panels, went with someone else", thread=thread)
    assert "?" not in again.text
    assert "close your file" in again.text


def test_it_thanks_a_lead_who_is_not_eligible():
    draft = _one_segment(_reply("I rent so can't"))
    assert (draft.action, draft.status) == ("send", "COLD")
    assert draft.text.startswith("Thanks for letting me know")
    assert "?" not in draft.text


def test_it_closes_the_file_on_a_decline():
    draft = _reply("no thanks")
    assert (draft.action, draft.status, draft.text) == ("send", "COLD", "Understood, I'll close your file.")


def test_it_asks_one_clarifying_question_when_the_reply_says_nothing():
    draft = _one_segment(_reply("ok"))
    assert (draft.action, draft.status) == ("send", "")  # ambiguous leaves the status as it was
    assert draft.text.count("?") == 1
    assert "http" not in draft.text


def test_it_says_nothing_to_an_auto_reply_and_lets_a_person_decide():
    draft = _reply("Out of office: I am away until Monday")
    assert (draft.action, draft.text) == ("handoff", "")
    assert "automatic reply" in draft.reason


def test_it_says_honestly_that_it_is_automated_when_asked_if_it_is_a_bot():
    for question in ("is this a bot?", "are you a real person", "am I talking to a robot lol", "is this AI"):
        draft = _one_segment(_reply(question))
        assert draft.action == "send"
        assert draft.text.startswith("I'm an automated assistant for Alpha Solar Ltd.")
        assert "one of the team" in draft.text


def test_a_no_that_calls_us_a_bot_is_still_a_no():
    draft = _reply("no thanks, you're just a bot")
    assert draft.text == "I'm an automated assistant for Alpha Solar Ltd. Understood, I'll close your file."
    assert draft.status == "COLD"


def test_it_hands_off_politely_when_the_lead_asks_for_a_person():
    for request in ("can I speak to a person", "I want to talk to a human", "is there someone real I can speak to"):
        draft = _one_segment(_reply(request))
        assert draft.action == "handoff"
        assert draft.text.startswith("Of course, Sarah.")
        assert draft.reason == "rules: asks for a person"


def test_it_hands_off_when_the_classifier_is_unsure():
    reading = {"intent": "ambiguous", "status": "UNCLEAR", "sentiment": "neutral", "confidence": 0.35,
               "reason": "low confidence: says yes, but also 2 other reading(s)", "opt_out": False}  # fmt: skip
    draft = _reply("yes no maybe idk", classification=reading)
    assert (draft.action, draft.status) == ("handoff", "")
    assert "unsure (0.35)" in draft.reason
    assert "one of the team" in draft.text


def test_it_hands_off_when_another_channel_is_asked_for():
    draft = _reply("email me instead")
    assert draft.action == "handoff"


def test_it_uses_the_highest_priority_lesson_tagged_with_the_intent():
    taught = (
        LessonView(id="50", lesson_type="objection_handling", title="Price, softer", priority=10, tags=("price",),
                   correct_response="Every roof is different, so the team would price yours properly. Fancy a chat?"),
        LessonView(id="51", lesson_type="example_good", title="Price, best", priority=40, tags=("price", "tone"),
                   correct_response="Good question, Sarah. It depends on your roof. Would a quick call help?"),
        LessonView(id="52", lesson_type="never_rule", title="Not this type", priority=99, tags=("price",),
                   correct_response="Never used by the rules."),
    )  # fmt: skip
    draft = _reply("how much is it", lessons=(*taught, *default_lessons()))
    assert draft.text == "Good question, Sarah. It depends on your roof. Would a quick call help?"
    assert draft.lessons_used == ("51",)
    assert draft.action == "send"
    assert not _reply("how much is it").lessons_used


def test_a_lesson_tagged_bot_answers_the_bot_question():
    lesson = LessonView(
        id="60", lesson_type="example_good", title="Bot", tags=("bot",),
        correct_response="I'm Alpha Solar's automated assistant. Want a person to ring you instead?",
    )  # fmt: skip
    draft = _reply("are you a bot", lessons=(lesson,))
    assert (draft.text, draft.lessons_used) == (lesson.correct_response, ("60",))


def test_it_hands_off_on_the_regeneration_since_the_same_text_would_come_back():
    draft = _reply("yes still interested", retry_because='contains the blacklisted word "free"')
    assert draft.action == "handoff"
    assert "blacklisted word" in draft.reason


def test_it_writes_hi_there_leads_without_a_name():
    draft = _reply("yes still interested", first_name="there")
    assert draft.text.startswith("Great. Is it your own home?")


def test_it_never_refines():
    assert RulesBackend().refine("hmm", {"intent": "ambiguous"}) is None


@pytest.mark.parametrize(
    "text",
    ["STOP texting me", "you scammers", "yes", "ring me asap", "how much", "any grants?", "do you do batteries?",
     "who's this", "after xmas", "got solar already", "moving house", "not interested", "??", "I'm driving"],
)  # fmt: skip
def test_every_reply_stays_inside_the_text_rules_with_a_long_company_and_link(text):
    context = context_for(text, booking_link="https://cal.example/alpha-solar-renewables/quick-call-30min")
    context = replace(context, company_name="Alpha Solar and Renewables (South West) Ltd")
    draft = RulesBackend().reply(context)
    shape = segments(draft.text)
    assert shape.encoding == "GSM-7" and shape.segments <= 2, draft.text
    assert not [pattern.pattern for pattern in BLACKLIST if pattern.search(draft.text)]


def test_it_counts_time_slots_from_the_leads_text_not_the_clock():
    friday = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    thread = (Turn("outbound", M1, SENT_AT), Turn("inbound", "yes please", friday))
    draft = _reply("yes please", booking_link="", thread=thread)
    assert "Monday morning or Tuesday afternoon" in draft.text
