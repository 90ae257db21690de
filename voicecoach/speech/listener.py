"""Listening: voice activity finds each utterance, Vosk hears it, the rules decide."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from voicecoach.audio.live import DeviceLost
from voicecoach.audio.sources import CHUNK_SECONDS, AudioSource, Chunk
from voicecoach.clock import Clock
from voicecoach.errors import DeviceError, UserError
from voicecoach.speech.calibration import Profile
from voicecoach.speech.decide import Heard, Thresholds, decide, extends
from voicecoach.speech.recognizer import Hypothesis, Recognizer, VoskModel
from voicecoach.speech.vad import make_vad
from voicecoach.speech.vocab import Vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListenSettings:
    """Timings in seconds."""

    answer_end_silence: float = 0.18  # an answer is over after this much quiet...
    prefix_end_silence: float = 0.32  # ...or this much if a longer phrase could follow
    turn_end_silence: float = 0.6  # in a speaking turn, a word "on its own" is set off by pauses
    preroll: float = 0.3  # audio kept from before the voice was detected (soft onsets)
    onset_chunks: int = 2  # consecutive voiced chunks that start an utterance (not a click)
    self_tail: float = 0.35  # after our own voice stops, its echo may still arrive
    read_timeout: float = 0.25
    tail_db: float = 18.0  # in an utterance, sound this far below its loudest is background, not voice
    background_db: float = 20.0  # voices this far below the couple's own (a TV, another room) are not listened to
    min_voice_share: float = 0.4  # a phrase needs at least this share of its words' time voiced above the noise
    min_snr_db: float = 15.0  # an answer must stand this far above the room's noise to be trusted
    vad: str = "energy"  # "silero": a neural voice detector decides what is voice (speech/vad.py)
    word_db: float = 99.0  # every word of a phrase must peak within this of the utterance's loudest (not an echo)
    retry_seconds: float = 3.0  # a lost microphone is tried again this often
    max_outage: float = 1800.0  # then give up: progress is saved, `voicecoach resume` goes on


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
        self.settings = settings or ListenSettings()
        self.vad = make_vad(self.settings.vad)
        self.on_outage = on_outage
        self.outages = 0  # microphone losses survived, for tests and logs
        self.discarded = 0  # utterances not decided on because audio was dropped in them
        self._lost = 0.0  # seconds the microphone was gone during the current listen()
        self._broke = False  # an outage cut the stream: what was being said is gone
        self.voice_db: float | None = None  # how loud the couple's answers are, once one was heard
        self.thresholds: Thresholds | None = None  # a couple's calibration; None: the vocabulary's defaults

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

        An answer (turn=False) ends at the first utterance: an intent, or
        "unclear"; nobody speaking gives "silence". In a speaking turn
        (turn=True) talk that matches nothing is simply the turn going on;
        only a valid phrase said on its own, or the deadline ("timer"), ends it.

        If the microphone is lost meanwhile, listening waits for it to come
        back; `until` moves by the time it was gone, and Heard.lost says how
        long that was, so the caller's own timers can move too.
        """
        s = self.settings
        phrases = self.vocab.phrase_map(intents)
        self.recognizer.set_grammar(list(phrases), list(self.vocab.fillers))
        # Our own voice, and its echo for a short tail, is never an answer.
        guard = spoke_until + s.self_tail if spoke_until is not None else float("-inf")
        self.source.begin_listening(guard, new_phase)
        preroll: deque[tuple[Chunk, float]] = deque(maxlen=max(1, int(s.preroll / 0.02)))
        recorded: list[np.ndarray] = []
        levels: list[float] = []  # of the chunks the recognizer heard in this utterance
        in_utterance = False
        onset = 0
        voiced = 0.0
        last_voice = 0.0
        voice_heard = False  # any utterance in this window: a turn's timer result says when
        loudest = -120.0
        floor = -120.0
        checked_prefix = False
        need = s.turn_end_silence if turn else s.answer_end_silence
        limit = self.vocab.max_answer_seconds + 1.0
        self._lost, self._broke = 0.0, False
        glitches = self._glitches()  # audio lost before we read it, so far

        def result(heard: Heard) -> Heard:
            if record:
                audio = np.concatenate(recorded) if recorded else np.zeros(0, np.int16)
                heard = replace(heard, audio=audio)
            return replace(heard, lost=self._lost) if self._lost else heard

        while True:
            now = self.clock.now()
            if now >= until + self._lost and not in_utterance:
                # The last voice, even talk that decided nothing: a talking turn is not a silent one.
                return result(Heard("timer" if turn else "silence", t=now,
                                    speech_end=last_voice if voice_heard else None))
            chunk = self._read()
            if self._broke:
                # Half an utterance is not an answer: start afresh with the device back.
                self._broke = False
                if in_utterance:
                    self.recognizer.final()
                in_utterance, onset = False, 0
                preroll.clear()
            if chunk is None:
                continue
            if record:
                recorded.append(chunk.samples)
            speech = self.vad.is_speech(chunk)
            level = self.vad.level_db
            if not in_utterance:
                if onset == 0:
                    glitches = self._glitches()
                preroll.append((chunk, level))
                # Far quieter than the couple's own answers: the television, not them.
                near = self.voice_db is None or level >= self.voice_db - s.background_db
                onset = onset + 1 if speech and near else 0
                if onset < s.onset_chunks:
                    continue
                in_utterance, voiced, checked_prefix, voice_heard = True, 0.0, False, True
                need = s.turn_end_silence if turn else s.answer_end_silence
                loudest = max(lv for _, lv in list(preroll)[-s.onset_chunks:])
                floor = self.vad.floor_db  # the room's noise as the utterance began
                # Only from where the voice starts: sound far quieter before it (a television,
                # the room) would be read as words of the answer.
                start = next(i for i, (_, lv) in enumerate(preroll) if lv >= loudest - s.tail_db)
                levels = []
                for c, lv in list(preroll)[start:]:
                    self.recognizer.accept(c.samples.tobytes())
                    levels.append(lv)
                voiced = s.onset_chunks * 0.02
                last_voice = chunk.t1
                preroll.clear()
                continue
            self.recognizer.accept(chunk.samples.tobytes())
            levels.append(level)
            # Background speech under an answer would keep it "going on" forever: only
            # sound near the answer's own loudness keeps it open.
            if speech and level >= loudest - s.tail_db:
                voiced += chunk.t1 - chunk.t0
                last_voice = chunk.t1
                loudest = max(loudest, level)
                checked_prefix = False
                need = s.turn_end_silence if turn else s.answer_end_silence
            quiet = chunk.t1 - last_voice
            if not turn and not checked_prefix and quiet >= need:
                checked_prefix = True
                partial = self.recognizer.partial()
                # "klopt" may still become "klopt niet": wait a little longer.
                if not partial or extends(partial, phrases):
                    need = max(need, s.prefix_end_silence)
            if quiet < need and voiced <= limit:
                continue
            reading = self.recognizer.final()
            words = reading.answers
            in_utterance, onset = False, 0
            if self._glitches() != glitches:
                # Audio went missing inside this utterance: what is left could
                # read as another phrase ("klopt [niet]"), so decide nothing.
                self.discarded += 1
                log.warning("an utterance was not decided on: %d block(s) of audio were lost in it",
                            self._glitches() - glitches)
                glitches = self._glitches()
                if turn:
                    continue
                return result(Heard("unclear", reason="audio lost", t=chunk.t1, speech_end=last_voice,
                                    level_db=loudest))
            heard = decide(words, voiced, phrases, self.vocab, garbage=reading.garbage, seconds=reading.seconds,
                           thresholds=self.thresholds)
            sure = heard.kind in ("intent", "check")
            span = _span(words)
            heard = replace(heard, snr_db=loudest - floor, voice_share=voiced / span if span > 0 else None)
            if sure and loudest - floor < s.min_snr_db:
                # Barely above the noise: the recognizer's reading is a guess (tests/test_reliability.py).
                heard = replace(heard, kind="unclear", intent=None, reason="too noisy")
            elif sure and voiced < s.min_voice_share * span:
                # Words read into noise: the recognizer found a phrase where hardly any voice stood
                # above the room (measured: every wrong decision in loud noise, few right ones).
                heard = replace(heard, kind="unclear", intent=None, reason="too little voice")
            weakest = _weakest_word(words, levels, loudest)
            heard = replace(heard, t=chunk.t1, speech_end=last_voice, level_db=loudest, weakest_db=weakest)
            if heard.kind in ("intent", "check") and weakest is not None and weakest > s.word_db:
                # A word read into the echo of the answer or into the noise after it ("네" + the room's
                # reverberation read as "네 아니요"): what was said is not sure.
                heard = replace(heard, kind="unclear", intent=None, reason="a word was not voiced")
            if heard.kind == "check" and turn:
                heard = replace(heard, kind="unclear", intent=None)  # a turn goes on; no question in between
            if voiced > limit and not turn:
                # Far longer than any answer: wait for the talk to end, then call it unclear.
                self._drain_until_quiet(need)
                return result(replace(heard, kind="unclear", intent=None, reason="too long", t=self.clock.now()))
            # Never what was said: the kind of decision and its numbers only.
            log.debug("utterance: %s (%s) conf %.2f, ratio %s, %.2f s voiced", heard.kind, heard.reason,
                      heard.confidence, "-" if heard.ratio is None else f"{heard.ratio:.2f}", voiced)
            if heard.kind in ("intent", "check"):
                self._learn_voice(loudest)
                return result(heard)
            if turn or not words and voiced < 0.3:
                continue  # a cough, a click, or the turn's own talk: keep listening
            return result(heard)

    def use(self, profile: Profile) -> None:
        """Listen as calibrated for this couple: their thresholds, their loudness."""
        self.thresholds = profile.thresholds
        if profile.voice_db is not None:
            self.voice_db = profile.voice_db

    def _learn_voice(self, level_db: float) -> None:
        # Slowly: one loud or soft answer does not move it far.
        self.voice_db = level_db if self.voice_db is None else 0.8 * self.voice_db + 0.2 * level_db

    def _glitches(self) -> int:
        return int(getattr(self.source, "overflows", 0))

    def _read(self) -> Chunk | None:
        """The next chunk; None on a timeout, or after riding out a lost microphone."""
        try:
            return self.source.read(self.settings.read_timeout)
        except DeviceLost as exc:
            self._ride_out(exc)
            return None

    def _ride_out(self, exc: DeviceLost) -> None:
        """Wait for the microphone to come back, trying it every few seconds; timers stand still."""
        s = self.settings
        start = self.clock.now()
        self.outages += 1
        log.warning("the microphone was lost (%s); trying it again every %.0f s", exc.message, s.retry_seconds)
        self._notify("lost")
        tries = 0
        while True:
            if self.clock.now() - start >= s.max_outage:
                raise DeviceError(
                    f"The microphone did not come back for {s.max_outage / 60:.0f} minutes.",
                    "Check its cable or USB plug, then run `voicecoach resume` to go on where you were.",
                )
            self.clock.sleep(s.retry_seconds)
            tries += 1
            try:
                self.source.close()
                self.source.start()
            except DeviceError as again:
                log.info("microphone still gone (try %d): %s", tries, again.message)
                continue
            break
        log.warning("the microphone is back after %.1f s (%d tries)", self.clock.now() - start, tries)
        spoke_until = self._notify("back")
        self._lost += self.clock.now() - start
        self._broke = True
        guard = spoke_until + s.self_tail if spoke_until is not None else self.clock.now()
        # Our own "it works again" is not an answer; the couple goes on where they were.
        self.source.begin_listening(guard, new_phase=False)

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
            chunk = self._read()
            if chunk is None:
                continue
            if self.vad.is_speech(chunk):
                last_voice = chunk.t1
            elif chunk.t1 - last_voice >= quiet_needed:
                return


