"""Moments around the exercises: last time's agreements, and "wist je dat" in between."""

from __future__ import annotations

import logging

from voicecoach.engine.ask import Asking
from voicecoach.engine.texts import Texts, spoken_parts
from voicecoach.errors import UserError
from voicecoach.events import EventLog
from voicecoach.journal import Agreement, Journal
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)

# How an answer to "is dat gelukt?" is kept in the journal (None: no answer after the tries).
FOLLOW_UPS = {True: "goed", False: "niet", None: "overgeslagen"}
REPLIES = {"goed": "follow_up_good", "niet": "follow_up_not", "overgeslagen": "follow_up_skipped"}


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


def follow_up(conv: Conversation, asking: Asking, journal: Journal, events: EventLog) -> None:
    """Play back last time's open agreements and ask how each went."""
    texts = asking.texts
    for i, agreement in enumerate(journal.open_agreements()):
        conv.say(texts.get("follow_up_first" if i == 0 else "follow_up_next"))

        def replay(_: str, again: Agreement = agreement) -> None:
            play_agreement(conv, texts, again)

        play_agreement(conv, texts, agreement)
        # "herhaal": hear the agreement again, then the question; no answer: not asked again next time
        went = asking.yes_no(texts.get("follow_up_ask"), others=["repeat"], on_other=replay)
        how = FOLLOW_UPS[went]
        journal.follow_up(agreement.id, how)
        events.emit("follow_up", agreement=agreement.id, how=how)
        conv.say(texts.get(REPLIES[how]))


def between(conv: Conversation, texts: Texts, n: int, events: EventLog) -> None:
    """A short "wist je dat" after an exercise, before the next one or goodbye."""
    events.emit("fact", n=n % len(texts.common["facts"]))
    conv.say(texts.get("between", weetje=texts.fact(n)))
