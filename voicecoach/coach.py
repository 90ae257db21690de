"""The coaching flow, from "hallo" to goodbye: the safety note, last week's agreements, the menu with
its suggestion, continuing an unfinished exercise, and one exercise after another.

The CLI's `run` and `resume` call `Coach.visit` once; a long-running device (`voicecoach serve`)
calls it each time the couple wakes it, with the same devices.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from voicecoach import moments, name_clips
from voicecoach.audio.pcm import Audio
from voicecoach.engine.ask import Asking, Question, Reply
from voicecoach.engine.exercise import available
from voicecoach.engine.session import Session
from voicecoach.engine.texts import Names, Texts, join
from voicecoach.errors import StorageError, UserError
from voicecoach.events import EventLog
from voicecoach.journal import Journal, Progress
from voicecoach.resumable import saved_names, saved_progress
from voicecoach.settings import Exercises
from voicecoach.speech.decide import Heard
from voicecoach.turns import TurnAwareness, spoken_duration
from voicecoach.voice import Conversation

log = logging.getLogger(__name__)
NAME_SECONDS = 6.0  # to say a first name after the tone

# How a visit ended: an exercise's outcome, or "left" (the menu was left without one).
ENDED_WELL = ("completed", "stopped", "left")


def _fixed(prompt: str, intents: list[str], seconds: float, tries: int) -> Question:
    """A question whose reprompt is the question itself (the menu: not understood, the choices again)."""
    return Question(lambda: prompt, intents, seconds, tries, lambda key, n: prompt)


class ConversationVoice:
    """A conversation as the question loop's voice."""

    def __init__(self, conv: Conversation) -> None:
        self.conv = conv

    def ask(self, text: str) -> None:
        self.conv.say(text)

    def tell(self, text: str) -> None:
        self.conv.say(text)

    def listen(self, intents: Sequence[str], seconds: float) -> Heard:
        return self.conv.listen(intents, seconds)