def build_listener(source: AudioSource, model: VoskModel, vocab: Vocabulary, clock: Clock,
                   settings: ListenSettings | None = None, profile: Profile | None = None) -> Listener:
    """The listener as every command uses it (and the evaluation in scripts/hearing.py measures it).

    `profile`: what `voicecoach check` learned about this couple's voices.
    """
    listener = Listener(source, model.recognizer(source.rate), vocab, clock, settings)
    if profile is not None:
        listener.use(profile)
    return listener


def _weakest_word(hypotheses: list[Hypothesis], levels: list[float], loudest: float) -> float | None:
    """dB from the utterance's loudest chunk down to the peak of its quietest word (best reading)."""
    words = hypotheses[0].words if hypotheses else ()
    if not words or not levels:
        return None
    step = CHUNK_SECONDS
    gaps = []
    for w in words:
        first, last = int(w.start / step), max(int(w.start / step) + 1, int(np.ceil(w.end / step)))
        inside = levels[max(0, first):min(len(levels), last)]
        gaps.append(loudest - max(inside) if inside else 120.0)
    return max(gaps)


def _span(hypotheses: list[Hypothesis]) -> float:
    """Seconds from the best reading's first word to its last."""
    words = hypotheses[0].words if hypotheses else ()
    return words[-1].end - words[0].start if words else 0.0
