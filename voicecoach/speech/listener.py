"""Listening: the endpointer finds each utterance, Vosk reads it twice, the decision step judges it.

The parts, each testable alone: `endpoint.Endpointer` (where an utterance
starts and ends), `judge.judge` (what it was), `steady.SteadySource` (a
microphone that rides out outages). The Listener runs them for one question
or one speaking turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

from voicecoach.audio.sources import AudioSource, Chunk
from voicecoach.clock import Clock
from voicecoach.errors import UserError
from voicecoach.speech.calibration import Profile
from voicecoach.speech.decide import Heard, Thresholds, extends
from voicecoach.speech.endpoint import TWO_GRAMMARS, Endpointer, ListenSettings, Utterance
from voicecoach.speech.judge import judge
from voicecoach.speech.own_answers import OwnAnswers
from voicecoach.speech.recognizer import Recognizer, VoskModel
from voicecoach.speech.steady import SteadySource
from voicecoach.speech.vad import make_vad, steady
from voicecoach.speech.vocab import Vocabulary

__all__ = ["TWO_GRAMMARS", "Listener", "ListenSettings", "OutageCallback", "build_listener"]

log = logging.getLogger(__name__)

# The one grammar's reasons for "unclear" that say the words, not the sound, were in doubt: such an utterance is read
# again (decide.py). Not "unknown words": where the model has [unk], it explained the sound better than any phrase.
READ_AGAIN = ("no phrase matches", "low confidence", "no words", "more was said")

# Told "lost" when the microphone stops and "back" when it works again; returns
# the clock time its own spoken notice ended (None: nothing was spoken).
OutageCallback = Callable[[str], float | None]


class Listener:
    """Listens for the phrases valid now, until a decision or a deadline."""

    def __init__(
        self,
        source: AudioSource,
        recognizer: Recognizer,
        vocab: Vocabulary,
        clock: Clock,
        settings: ListenSettings | None = None,
        on_outage: OutageCallback | None = None,
    ) -> None:
        self.source = source
        self.recognizer = recognizer
        self.vocab = vocab
        self.clock = clock
        self.settings = s = settings or ListenSettings()
        self.vad = make_vad(s.vad)  # one for the whole stream: the room's noise floor carries over
        self.on_outage = on_outage
        self.mic = SteadySource(source, clock, s.retry_seconds, s.max_outage, s.self_tail, self._notify)
        self.discarded = 0  # utterances not decided on because audio was dropped in them
        self.voice_db: float | None = None  # how loud the couple's answers are, once one was heard
        self.thresholds: Thresholds | None = None  # a couple's calibration; None: the vocabulary's defaults
        self.own: OwnAnswers | None = None  # their answers as the check heard them (own_answers.py)
        self.their_wake: OwnAnswers | None = None  # their wake phrase, for serve's waiting (device/wake.py)
        # `voicecoach check` keeps the last answer's audio (in memory, until the next listen) to learn its shape,
        # and serve's waiting to compare it with their wake phrase (dropped by Server._listen once judged);
        # otherwise an utterance's audio is dropped once it is judged (README, "what is kept").
        self.keep_utterance = False
        self.last_utterance = np.zeros(0, np.int16)
        self._denoise = _denoiser(s.denoise) if s.denoise else None

    @property
    def outages(self) -> int:
        """Microphone losses survived, for tests and logs."""
        return self.mic.outages

    def listen(
        self,
        intents: Iterable[str],
        until: float,
        *,
        turn: bool = False,
        spoke_until: float | None = None,
        record: bool = False,
        new_phase: bool = True,
    ) -> Heard:
        """Listen from now until `until` (clock time).

        An answer (turn=False) ends at the first utterance: an intent, a
        "check" (nearly sure: the conversation asks back) or "unclear"; nobody
        speaking gives "silence". In a speaking turn (turn=True) talk that
        matches nothing is simply the turn going on; only a valid phrase said
        on its own, or the deadline ("timer"), ends it.

        If the microphone is lost meanwhile, listening waits for it to come
        back; `until` moves by the time it was gone, and Heard.lost says how
        long that was, so the caller's own timers can move too.
        """
        s = self.settings
        phrases, garbage = self._set_grammar(intents)
        # Our own voice, and its echo for a short tail, is never an answer.
        self.mic.begin(spoke_until + s.self_tail if spoke_until is not None else float("-inf"), new_phase)
        ep = Endpointer(s, self.vad, turn, self.vocab.max_answer_seconds + 1.0)
        recorded: list[np.ndarray] = []
        said: list[np.ndarray] = []  # the utterance in progress, while there is something to compare it with
        compare = not turn and (self.own is not None or self.keep_utterance)
        self.last_utterance = np.zeros(0, np.int16)
        glitches = self.mic.glitches  # audio lost before we read it, so far

        def result(heard: Heard) -> Heard:
            if record:
                heard = replace(heard, audio=np.concatenate(recorded) if recorded else np.zeros(0, np.int16))
            return replace(heard, lost=self.mic.lost) if self.mic.lost else heard

        while True:
            now = self.clock.now()
            if now >= until + self.mic.lost and ep.utterance is None:
                # The last voice, even talk that decided nothing: a talking turn is not a silent one.
                return result(Heard("timer" if turn else "silence", t=now,
                                    speech_end=ep.last_voice if ep.heard_voice else None))
            chunk = self._next_chunk(ep, recorded if record else None)
            if chunk is None:
                continue
            if ep.utterance is None and ep.onset == 0:
                glitches = self.mic.glitches
            if ep.utterance is None:  # (an utterance cut off, the microphone broke: start afresh)
                said.clear()
            self._feed(ep, chunk, said if compare else None, phrases)
            if not ep.over():
                continue
            audio = np.concatenate(said) if said else np.zeros(0, np.int16)
            said.clear()
            heard = self._utterance(ep, audio, self.mic.glitches - glitches, phrases, garbage, turn, chunk.t1)
            glitches = self.mic.glitches
            if heard is not None:
                return result(heard)

    def _set_grammar(self, intents: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        """The phrases valid now, and the garbage grammar: what is *not* an answer now (never one of those
        phrases: a filler word can be a value of a list, "모험", "humor")."""
        phrases = self.vocab.phrase_map(intents)
        words = {w for p in phrases for w in p.split()}
        garbage = [f for f in self.vocab.fillers if f not in phrases and not set(f.split()) & words]
        if self.settings.decision in ("two grammars", "verified"):
            self.recognizer.set_grammar(list(phrases), garbage, broad=self.settings.decision == "verified")
        else:  # fillers beside the phrases: other talk lands on them
            self.recognizer.set_grammar(list(phrases) + garbage)
        return phrases, garbage

    def _next_chunk(self, ep: Endpointer, recorded: list[np.ndarray] | None) -> Chunk | None:
        """The next chunk from the microphone (kept in `recorded` as it came), or None for now."""
        chunk = self.mic.read(self.settings.read_timeout)
        if self.mic.broke:
            # Half an utterance is not an answer: start afresh with the device back.
            self.mic.broke = False
            if ep.utterance is not None:
                self.recognizer.final()
            ep.cut()
        if chunk is None:
            return None
        if recorded is not None:
            recorded.append(chunk.samples)
        return self._denoise(chunk) if self._denoise is not None else chunk

    def _feed(self, ep: Endpointer, chunk: Chunk, said: list[np.ndarray] | None, phrases: dict[str, str]) -> None:
        """One chunk to the endpointer, and what it passes on to the recognizer (and to `said`, if kept)."""
        for part in ep.push(chunk, self.voice_db):
            self.recognizer.accept(part.samples.tobytes())
            if said is not None:
                said.append(part.samples)
        if ep.prefix_check_due():
            partial = self.recognizer.partial()
            # "klopt" may still become "klopt niet": wait a little longer.
            if not partial or extends(partial, phrases):
                ep.wait_longer()

    def _utterance(self, ep: Endpointer, audio: np.ndarray, lost_blocks: int, phrases: dict[str, str],
                   garbage: list[str], turn: bool, t: float) -> Heard | None:
        """The decision step on an utterance just ended (`audio`: its sound, if kept for a comparison); None:
        nothing to answer with yet (a turn's own talk, a cough), listen on."""
        s = self.settings
        utt = ep.finish()
        reading = self.recognizer.final()
        if self.keep_utterance:
            self.last_utterance = audio
        if lost_blocks:
            # Audio went missing inside this utterance: what is left could
            # read as another phrase ("klopt [niet]"), so decide nothing.
            self.discarded += 1
            log.warning("an utterance was not decided on: %d block(s) of audio were lost in it", lost_blocks)
            return None if turn else Heard("unclear", reason="audio lost", t=t, speech_end=utt.last_voice,
                                           level_db=utt.loudest)
        if utt.voiced > ep.limit and not turn and steady(utt.levels):
            # As loud all along: a fan or a cooker hood the noise floor had not caught up with (the first
            # question in a noisy kitchen, the hood just switched on), not an answer nobody gave.
            self.vad.settle(float(np.median(utt.levels)))
            return None
        heard = judge(reading, utt, phrases, self.vocab, s, self.thresholds, turn, t)
        if utt.voiced > ep.limit and not turn:
            # Far longer than any answer: wait for the talk to end, then call it unclear.
            self._drain_until_quiet(ep.need)
            return replace(heard, kind="unclear", intent=None, reason="too long", t=self.clock.now())
        # Never what was said: the kind of decision and its numbers only.
        log.debug("utterance: %s (%s) conf %.2f, ratio %s, %.2f s voiced", heard.kind, heard.reason,
                  heard.confidence, "-" if heard.ratio is None else f"{heard.ratio:.2f}", utt.voiced)
        if heard.kind == "intent" and not turn and self.own is not None and self.own.doubts(
                audio, heard.intent, heard.phrase):
            # Sure, and yet it sounds like their other answer: asked back, never decided.
            return replace(heard, kind="check", reason="asked back: it sounds like their other answer")
        if heard.kind in ("intent", "check"):
            self._learn_voice(utt.loudest)
            return heard
        if turn or not reading.answers and utt.voiced < 0.3:
            return None  # a cough, a click, or the turn's own talk: keep listening
        if s.ask_back_unclear and s.decision == "one grammar" and phrases and heard.reason in READ_AGAIN:
            # Not learned from as their voice (a television's talk is asked back too, now and then).
            heard = self._read_again(heard, utt, phrases, garbage, t)
        return heard

    def _read_again(self, heard: Heard, utt: Utterance, phrases: dict[str, str], garbage: list[str],
                    t: float) -> Heard:
        """The one grammar left it unclear (on the tuning voices, mostly because a filler took the answer): read
        with the phrases alone against the garbage grammar, what the two-grammar decision would decide outright is
        asked back, never decided. (Its "nearly sure" as well asked back three times as often on talk of the
        tuning voices: 28 against 9 in twenty minutes of conversation and television.)"""
        again = judge(self.recognizer.reread(list(phrases), garbage), utt, phrases, self.vocab, self.settings,
                      self.thresholds, False, t)
        if again.kind != "intent":
            return heard
        return replace(again, kind="check", reason="asked back: the everyday words took it")

    def use(self, profile: Profile | None) -> None:
        """Listen as calibrated for this couple: their thresholds, their loudness, their own answers
        (None: as for anyone, after `voicecoach forget`: nothing learned of their voices is left in memory)."""
        if profile is None:
            self.thresholds, self.own, self.their_wake, self.voice_db = None, None, None, None
            return
        self.thresholds = profile.thresholds
        self.own = profile.own
        self.their_wake = profile.wake
        if profile.voice_db is not None:
            self.voice_db = profile.voice_db

    def _learn_voice(self, level_db: float) -> None:
        # Slowly: one loud or soft answer does not move it far.
        self.voice_db = level_db if self.voice_db is None else 0.8 * self.voice_db + 0.2 * level_db

    def _notify(self, what: str) -> float | None:
        if self.on_outage is None:
            return None
        try:
            return self.on_outage(what)
        except UserError:  # the speaker or synthesizer may be gone too: listening matters more
            log.warning("could not tell the couple the microphone is %s", what, exc_info=True)
            return None

    def _drain_until_quiet(self, quiet_needed: float, max_seconds: float = 30.0) -> None:
        start = self.clock.now()
        last_voice = start
        while self.clock.now() - start < max_seconds:
            chunk = self.mic.read(self.settings.read_timeout)
            if chunk is None:
                continue
            if self.vad.is_speech(chunk):
                last_voice = chunk.t1
            elif chunk.t1 - last_voice >= quiet_needed:
                return


def _denoiser(level: int) -> Callable[[Chunk], Chunk]:
    """WebRTC noise suppression on 10 ms blocks (webrtc-noise-gain), for the evaluation of `denoise`."""
    from webrtc_noise_gain import AudioProcessor

    processor = AudioProcessor(0, level)

    def run(chunk: Chunk) -> Chunk:
        raw = chunk.samples.astype("<i2").tobytes()
        out = b"".join(processor.Process10ms(raw[i:i + 320]).audio for i in range(0, len(raw) - 319, 320))
        return Chunk(np.frombuffer(out, "<i2").astype(np.int16), chunk.t0, chunk.rate)

    return run


def build_listener(source: AudioSource, model: VoskModel, vocab: Vocabulary, clock: Clock,
                   settings: ListenSettings | None = None, profile: Profile | None = None) -> Listener:
    """The listener as every command uses it (and the evaluation in scripts/hearing.py measures it).

    `profile`: what `voicecoach check` learned about this couple's voices.
    """
    listener = Listener(source, model.recognizer(source.rate), vocab, clock, settings)
    if profile is not None:
        listener.use(profile)
    return listener