@dataclass
class Coach:
    """One couple's sittings at the table, with the devices already opened."""

    conv: Conversation
    events: EventLog
    journal: Journal | None
    exercises: Exercises
    notice: Callable[[str], None]  # a line for the screen (stderr)
    facts: int = 0  # the next "wist je dat" of this visit: each is told once, in the menu, an exercise or between
    turns: TurnAwareness | None = None  # with a microphone: who spoke how long, and a word after an interruption
    told: set[str] = field(default_factory=set)  # tips told once per visit, whatever the exercise ("klaar")

    def visit(self, named: str | None = None, *, resume: bool = False, names: str | None = None) -> str:
        """From the first words to goodbye; returns how it ended (an exercise's outcome, or "left").

        `named`: start this exercise (no menu); `resume`: continue the unfinished one;
        `names`: "Sanne,Joris" (else those of the unfinished exercise, else last time's).
        """
        try:
            return self._visit(named, resume, names)
        except StorageError:
            self._tell_quietly(self._texts(Names()).get("storage_full"))  # a screen-free couple must hear why
            raise
        except UserError:
            raise  # said where it happens (a lost microphone), or about the synthesizer itself
        except Exception:
            # The screen has the details; without a journal (--no-journal) nothing was kept to go on with.
            self._tell_quietly(self._texts(Names()).get("crashed" if self.journal is not None else "crashed_unkept"))
            raise

    def _visit(self, named: str | None, resume: bool, given: str | None) -> str:
        journal, conv = self.journal, self.conv
        self.facts = moments.fact_base(journal)  # every visit starts elsewhere in the list
        self.told = set()
        progress = saved_progress(journal, self.exercises, self.notice)
        given = given or saved_names(progress)
        last = journal.last_names() if journal is not None and not given else None
        names = Names.last_time(last, self.notice) if last else Names.parse(given)  # else the names they used last time
        texts = self._texts(names)
        asking = Asking(ConversationVoice(conv), texts, self.exercises.timing())
        continued: Progress | None = None
        if resume or (named is None and progress is not None):
            if progress is None:
                raise UserError("There is nothing to continue.", "Start an exercise with `voicecoach run`.")
            if resume or asking.yes_no(texts.get("resume_question", titel=self._title(progress.exercise))):
                continued = progress
                named = progress.exercise
        if journal is not None and journal.summary().sessions == 0:
            conv.say(texts.get("safety"))  # first use: before anything else, also before the menu
        suggestion = None
        if journal is not None and continued is None:
            suggestion = journal.suggest_next()  # before the follow-up: open agreements shape it
            if moments.follow_up(conv, asking, journal, self.events):
                return "left"  # "stop" to "is dat gelukt?": goodbye said, the rest asked next time
        if names == Names():  # no names: screen-free, they must hear who is who
            known = self._names_kept(texts)
            conv.say(texts.get("who_is_who"))
            if not known:
                self._record_names(texts)
        return self._exercises(named, continued, suggestion, names, texts, asking)

    def _exercises(self, named: str | None, continued: Progress | None, suggestion: str | None, names: Names,
                   texts: Texts, asking: Asking) -> str:
        """One exercise, or from the menu one after another until they have had enough."""
        from_menu = named is None
        while True:
            name = named or self._menu(texts, suggestion)
            if name is None:
                return "left"
            session = self._session(name, names, continued)
            outcome = self._run(session, texts)
            if session.chosen:  # a choice step leads on to another exercise
                self.facts = session.fact_base + session.facts_told
                session = self._session(session.chosen, names, None)
                outcome = self._run(session, texts)
            if outcome != "completed" or not from_menu:
                return outcome  # a named exercise ends with its own closing words
            self.facts = session.fact_base + session.facts_told
            moments.between(self.conv, texts, self.facts, self.events)
            self.facts += 1
            if not asking.yes_no(texts.get("another")):
                self.conv.say(texts.get("menu_bye"))
                return outcome
            named, continued = None, None
            suggestion = self.journal.suggest_next() if self.journal is not None else None

    def _session(self, name: str, names: Names, continued: Progress | None) -> Session:
        initial = memory = None
        if continued is not None:
            initial, memory = continued.state, continued.data
        return Session(self.exercises.load(name), self.conv, names, journal=self.journal, events=self.events,
                       initial=initial, memory=memory, fact_base=self.facts, told=self.told,
                       turns=self.turns.exercise() if self.turns is not None else None)

    def _run(self, session: Session, texts: Texts) -> str:
        """One exercise; completed, and if they like (config.toml [turns] speaking_time), how long each spoke."""
        outcome = session.run()
        turns = self.turns
        if outcome == "completed" and turns is not None and turns.consent and turns.settings.speaking_time:
            self._speaking_time(session, texts)
        return outcome

    def _speaking_time(self, session: Session, texts: Texts) -> None:
        names = session.names
        seconds = {names.one: 0.0, names.two: 0.0}
        session_id = session.stage.record.session_id
        if self.journal is not None and session_id is not None:  # a resumed exercise: its earlier steps too
            for kept in self.journal.speaking_times(session_id):
                seconds.update(kept.seconds)
        else:
            for _, _, summary in session.stage.watched:
                spoken = getattr(summary, "spoken", None)
                for partner, s in (spoken() if spoken is not None else {}).items():
                    seconds[names.of(partner)] += s
        if sum(seconds.values()) < 1.0:
            return  # no turn was heard (an exercise without turns)
        self.events.emit("speaking_time", seconds=[round(s, 1) for s in seconds.values()])  # no names
        self.conv.say(texts.get("turns.speaking_time", tijd_een=spoken_duration(seconds[names.one], texts.common),
                                tijd_twee=spoken_duration(seconds[names.two], texts.common)))

    def _may_keep_names(self) -> bool:
        """Their names in their own voices: only by voice, with a journal, and when both agreed that
        voicecoach may learn their voices (turn awareness); else "partner één, wie links zit"."""
        turns = self.turns
        return (self.conv.can_play and hasattr(self.conv, "name_clips") and self.journal is not None
                and turns is not None and bool(turns.consent))

    def _names_kept(self, texts: Texts) -> bool:
        """The names they said at an earlier visit, played from now on in place of "partner één / twee"."""
        clips = name_clips.load() if self._may_keep_names() else {}
        if clips:
            self._play_names(texts, clips)
        return bool(clips)

    def _play_names(self, texts: Texts, clips: dict[int, Audio]) -> None:
        """From now on each partner's recorded name is played where their name is said."""
        self.conv.name_clips = {texts.names.of(p): clip for p, clip in clips.items()}  # type: ignore[attr-defined]

    def _record_names(self, texts: Texts) -> None:
        """Each says their first name once; kept as sound only (never recognized), removed by `forget`."""
        if not self._may_keep_names():
            return
        conv, clips = self.conv, {}
        for partner in (1, 2):
            conv.say(texts.nth("name_ask", partner - 1, partner))
            conv.chime("turn")
            heard = conv.listen([], NAME_SECONDS, record=True)
            samples = heard.audio if isinstance(heard.audio, np.ndarray) else None
            clip = name_clips.trimmed(Audio(samples)) if samples is not None and len(samples) else None
            log.info("name of partner %d: %s, %.2f s recorded, %s", partner, heard.kind,
                     0 if samples is None else len(samples) / Audio(samples).rate, "kept" if clip else "not usable")
            if heard.kind == "silence" or clip is None:
                self.events.emit("names_recorded", kept=False)
                conv.say(texts.get("name_missed"))
                return
            clips[partner] = clip
        for partner, clip in clips.items():
            name_clips.save(partner, clip)
        self.events.emit("names_recorded", kept=True)
        self._play_names(texts, clips)
        conv.say(texts.get("names_thanks"))

    def _menu(self, texts: Texts, suggestion: str | None) -> str | None:
        """Asks by voice which exercise to do; the words are the `ex_*` intents of the vocabulary.

        With a suggestion from the journal, yes chooses it; "waarom" gets a "wist je dat".
        """
        vocab = self.conv.vocab
        choices = {f"ex_{n.replace('-', '_')}": n for n in available() if f"ex_{n.replace('-', '_')}" in vocab.intents}
        if not choices:
            raise UserError("The vocabulary has no words for choosing an exercise.",
                            "Name one: `voicecoach run herstelgesprek`.")
        words = join([vocab.first(i) for i in choices], alternatives=True)
        example = vocab.first(next(iter(choices)))
        suggested = suggestion if suggestion in choices.values() else None
        self.events.emit("menu", suggestion=suggested)
        timing = self.exercises.timing()
        voice = ConversationVoice(self.conv)
        failed = False
        while True:
            # One thing proposed ("ja" starts it, "nee" gives the list), or the list itself.
            prompt = (texts.get("menu_suggest", oefening=self._title(suggested)) if suggested
                      else texts.get("menu", woorden=words))
            heard = [*choices, *(["confirm", "deny"] if suggested else []), "stop", "why", "repeat", "help", "safety"]
            question = _fixed(prompt, [i for i in heard if i in vocab.intents], timing.menu_seconds, timing.max_tries)
            question.prompted = failed  # after "I cannot hear you" the example was just said
            reply = self._menu_round(question, voice)
            while reply.intent in ("why", "help", "repeat", "safety"):  # answered; they cost no try
                if reply.intent == "safety":
                    self.conv.say(texts.get("safety"))
                elif reply.intent == "why":
                    self.conv.say(texts.fact(self.facts))
                    self.facts += 1
                elif reply.intent == "help":  # what may be said now, not the menu again
                    again = vocab.first("repeat") if "repeat" in vocab.intents else ""
                    other = next((vocab.first(i) for i, n in choices.items() if n != suggested), example)
                    self.conv.say(texts.get("menu_help_suggest", oefening=self._title(suggested), voorbeeld=other)
                                  if suggested else texts.get("menu_help", voorbeeld=example, herhaal=again))
                question.prompted = reply.intent == "help"  # help said what to say; the rest ask again
                reply = self._menu_round(question, voice)
            if reply.gave_up:
                if failed:
                    self.conv.say(texts.get("menu_gone"))
                    return None
                failed = True  # once more, with an example: the machine takes the blame
                self.conv.say(texts.get("menu_failed", voorbeeld=example))
                continue
            if reply.intent == "stop":
                self.conv.say(texts.get("menu_bye"))
                return None
            if reply.intent == "confirm" and suggested:
                return suggested
            if reply.intent in choices:
                return choices[str(reply.intent)]
            suggested, failed = None, False  # "nee": the list

    @staticmethod
    def _menu_round(question: Question, voice: ConversationVoice) -> Reply:
        reply = question.round(voice)
        while reply.intent is None and not reply.gave_up:
            reply = question.round(voice)
        return reply

    def _title(self, name: str) -> str:
        """How an exercise is named inside a sentence: "het herstelgesprek"."""
        exercise = self.exercises.load(name)
        return exercise.spoken or exercise.title.lower()

    def _texts(self, names: Names) -> Texts:
        return Texts(self.conv.vocab, names)

    def _tell_quietly(self, text: str) -> None:
        try:
            self.conv.say(text)
        except Exception:  # noqa: BLE001 - the error being reported matters more than its spoken form
            log.debug("could not say why voicecoach stops", exc_info=True)
