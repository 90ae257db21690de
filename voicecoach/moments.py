"""Moments around the exercises: last time's agreements, and "wist je dat" in between."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from voicecoach.engine.ask import Asking
from voicecoach.engine.texts import Texts, spoken_parts
from voicecoach.errors import UserError
from voicecoach.events import EventLog
from voicecoach.journal import Agreement, Journal
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)

# How an answer to "is dat gelukt?" is kept in the journal ("ja", "een beetje", "nee"), and what is said to it.
FOLLOW_UPS = {"confirm": "goed", "somewhat": "beetje", "deny": "niet"}
REPLIES = {"goed": "follow_up_good", "beetje": "follow_up_some", "niet": "follow_up_not"}
# Said to "help" and "waarom" while "is dat gelukt?" waits for its answer (they were "not understood").
SAID = {"help": "follow_up_help", "why": "follow_up_why"}
# An agreement is asked about once this long after it was made: minutes later nothing can have happened yet.
FOLLOW_UP_AFTER = timedelta(hours=24)
# Asked about in one visit at most, oldest first; the rest wait for the next visit (a journal that was
# not used for a while should not hold them at the door).
FOLLOW_UP_MAX = 5
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def fact_base(journal: Journal | None) -> int:
    """Where this session starts in the list of facts: every session hears another one first."""
    return journal.summary().sessions if journal is not None else 0


def play_agreement(conv: Conversation, texts: Texts, agreement: Agreement) -> None:
    """Their own voice if we can play it; else the typed words; else say why not."""
    recording = agreement.recording
    if recording is not None and recording.exists() and conv.can_play:
        from voicecoach.audio.pcm import read_wav

        try:
            conv.play(read_wav(recording))
            return
        except UserError:
            log.warning("agreement %d: its recording cannot be read", agreement.id)
    if agreement.text:
        for part in spoken_parts(agreement.text):  # typed once, perhaps pasted: never too long to speak
            conv.say(part)
    elif recording is not None and not recording.exists():
        conv.say(texts.get("follow_up_lost"))
    else:
        conv.say(texts.get("follow_up_unplayable"))


def made_when(texts: Texts, made: date | None, today: date) -> str:
    """When an agreement was made, as said in a sentence: "gisteren", "afgelopen dinsdag", "op 3 maart"
    ("eerder" when the journal's date cannot be read)."""
    from voicecoach.export import MONTHS

    if made is None:
        return texts.get("follow_up_earlier")
    days = (today - made).days
    if days <= 1:
        return texts.get("follow_up_yesterday")
    if days < 7:
        return texts.get("follow_up_weekday", dag=WEEKDAYS[made.weekday()])
    return texts.get("follow_up_date", datum=f"{made.day} {MONTHS[made.month - 1]}")


def follow_up(conv: Conversation, asking: Asking, journal: Journal, events: EventLog) -> bool:
    """Each open agreement made at least a day ago, in their own words, and "is dat gelukt?": ja, een beetje
    or nee is kept; no answer keeps it open for next time (and the rest wait too: nobody may be listening).
    True when they said "stop": the rest stay open, and the visit ends."""
    texts = asking.texts
    due = journal.due_agreements(FOLLOW_UP_AFTER)[:FOLLOW_UP_MAX]
    answers = [a for a in FOLLOW_UPS if a in conv.vocab.intents]
    stop = ["stop"] if "stop" in conv.vocab.intents else []
    word = conv.vocab.first("somewhat") if "somewhat" in conv.vocab.intents else texts.get("follow_up_somewhat")
    repeat = conv.vocab.first("repeat") if "repeat" in conv.vocab.intents else ""
    today = journal.now().date()
    if len(due) > 1:
        conv.say(texts.get("follow_up_many"))
    for i, agreement in enumerate(due):
        if i and agreement.session_id == due[i - 1].session_id:
            conv.say(texts.get("follow_up_next"))
        else:
            made = agreement.created_at
            when = made_when(texts, made.astimezone().date() if made is not None else None, today)
            intro = texts.get("follow_up_when" if i == 0 else "follow_up_also", wanneer=when)
            conv.say(intro)  # "Gisteren spraken jullie af:": the filled-in {wanneer} opens it with a capital

        def replay(intent: str, again: Agreement = agreement) -> None:
            if intent in SAID:  # "help", "waarom": answered, then the question again (it costs no try)
                conv.say(texts.get(SAID[intent], beetje=word, herhaal=repeat))
                return
            play_agreement(conv, texts, again)

        play_agreement(conv, texts, agreement)
        # "herhaal": hear the agreement again, then the question; "stop" ends it as an answer would
        others = [i for i in ("repeat", *SAID) if i in conv.vocab.intents]
        answer = asking.one_of(texts.get("follow_up_ask", beetje=word), answers + stop, others=others, on_other=replay,
                               again=lambda key, n: texts.nth(f"follow_up_{key}", n, beetje=word))
        if answer is None or answer == "stop":
            events.emit("follow_up", agreement=agreement.id, how=None)
            conv.say(texts.get("follow_up_later" if answer is None else "follow_up_stop"))
            return answer == "stop"
        how = FOLLOW_UPS[answer]
        journal.follow_up(agreement.id, how)
        events.emit("follow_up", agreement=agreement.id, how=how)
        conv.say(texts.get(REPLIES[how]))
    return False


def between(conv: Conversation, texts: Texts, n: int, events: EventLog) -> None:
    """A short "wist je dat" after an exercise, before the next one or goodbye."""
    events.emit("fact", n=n % len(texts.common["facts"]))
    conv.say(texts.get("between", weetje=texts.fact(n)))
