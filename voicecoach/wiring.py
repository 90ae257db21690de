"""Builds the real or simulated devices from the command line, in one place."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach import paths, stopping
from voicecoach.audio.sinks import SilentSpeaker, Speaker, WavSpeaker
from voicecoach.audio.sources import AudioSource, FileSource, ScriptedCouple, Tap, parse_script
from voicecoach.clock import Clock, RealClock, SimClock
from voicecoach.device.wallclock import SimWallClock, SystemWallClock, WallClock
from voicecoach.environment import Environment
from voicecoach.errors import DataFileError, DeviceError, UserError
from voicecoach.events import EventLog
from voicecoach.speech import calibration
from voicecoach.speech.listener import Listener, build_listener
from voicecoach.speech.recognizer import VoskModel
from voicecoach.speech.render import has_voice
from voicecoach.speech.synth import Pyttsx3Synth, VoiceSettings
from voicecoach.speech.vocab import Vocabulary, load_vocabulary
from voicecoach.voice import MIC_MISSING, Conversation, TextConversation, VoiceConversation, say_once

log = logging.getLogger(__name__)

# espeak-ng speaks no slower than 80 words per minute (a lower rate is spoken at 80), and its manual calls about 500
# the practical maximum: outside these a --rate is a slip.
MIN_RATE, MAX_RATE = 80, 500


@dataclass
class Wired:
    """What a command works with; `close()` releases every device it opened."""

    clock: Clock
    events: EventLog
    conversation: Conversation
    vocab: Vocabulary
    source: AudioSource | None = None
    speaker: Speaker | None = None
    notices: list[str] = field(default_factory=list)

    def listener(self) -> Listener:
        """The listener itself, for commands that show what it decides (`voicecoach listen`)."""
        if not isinstance(self.conversation, VoiceConversation):
            raise UserError("Listening needs a microphone.", "Leave out --text.")
        return self.conversation.listener

    def has_microphone(self) -> bool:
        return isinstance(self.conversation, VoiceConversation)

    def source_finished(self) -> bool:
        """A microphone file played to its end, or a scripted couple's every line said."""
        return isinstance(self.source, FileSource | ScriptedCouple) and self.source.finished

    def close(self) -> None:
        for part in (self.source, self.speaker, self.conversation):
            close = getattr(part, "close", None)
            if close is not None:
                close()
        self.events.close()


_MODELS: dict[Path, VoskModel] = {}


def load_model(explicit: str | None) -> VoskModel:
    from voicecoach.model_store import find_model

    path = find_model(explicit)
    if path not in _MODELS:  # loading takes seconds; once per process
        # A stop while Vosk loads waits for it: a half-made model cannot be freed (a traceback at exit).
        with stopping.deferred(), _native_stderr_to_log("vosk"):
            _MODELS[path] = VoskModel(path)
    return _MODELS[path]


@contextlib.contextmanager
def _native_stderr_to_log(what: str) -> Iterator[None]:
    """Kaldi writes a damaged model's errors (and its usage text) straight to file 2;
    the user gets our one sentence, the details go to the debug log."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file 2 at all: nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace").strip()
            if text:
                log.debug("%s said: %s", what, text)


def make_clock(args: argparse.Namespace) -> Clock:
    return SimClock() if getattr(args, "fast", False) else RealClock()


def make_wall(args: argparse.Namespace, clock: Clock) -> WallClock:
    """The time of day the journal writes: the system's, or (tests) from --wall-start on, moving with `clock`."""
    start = getattr(args, "wall_start", None)
    if not start:
        return SystemWallClock()
    try:
        return SimWallClock(dt.datetime.fromisoformat(start), clock)
    except ValueError:
        raise UserError(f"--wall-start needs a date and time such as 2026-03-02T20:00, not {start!r}.",
                        "Write it as YYYY-MM-DDTHH:MM.") from None


def make_source(args: argparse.Namespace, clock: Clock) -> AudioSource:
    if getattr(args, "answers", None):
        return ScriptedCouple(parse_script(Path(args.answers)), clock)
    if getattr(args, "mic_file", None):
        return FileSource(Path(args.mic_file), clock)
    from voicecoach.audio.live import LiveMic, parse_device

    return LiveMic(clock, parse_device(getattr(args, "device", None)))


def make_speaker(args: argparse.Namespace, clock: Clock, notices: list[str]) -> tuple[Speaker, bool]:
    """The speaker, and whether prompts must also be printed (no sound possible)."""
    if getattr(args, "speaker_file", None):
        return WavSpeaker(paths.outside_stores(Path(args.speaker_file), "--speaker-file"), clock), False
    # --fast plays nothing, unless a speaker was named: then they want to hear it.
    if (clock.simulated and not getattr(args, "output_device", None)) or getattr(args, "mute", False):
        return SilentSpeaker(clock), False
    from voicecoach.audio.live import LiveSpeaker, parse_device

    try:
        return LiveSpeaker(clock, parse_device(getattr(args, "output_device", None))), False
    except DeviceError as exc:
        notices.append(f"{exc.message} The prompts are printed instead; {exc.fix[0].lower()}{exc.fix[1:]}")
        return SilentSpeaker(clock), True


