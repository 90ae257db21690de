"""Builds the real or simulated devices from the command line, in one place."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach import paths
from voicecoach.audio.sinks import SilentSpeaker, Speaker, WavSpeaker
from voicecoach.audio.sources import AudioSource, FileSource, ScriptedCouple, parse_script
from voicecoach.clock import Clock, RealClock, SimClock
from voicecoach.errors import DeviceError, UserError
from voicecoach.events import EventLog
from voicecoach.speech.listener import Listener
from voicecoach.speech.recognizer import VoskModel
from voicecoach.speech.synth import Pyttsx3Synth, VoiceSettings
from voicecoach.speech.vocab import Vocabulary, load_vocabulary
from voicecoach.voice import Conversation, TextConversation, VoiceConversation

log = logging.getLogger(__name__)


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

    def close(self) -> None:
        for part in (self.source, self.speaker):
            if part is not None:
                part.close()
        self.events.close()


_MODELS: dict[Path, VoskModel] = {}


def load_model(explicit: str | None) -> VoskModel:
    from voicecoach.model_store import find_model

    path = find_model(explicit)
    if path not in _MODELS:  # loading takes seconds; once per process
        _MODELS[path] = VoskModel(path)
    return _MODELS[path]


def make_clock(args: argparse.Namespace) -> Clock:
    return SimClock() if getattr(args, "fast", False) else RealClock()


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
        return WavSpeaker(Path(args.speaker_file), clock), False
    if clock.simulated or getattr(args, "mute", False):
        return SilentSpeaker(clock), False
    from voicecoach.audio.live import LiveSpeaker, parse_device

    try:
        return LiveSpeaker(clock, parse_device(getattr(args, "output_device", None))), False
    except DeviceError as exc:
        notices.append(f"{exc.message} The prompts are printed instead; {exc.fix[0].lower()}{exc.fix[1:]}")
        return SilentSpeaker(clock), True


def make_vocab(args: argparse.Namespace) -> Vocabulary:
    if getattr(args, "vocab", None):
        return load_vocabulary(Path(args.vocab))
    return load_vocabulary(language=getattr(args, "language", "nl"))


def wire(args: argparse.Namespace) -> Wired:
    clock = make_clock(args)
    events = EventLog(clock, Path(args.events) if getattr(args, "events", None) else None)
    vocab = make_vocab(args)
    if getattr(args, "text", False):
        return Wired(clock, events, TextConversation(vocab, clock, events), vocab)
    model = load_model(getattr(args, "model", None))
    vocab = vocab.check_model(model.has_word, strict=bool(getattr(args, "vocab", None)))
    notices: list[str] = []
    source = make_source(args, clock)
    speaker, echo = make_speaker(args, clock, notices)
    try:
        source.start()
    except UserError:
        speaker.close()
        raise
    synth = Pyttsx3Synth(
        # The voice follows the vocabulary's language, so answers and prompts match.
        VoiceSettings(language=vocab.language, voice=getattr(args, "voice", None), rate=getattr(args, "rate", None) or 150),
        cache_dir=paths.cache_dir() / "prompts",
    )
    listener = Listener(source, model.recognizer(source.rate), vocab, clock)
    conversation = VoiceConversation(
        synth, speaker, listener, clock, events, echo=(lambda t: print(t, file=sys.stdout, flush=True)) if echo else None
    )
    return Wired(clock, events, conversation, vocab, source, speaker, notices)
