"""The conversation's two ends: speaking and listening by voice, or by text."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol, TextIO

from voicecoach import name_clips
from voicecoach.audio.pcm import Audio, chime
from voicecoach.audio.sinks import Speaker
from voicecoach.audio.sources import Chunk, Tap
from voicecoach.clock import Clock
from voicecoach.engine.exercise import Timing
from voicecoach.engine.texts import load_common
from voicecoach.errors import UserError
from voicecoach.events import EventLog
from voicecoach.speech.decide import Heard
from voicecoach.speech.listener import Listener
from voicecoach.speech.synth import SynthError, Synthesizer
from voicecoach.speech.vocab import Vocabulary, normalize

log = logging.getLogger(__name__)

# Said to the couple (Dutch) and shown on the screen (English, like every CLI message).
MIC_MISSING = load_common()["mic_missing"]
MIC_LOST = load_common()["mic_lost"]
MIC_BACK = load_common()["mic_back"]
MIC_LOST_NOTICE = "voicecoach: the microphone stopped working; trying it again every few seconds (timers are paused)."
MIC_BACK_NOTICE = "voicecoach: the microphone works again; going on where you were."
NO_VOICE_NOTICE = "voicecoach: {message} What voicecoach says is printed instead, with a chime; {fix}"


ChunkObserver = Callable[[Chunk], None]


class InputClosed(UserError):
    """Typed input ended (text mode): the session stops and keeps its progress."""


class Conversation(Protocol):
    """Speaking and listening, by voice or by text: what the coach and the exercises talk through."""

    clock: Clock
    vocab: Vocabulary
    can_play: bool  # recordings (their agreement in their own voice) can be played

    def say(self, text: str) -> None: ...

    def chime(self, kind: str) -> None: ...

    def play(self, audio: Audio) -> None: ...

    def listen(self, intents: Iterable[str], seconds: float, *, turn: bool = False, record: bool = False,
               new_phase: bool = True, observe: ChunkObserver | None = None) -> Heard:
        """Listen for the phrases of `intents`; `turn`: a speaking turn (see Listener.listen);
        `observe` is shown every chunk listened to (by voice: the microphone's audio)."""


class VoiceConversation:
    """Speaks through the synthesizer and speaker; listens through the microphone."""

    can_play = True

    def __init__(
        self, synth: Synthesizer, speaker: Speaker, listener: Listener, clock: Clock, events: EventLog,
        echo: Callable[[str], None] | None = None, notice: Callable[[str], None] | None = None,
        show: Callable[[str], None] | None = None, tap: Tap | None = None,
    ) -> None:
        self.synth = synth
        self.speaker = speaker
        self.listener = listener
        self.clock = clock
        self.vocab = listener.vocab
        self.events = events
        self.echo = echo  # also print prompts (e.g. when the speaker is missing)
        self.notice = notice  # a line for the screen about the devices (stderr)
        self.show = show or _print  # a prompt that could not be spoken (stdout)
        self.tap = tap  # the microphone's chunks, shown to an observer while a turn is watched
        # "Ik hoorde: ... Is dat goed?" waits as long as any question (the shared [timing]).
        self.check_seconds = Timing.defaults().question_seconds
        self.spoke_until: float | None = None
        self._told_no_voice = False
        # "partner één" -> their own recorded name, played in its place (name_clips.py)
        self.name_clips: dict[str, Audio] = {}
        if listener.on_outage is None:
            listener.on_outage = self.outage

    def outage(self, what: str) -> float | None:
        """The listener lost the microphone ("lost") or has it again ("back"): tell the couple."""
        lost = what == "lost"
        self.events.emit("microphone", state=what)
        if self.notice:
            self.notice(MIC_LOST_NOTICE if lost else MIC_BACK_NOTICE)
        self.say(MIC_LOST if lost else MIC_BACK)
        return self.spoke_until

    def close(self) -> None:
        self.synth.close()

    def say(self, text: str) -> None:
        parts = name_clips.split(text, self.name_clips)
        names = sum(isinstance(p, Audio) for p in parts)
        self.events.emit("prompt", text=text, **({"names_played": names} if names else {}))
        if self.echo:
            self.echo(text)
        if not names:
            self.spoke_until = self.speaker.play(self._voice(text))
            return
        spoken = [p if isinstance(p, Audio) else self._voice(p) for p in parts]
        rate = next((p.rate for p in spoken if p.seconds > 0), spoken[0].rate)
        self.spoke_until = self.speaker.play(Audio.concat(spoken, rate))

    def _voice(self, text: str) -> Audio:
        """The spoken text; if no sound can be made, never silence: the text is printed and a chime plays."""
        try:
            return self.synth.render(text)
        except SynthError as exc:
            self.events.emit("voice_failed")
            if self.notice and not self._told_no_voice:
                self.notice(NO_VOICE_NOTICE.format(message=exc.message, fix=exc.fix[:1].lower() + exc.fix[1:]))
            self._told_no_voice = True
            if not self.echo:  # printed already otherwise
                self.show(text)
            return chime("notice")

    def play(self, audio: Audio) -> None:
        self.spoke_until = self.speaker.play(audio)

    def chime(self, kind: str) -> None:
        self.spoke_until = self.speaker.play(chime(kind))

    def listen(self, intents: Iterable[str], seconds: float, *, turn: bool = False, record: bool = False,
               new_phase: bool = True, observe: ChunkObserver | None = None) -> Heard:
        intents = list(intents)
        start = self.clock.now()
        self.events.emit("listening", intents=intents, seconds=round(seconds, 2), turn=turn)
        if self.tap is not None:
            self.tap.observer = observe
        try:
            heard = self.listener.listen(intents, start + seconds, turn=turn, spoke_until=self.spoke_until,
                                         record=record, new_phase=new_phase)
        finally:
            if self.tap is not None:
                self.tap.observer = None
        self.spoke_until = None
        self._emit_heard(heard)
        if heard.kind == "check" or (heard.kind == "intent" and (heard.intent or "").startswith("ask:")):
            heard = self._ask_back(heard, intents)  # nearly sure, or an item of a long list (Vocabulary.phrase_map)
        return heard

    def _emit_heard(self, heard: Heard) -> None:
        self.events.emit(
            "heard", kind=heard.kind, intent=heard.intent, phrase=heard.phrase,
            confidence=round(heard.confidence, 3), latency=None if heard.latency is None else round(heard.latency, 3),
        )

    def _ask_back(self, heard: Heard, intents: list[str]) -> Heard:
        """Nearly sure: "Ik hoorde: klopt niet. Is dat goed?" A yes makes it the answer; anything else asks anew.

        "veiligheid" is heard here wherever the question heard it: whom to call must not wait for a yes or no.
        """
        question = self.vocab.texts.get("check")
        if not question or not {"confirm", "deny"} <= set(self.vocab.intents):
            return replace(heard, kind="unclear", intent=None)
        self.say(question.format(phrase=heard.phrase))
        safety = ["safety"] if "safety" in intents else []
        reply = self.listener.listen(["confirm", "deny", *safety], self.clock.now() + self.check_seconds,
                                     spoke_until=self.spoke_until)
        self.spoke_until = None
        self._emit_heard(reply)
        if reply.kind == "intent" and reply.intent == "safety":  # the question's answer to it: the safety note
            return replace(reply, lost=heard.lost + reply.lost)
        if reply.kind == "intent" and reply.intent == "confirm":
            return replace(heard, kind="intent", reason="confirmed", lost=heard.lost + reply.lost)
        return replace(heard, kind="unclear", intent=None, reason="not confirmed", lost=heard.lost + reply.lost)


def _print(text: str) -> None:
    print(text, file=sys.stdout, flush=True)


def say_once(synth: Synthesizer, speaker: Speaker, events: EventLog, text: str) -> None:
    """Speak a last message (a device is missing) if we can; a failure here only costs the voice."""
    events.emit("prompt", text=text)
    try:
        speaker.play(synth.render(text))
    except (UserError, OSError):
        log.debug("could not speak the message", exc_info=True)


class TextConversation:
    """Prompts printed, answers typed: for people without a microphone."""

    can_play = False

    def __init__(self, vocab: Vocabulary, clock: Clock, events: EventLog,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.vocab = vocab
        self.clock = clock
        self.events = events
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def say(self, text: str) -> None:
        self.events.emit("prompt", text=text)
        print(text, file=self.stdout, flush=True)

    def chime(self, kind: str) -> None:
        print("  ~" if kind != "break" else "  ~ ~ ~", file=self.stdout, flush=True)

    def play(self, audio: Audio) -> None:
        """Nothing to play a recording on; the caller says its words instead."""

    def listen(self, intents: Iterable[str], seconds: float, *, turn: bool = False, record: bool = False,
               new_phase: bool = True, observe: ChunkObserver | None = None) -> Heard:
        intents = list(intents)  # typed: no audio to observe
        self.events.emit("listening", intents=intents, seconds=round(seconds, 2), turn=turn)
        hint = " (typ wat je zegt, of Enter als je klaar bent)" if turn else ""
        print(f"> {hint}" if hint else "> ", end="", file=self.stdout, flush=True)
        line = self.stdin.readline()
        if line == "":  # end of input: nobody is typing any more
            raise InputClosed(
                "The typed input ended before the exercise did.", "Run `voicecoach resume --text` to continue."
            )
        self.clock.sleep(1.0)
        heard = self._judge(line, intents, turn)
        self.events.emit("heard", kind=heard.kind, intent=heard.intent, phrase=heard.phrase,
                         confidence=heard.confidence, latency=None)
        return heard

    def _judge(self, line: str, intents: list[str], turn: bool) -> Heard:
        text = normalize(line)
        intent = self.vocab.phrase_map(intents).get(text)
        if intent is not None:
            return Heard("intent", intent=intent, phrase=text, confidence=1.0, t=self.clock.now())
        if turn:
            # What was typed in a turn is the turn itself; Enter ends it.
            return Heard("intent", intent="done", phrase=text, confidence=1.0, t=self.clock.now(),
                         said=line.strip() or None)
        if not text:
            return Heard("silence", t=self.clock.now())
        return Heard("unclear", phrase=text, reason="no phrase matches", t=self.clock.now(), said=line.strip())
