"""Listening: voice activity finds each utterance, Vosk hears it, the rules decide."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from voicecoach.audio.sources import AudioSource, Chunk
from voicecoach.clock import Clock
from voicecoach.speech.decide import Heard, decide, extends
from voicecoach.speech.recognizer import Recognizer
from voicecoach.speech.vad import EnergyVad
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


class Listener:
    """Listens for the phrases valid now, until a decision or a deadline."""

    def __init__(
        self,
        source: AudioSource,
        recognizer: Recognizer,
        vocab: Vocabulary,
        clock: Clock,
        settings: ListenSettings | None = None,
    ) -> None:
        self.source = source
        self.recognizer = recognizer
        self.vocab = vocab
        self.clock = clock
        self.settings = settings or ListenSettings()
        self.vad = EnergyVad()

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
        """
        s = self.settings
        phrases = self.vocab.phrase_map(intents)
        self.recognizer.set_grammar(list(phrases) + list(self.vocab.fillers))
        # Our own voice, and its echo for a short tail, is never an answer.
        guard = spoke_until + s.self_tail if spoke_until is not None else float("-inf")
        self.source.begin_listening(guard, new_phase)
        preroll: deque[Chunk] = deque(maxlen=max(1, int(s.preroll / 0.02)))
        recorded: list[np.ndarray] = []
        in_utterance = False
        onset = 0
        voiced = 0.0
        last_voice = 0.0
        loudest = -120.0
        checked_prefix = False
        need = s.turn_end_silence if turn else s.answer_end_silence
        limit = self.vocab.max_answer_seconds + 1.0

        def result(heard: Heard) -> Heard:
            if record:
                audio = np.concatenate(recorded) if recorded else np.zeros(0, np.int16)
                return Heard(**{**heard.__dict__, "audio": audio})
            return heard

        while True:
            now = self.clock.now()
            if now >= until and not in_utterance:
                return result(Heard("timer" if turn else "silence", t=now))
            chunk = self.source.read(s.read_timeout)
            if chunk is None:
                continue
            if record:
                recorded.append(chunk.samples)
            speech = self.vad.is_speech(chunk)
            if not in_utterance:
                preroll.append(chunk)
                onset = onset + 1 if speech else 0
                if onset < s.onset_chunks:
                    continue
                in_utterance, voiced, checked_prefix = True, 0.0, False
                need = s.turn_end_silence if turn else s.answer_end_silence
                for c in preroll:
                    self.recognizer.accept(c.samples.tobytes())
                voiced = s.onset_chunks * 0.02
                last_voice, loudest = chunk.t1, self.vad.level_db
                preroll.clear()
                continue
            self.recognizer.accept(chunk.samples.tobytes())
            if speech:
                voiced += chunk.t1 - chunk.t0
                last_voice = chunk.t1
                loudest = max(loudest, self.vad.level_db)
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
            words = self.recognizer.final()
            in_utterance, onset = False, 0
            heard = decide(words, voiced, phrases, self.vocab)
            heard = Heard(
                heard.kind, heard.intent, heard.phrase, heard.confidence, heard.reason,
                t=chunk.t1, speech_end=last_voice, level_db=loudest,
            )
            if voiced > limit and not turn:
                # Far longer than any answer: wait for the talk to end, then call it unclear.
                self._drain_until_quiet(need)
                return result(Heard("unclear", phrase=heard.phrase, reason="too long", t=self.clock.now(),
                                    speech_end=last_voice, level_db=loudest))
            log.debug("utterance: %s %s (%s) conf %.2f, %.2f s voiced", heard.kind, heard.intent, heard.reason,
                      heard.confidence, voiced)
            if heard.kind == "intent":
                return result(heard)
            if turn or not words and voiced < 0.3:
                continue  # a cough, a click, or the turn's own talk: keep listening
            return result(heard)

    def _drain_until_quiet(self, quiet_needed: float, max_seconds: float = 30.0) -> None:
        start = self.clock.now()
        last_voice = start
        while self.clock.now() - start < max_seconds:
            chunk = self.source.read(self.settings.read_timeout)
            if chunk is None:
                continue
            if self.vad.is_speech(chunk):
                last_voice = chunk.t1
            elif chunk.t1 - last_voice >= quiet_needed:
                return
