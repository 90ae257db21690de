"""Moments around the exercises: last time's agreements, and "wist je dat" in between."""

from __future__ import annotations

import logging
from typing import Any

from voicecoach.engine.texts import Texts, spoken_parts
from voicecoach.errors import UserError
from voicecoach.journal import Agreement, Journal

log = logging.getLogger(__name__)

# How an answer to "is dat gelukt?" is kept in the journal.
FOLLOW_UPS = {"confirm": "goed", "deny": "niet"}
REPLIES = {"goed": "follow_up_good", "niet": "follow_up_not", "overgeslagen": "follow_up_skipped"}


def fact_base(journal: Journal | None) -> int:
    """Where this session starts in the list of facts: every session hears another one first."""
    return journal.summary().sessions if journal is not None else 0


def play_agreement(conv: Any, texts: Texts, agreement: Agreement) -> None:
    """Their own voice if we can play it; else the typed words; else say why not."""
    play = getattr(conv, "play", None)
    recording = agreement.recording
    if recording is not None and recording.exists() and play is not None:
        from voicecoach.audio.pcm import read_wav

        try:
            play(read_wav(recording))
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


def follow_up(conv: Any, journal: Journal, texts: Texts, events: Any, tries: int = 3) -> int:
    """Play back last time's open agreements and ask how each went; returns how many there were."""
    agreements = journal.open_agreements()
    for i, agreement in enumerate(agreements):
        conv.say(texts.get("follow_up_first" if i == 0 else "follow_up_next"))
        play_agreement(conv, texts, agreement)
        how = _ask(conv, texts, agreement, tries)
        journal.follow_up(agreement.id, how)
        events.emit("follow_up", agreement=agreement.id, how=how)
        conv.say(texts.get(REPLIES[how]))
    return len(agreements)


def _ask(conv: Any, texts: Texts, agreement: Agreement, tries: int) -> str:
    question = texts.get("follow_up_ask")
    conv.say(question)
    misses = 0
    while misses < tries:
        heard = conv.listen(["confirm", "deny", "repeat"], 8.0)
        if heard.intent in FOLLOW_UPS:
            return FOLLOW_UPS[heard.intent]
        if heard.intent == "repeat":  # hear the agreement again, then the question
            play_agreement(conv, texts, agreement)
            conv.say(question)
            continue
        conv.say(texts.nth("silence" if heard.kind == "silence" else "unclear", misses))
        misses += 1
    return "overgeslagen"  # not asked again next time: they did not want to answer now


def between(conv: Any, texts: Texts, n: int, events: Any) -> None:
    """A short "wist je dat" after an exercise, before the next one or goodbye."""
    events.emit("fact", n=n % len(texts.common["facts"]))
    conv.say(texts.get("between", weetje=texts.fact(n)))
