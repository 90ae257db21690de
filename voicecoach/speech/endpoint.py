"""Where an utterance starts and ends: voice activity, levels, and how long the quiet after it lasts."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from voicecoach.audio.pcm import RATE
from voicecoach.audio.sources import CHUNK_SECONDS, Chunk
from voicecoach.speech.vad import EnergyVad, NeuralVad


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
    loud_db: float = 6.0  # in an utterance, sound this close to its loudest is voice even before the VAD says so
    background_db: float = 20.0  # voices this far below the couple's own (a TV, another room) are not listened to
    min_voice_share: float = 0.4  # a phrase needs at least this share of its words' time voiced above the noise
    min_snr_db: float = 15.0  # an answer must stand this far above the room's noise to be trusted
    vad: str = "energy"  # "silero": a neural voice detector decides what is voice ("energy": the level alone)
    word_db: float = 99.0  # every word of a phrase must peak within this of the utterance's loudest (not an echo)
    # "one grammar": the phrases valid now and the fillers compete in one grammar (fillers catch other talk).
    # "two grammars": the phrases alone, scored against a garbage grammar of the fillers, with the
    # thresholds of vocab.py and asking back in between (see TWO_GRAMMARS and the README).
    # "verified": two grammars, plus a third reading (phrases and fillers in one grammar) that must hear the
    # same answer for the easier acceptance line (decide.AGREED_EASIER / ALONE_HARDER; see VERIFIED).
    decision: str = "one grammar"
    # With "one grammar": an utterance it leaves unclear by its words (a filler took it, the meanings competed) is read
    # again as the two-grammar decision reads it, and what that would decide is asked back ("Ik hoorde: klopt. Is dat
    # goed?"), never decided: a middle band without a single new wrong decision (README, "What was tried").
    ask_back_unclear: bool = True
    denoise: int = 0  # WebRTC noise suppression level 1-4 before everything (0: off; measured, not kept)
    retry_seconds: float = 3.0  # a lost microphone is tried again this often
    max_outage: float = 1800.0  # then give up: progress is saved, `voicecoach resume` goes on


# The candidate chosen on the tuning voices (scripts/hearing.py --split tuning --sweep): it hears more
# answers on held-out voices but decides more of them wrong, so it is not the default yet (README).
TWO_GRAMMARS = {"decision": "two grammars", "vad": "silero", "min_snr_db": 8.0, "word_db": 12.0}
VERIFIED = {**TWO_GRAMMARS, "decision": "verified"}


@dataclass
class Utterance:
    """What the endpointer measured of one utterance."""

    voiced: float  # seconds of voice near the utterance's own loudness
    last_voice: float  # stream time the voice last stood out
    loudest: float  # dBFS of its loudest chunk
    floor: float  # the room's noise (dBFS) as it began
    levels: list[float] = field(default_factory=list)  # of each chunk the recognizer heard, in order


class Endpointer:
    """Finds utterances in a stream of chunks.

    An utterance starts after `onset_chunks` voiced chunks in a row that are
    not far quieter than the couple's own voice (a television is); the
    preroll before it goes to the recognizer too, from where the sound comes
    near the voice's loudness. It ends after enough quiet: `answer_end_silence`,
    or `prefix_end_silence` when the caller says a longer phrase could follow
    (`wait_longer`), or `turn_end_silence` in a speaking turn.
    """

    def __init__(self, settings: ListenSettings, vad: EnergyVad | NeuralVad, turn: bool, limit: float) -> None:
        self.s = settings
        self.vad = vad
        self.turn = turn
        self.limit = limit  # voiced seconds beyond which it is over anyway (far longer than any answer)
        self.preroll: deque[tuple[Chunk, float]] = deque(maxlen=max(1, int(settings.preroll / CHUNK_SECONDS)))
        self.onset = 0
        self.utterance: Utterance | None = None
        self.heard_voice = False  # any utterance in this window
        self.last_voice = 0.0  # stream time of the last voice, kept after its utterance ended
        self._need = self._end_silence()
        self._checked_prefix = False
        # Quiet is counted in samples, not as a difference of stream times: 0.18 s after t=12.34 and after
        # t=512.34 must be the same number of chunks, or the same audio ends differently in another session.
        self._quiet_samples = 0
        self._rate = RATE

    def _end_silence(self) -> float:
        return self.s.turn_end_silence if self.turn else self.s.answer_end_silence

    def push(self, chunk: Chunk, voice_db: float | None) -> list[Chunk]:
        """Take one chunk; return what the recognizer should hear now (nothing while nobody speaks)."""
        s = self.s
        speech = self.vad.is_speech(chunk)
        level = self.vad.level_db
        utt = self.utterance
        if utt is None:
            self.preroll.append((chunk, level))
            # Far quieter than the couple's own answers: the television, not them.
            near = voice_db is None or level >= voice_db - s.background_db
            self.onset = self.onset + 1 if speech and near else 0
            if self.onset < s.onset_chunks:
                return []
            loudest = max(lv for _, lv in list(self.preroll)[-s.onset_chunks:])
            # Only from where the voice starts: sound far quieter before it (a television,
            # the room) would be read as words of the answer.
            start = next(i for i, (_, lv) in enumerate(self.preroll) if lv >= loudest - s.tail_db)
            kept = list(self.preroll)[start:]
            self.utterance = Utterance(s.onset_chunks * CHUNK_SECONDS, chunk.t1, loudest, self.vad.floor_db,
                                       [lv for _, lv in kept])
            self.heard_voice, self._checked_prefix, self._need = True, False, self._end_silence()
            self._quiet_samples = 0
            self.last_voice = chunk.t1
            self.preroll.clear()
            return [c for c, _ in kept]
        utt.levels.append(level)
        # Background speech under an answer would keep it "going on" forever: only
        # sound near the answer's own loudness keeps it open.
        # The neural detector takes a frame or two to hear a voice start again ("klopt ... niet"):
        # sound as loud as the answer itself is voice at once.
        if (speech and level >= utt.loudest - s.tail_db) or level >= utt.loudest - s.loud_db:
            utt.voiced += len(chunk.samples) / chunk.rate
            utt.last_voice = self.last_voice = chunk.t1
            utt.loudest = max(utt.loudest, level)
            self._checked_prefix, self._need = False, self._end_silence()
            self._quiet_samples = 0
        else:
            self._quiet_samples += len(chunk.samples)
        self._rate = chunk.rate
        return [chunk]

    @property
    def _quiet(self) -> float:
        return self._quiet_samples / self._rate

    def prefix_check_due(self) -> bool:
        """True once per stretch of quiet long enough to end an answer: ask whether it may still grow."""
        if self.turn or self._checked_prefix or self.utterance is None or self._quiet < self._need:
            return False
        self._checked_prefix = True
        return True

    def wait_longer(self) -> None:
        """"klopt" may still become "klopt niet": wait the prefix silence."""
        self._need = max(self._need, self.s.prefix_end_silence)

    def over(self) -> bool:
        utt = self.utterance
        return utt is not None and (self._quiet >= self._need or utt.voiced > self.limit)

    @property
    def need(self) -> float:
        return self._need

    def finish(self) -> Utterance:
        """The utterance that just ended; listening for the next one starts."""
        utt = self.utterance
        assert utt is not None
        self.cut()
        return utt

    def cut(self) -> None:
        """Forget the utterance in progress (e.g. the microphone broke off in the middle of it)."""
        self.utterance, self.onset = None, 0
        self.preroll.clear()