def speaking_rate(args: argparse.Namespace) -> int:
    """--rate, or the calm default; 0 is refused, not taken as not given."""
    rate: int | None = getattr(args, "rate", None)
    if rate is None:
        return VoiceSettings.rate
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UserError(f"--rate needs a speaking rate from {MIN_RATE} to {MAX_RATE} words per minute, not {rate}.",
                        "Leave it out for the calm default of 150.")
    return rate


def make_synth(args: argparse.Namespace, language: str) -> Pyttsx3Synth:
    """The synthesizer; its temporary files live in the cache folder, so `forget` removes them too."""
    settings = VoiceSettings(language=language, voice=getattr(args, "voice", None), rate=speaking_rate(args))
    return Pyttsx3Synth(settings, cache_dir=paths.cache_dir() / "prompts", work_dir=paths.cache_dir() / "tts-tmp")


def check_voice(args: argparse.Namespace, vocab: Vocabulary) -> None:
    """The voice follows the vocabulary's language: one espeak-ng cannot speak is the file's mistake, said once
    before anything starts (not as a synthesis failure before every prompt). A --voice of their own is theirs;
    a --rate out of range is refused here too, before anything is opened."""
    speaking_rate(args)
    if not getattr(args, "voice", None) and has_voice(vocab.language) is False:
        raise DataFileError(vocab.source, "language", f"espeak-ng has no voice for {vocab.language!r}",
                            "Write a language `espeak-ng --voices` lists, such as 'nl'.")


def make_events(args: argparse.Namespace, clock: Clock) -> EventLog:
    path = paths.outside_stores(Path(args.events), "--events") if getattr(args, "events", None) else None
    try:
        return EventLog(clock, path, words=bool(getattr(args, "events_words", False)))
    except OSError as exc:
        raise UserError(f"Cannot write the events file {path} ({exc.strerror or exc}).",
                        "Give another file with --events, or leave the option out.") from None


def make_vocab(args: argparse.Namespace) -> Vocabulary:
    if getattr(args, "vocab", None):
        return load_vocabulary(Path(args.vocab))
    return load_vocabulary(language=getattr(args, "language", "nl"))


def wire(args: argparse.Namespace, env: Environment, *, vocab: Vocabulary | None = None,
         wrap_source: Callable[[AudioSource], AudioSource] | None = None, clock: Clock | None = None) -> Wired:
    """`vocab`: one the caller extended (`voicecoach serve`: the wake phrase); `wrap_source`: around the microphone;
    `clock`: one the caller made already (`run`: its journal's time of day moves with it)."""
    clock = clock or make_clock(args)
    vocab = vocab or make_vocab(args)  # a broken file is reported before anything is opened
    events = make_events(args, clock)
    if getattr(args, "text", False):
        return Wired(clock, events, TextConversation(vocab, clock, events, env.stdin, env.stdout), vocab)
    try:
        return _wire_voice(args, env, clock, events, vocab, wrap_source)
    except BaseException:
        events.close()
        raise


def _wire_voice(args: argparse.Namespace, env: Environment, clock: Clock, events: EventLog, vocab: Vocabulary,
                wrap_source: Callable[[AudioSource], AudioSource] | None = None) -> Wired:
    check_voice(args, vocab)
    model = load_model(getattr(args, "model", None))
    vocab = vocab.check_model(model.has_word, strict=bool(getattr(args, "vocab", None)), model_path=model.path)
    notices: list[str] = []
    source = make_source(args, clock)
    if wrap_source is not None:
        source = wrap_source(source)
    speaker, echo = make_speaker(args, clock, notices)
    synth = make_synth(args, vocab.language)  # the voice follows the vocabulary's language, so answers and prompts match
    try:
        source.start()
    except UserError:
        if not echo and not isinstance(speaker, SilentSpeaker):
            say_once(synth, speaker, events, MIC_MISSING)  # a screen-free couple must hear why
        _close_quietly(synth, speaker)
        raise
    tap = Tap(source)  # a timed turn may show its audio to an observer (turn awareness)
    # The couple's own calibration (`voicecoach check`), in every session.
    listener = build_listener(tap, model, vocab, clock, profile=calibration.load())
    conversation = VoiceConversation(synth, speaker, listener, clock, events, echo=env.out if echo else None,
                                     notice=env.err, show=env.out, tap=tap)
    return Wired(clock, events, conversation, vocab, source, speaker, notices)


def _close_quietly(*parts: object) -> None:
    """Release what was opened before a failure; the failure itself is what the user sees."""
    for part in parts:
        close = getattr(part, "close", None)
        if close is None:
            continue
        try:
            close()
        except Exception:  # noqa: BLE001 - must not hide the error being reported
            log.debug("closing %s failed", type(part).__name__, exc_info=True)
