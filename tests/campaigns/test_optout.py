"""The opt-out floor: keywords, phrases, their look-alikes, opt-in and carrier auto-replies (pure functions)."""

import pytest

from campaigns.optout import (
    HOSTILE,
    KEYWORDS,
    OPT_OUT,
    WRONG_NUMBER,
    asks_for_another_channel,
    is_carrier_auto_reply,
    is_opt_in_keyword,
    is_opt_out_keyword,
    is_yes,
    opt_out_phrase,
    phrase_kind,
)

# Each keyword is tried in every one of these dresses.
DRESSES = (
    "{}", "{}!!", " {}. ", "{} 🛑", "{}😡", "'{}'", "**{}**", "({})", "{}...", "\t{}\n", "🙏 {} 🙏", "{} !!! 😤😤",
)  # fmt: skip


def cases(word: str) -> list[str]:
    return [word.upper(), word.lower(), word.title(), word[:1].lower() + word[1:].upper()]


@pytest.mark.parametrize("keyword", sorted(KEYWORDS))
def test_it_catches_every_keyword_in_any_case_with_punctuation_and_emoji_around(keyword):
    for spelling in cases(keyword):
        for dress in DRESSES:
            assert is_opt_out_keyword(dress.format(spelling)), dress.format(spelling)


@pytest.mark.parametrize("text", ["STOP   ALL", "opt  out", "Stop\tAll"])
def test_it_reads_runs_of_spaces_inside_a_keyword_as_one(text):
    assert is_opt_out_keyword(text)


@pytest.mark.parametrize(
    "text",
    ["stop by", "stop texting me", "please stop", "STOPP", "unsubscribed", "the end", "", "   ", "🛑", "opt-outs"],
)
def test_it_takes_only_the_whole_message_as_a_keyword(text):
    assert not is_opt_out_keyword(text)


PHRASES = {
    "remove me": ["Remove me from your list please", "pls remove me", "Please remove my number", "remove"],
    "take me off your list": ["Take me off your list", "take me off ur list", "Take this number off your database"],
    "don't text me": ["Don't text me again", "dont txt me", "Do not contact me", "Never message this number again"],
    "unsubscribe": ["Unsubscribe me please", "how do i unsubscribe from these", "Opt me out", "I want to opt out"],
    "leave me alone": ["Leave me alone", "just leave me alone!!", "go away"],
    "wrong number": ["Wrong number", "You've got the wrong person", "No longer at this number", "wrong no."],
    "someone else": ["I'm not Dave", "im not dave sorry", "Not Karen", "No Sarah here", "this isn't Michael"],
    "deceased": ["She passed away last year", "My husband died in March", "He's deceased", "Mum passed in May"],
    "🛑": ["🛑", "🛑 no more", "⛔"],
    "stop texting me": ["Stop texting me", "stop messaging me please", "Stop calling me", "stop contacting me"],
    "stop": ["Stop please", "stop now", "stop it", "Stop, not interested", "Please stop.", "Enough now, stop"],
    "no more texts": ["No more texts please", "I don't want any more messages", "no more"],
    "abuse": ["How dare you", "This is harassment", "F off", "piss off", "STOP you muppets", "reported you"],
    "blocking you": ["I'm blocking this number"],
    "asked you to stop": ["I have asked you to stop already"],
}


@pytest.mark.parametrize("phrase, texts", sorted(PHRASES.items()))
def test_it_names_the_opt_out_phrase(phrase, texts):
    for text in texts:
        assert opt_out_phrase(text) == phrase, text


def test_it_tells_a_wrong_number_and_abuse_from_a_plain_opt_out():
    assert phrase_kind(opt_out_phrase("wrong number")) == WRONG_NUMBER
    assert phrase_kind(opt_out_phrase("I'm not Dave")) == WRONG_NUMBER
    assert phrase_kind(opt_out_phrase("He passed away, please stop")) == WRONG_NUMBER
    assert phrase_kind(opt_out_phrase("fuck off scammers")) == HOSTILE
    assert phrase_kind(opt_out_phrase("remove me")) == OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "Don't stop, I'm interested",
        "stop by whenever you like",
        "Please stop by on Saturday to measure up",
        "can you stop texting and email me instead",
        "Stop texting me, email is better",
        "Ring me, don't text, I'm rubbish at texting",
        "please don't remove me, just call in March",
        "Don't remove me yet, maybe in spring",
        "I'd stop at 4 panels probably, how much is that",
        "I've not had a chance to stop and think",
        "Is there an end date for the 0% VAT?",
        "Wrong time sorry, call me after 5",
        "No, Sarah here - Dave's wife",
        "Not interested",
        "Not now, maybe in spring",
        "I'm not sure, what would it cost?",
        "Not Monday, Tuesday is better",
        "Please don't text me after 8pm",
        "dont call me, text is fine",
        "remove my old panels and fit new ones",
        "I reported a fault with my boiler",
        "Who is this?",
        "Is this a scam?",
    ],
)
def test_it_does_not_take_a_look_alike_for_an_opt_out(text):
    assert not is_opt_out_keyword(text)
    assert opt_out_phrase(text) is None


def test_it_sees_a_request_for_another_channel():
    assert asks_for_another_channel("can you stop texting and email me instead")
    assert asks_for_another_channel("Ring me, don't text")
    assert not asks_for_another_channel("stop texting me")


@pytest.mark.parametrize("text", ["START", "start", "Unstop!", " unstop. ", "Start 👍"])
def test_it_catches_opt_in_keywords(text):
    assert is_opt_in_keyword(text)


@pytest.mark.parametrize("text", ["start again next year", "yes", "STOP", "restart"])
def test_it_takes_only_start_and_unstop_as_opt_in(text):
    assert not is_opt_in_keyword(text)


def test_it_leaves_yes_to_the_caller():
    assert is_yes("YES") and is_yes("yes!") and is_yes(" Yes. ")
    assert not is_yes("yes please") and not is_yes("yeah") and not is_opt_in_keyword("yes")


@pytest.mark.parametrize(
    "text",
    [
        "This number does not accept SMS messages.",
        "Message not delivered",
        "Your message could not be delivered to this recipient.",
        "I'm currently out of the office until Monday 3rd.",
        "Auto-reply: I am on annual leave and will respond on my return.",
        "I'm Driving with Do Not Disturb While Driving turned on. I'll see your message when I get where I'm going.",
        "Thank you for your message. This mailbox is not monitored.",
        "The mobile number you sent a message to is no longer in service",
        "The person you are trying to reach is unavailable",
        "This is an automated message, we will get back to you shortly.",
    ],
)
def test_it_recognises_carrier_and_automatic_replies(text):
    assert is_carrier_auto_reply(text)


@pytest.mark.parametrize("text", ["I'm driving", "yes please", "out of interest, how much?", "STOP", "wrong number"])
def test_it_does_not_take_a_reply_for_an_automatic_one(text):
    assert not is_carrier_auto_reply(text)
