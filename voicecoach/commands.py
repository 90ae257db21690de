"""What each `voicecoach` command does, given parsed arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from voicecoach.cli import print_json

AddOptions = Callable[[argparse.ArgumentParser], None]
# Commands that write nothing of the couple's (forget takes every lock itself).
UNLOCKED = ("setup", "list", "diagram", "forget")


def add_parsers(sub: Any, device_options: AddOptions) -> None:
    from voicecoach import session_cli

    session_cli.add_parsers(sub, device_options)


def dispatch(args: argparse.Namespace) -> int:
    from voicecoach import session_cli

    handlers = {"setup": setup, "listen": listen, "check": check, **session_cli.HANDLERS}
    command = args.command or "run"
    if command in UNLOCKED:
        return handlers[command](args)
    from voicecoach import running

    with running.writer():  # it may write (the journal, spoken prompts): forget waits for it
        return handlers[command](args)


def setup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from voicecoach import model_store

    spec = model_store.DUTCH
    if args.url:
        spec = model_store.ModelSpec(spec.name, args.url, spec.size, spec.sha256)
    dest = Path(args.dest) if args.dest else model_store.default_install_dir()
    path = model_store.install_model(spec, dest, progress=sys.stderr.isatty())
    print(f"The Dutch speech model is ready at {path}.")
    return 0


def listen(args: argparse.Namespace) -> int:
    """One JSON line per decision: how a user checks that their words are heard."""
    from voicecoach.audio.sources import FileSource
    from voicecoach.wiring import wire

    wired = wire(args)
    try:
        conv: Any = wired.conversation
        listener = conv.listener
        intents = list(wired.vocab.intents)
        print("Listening. Say something; Ctrl-C stops.", file=sys.stderr, flush=True)
        start = wired.clock.now()
        end = start + args.seconds if args.seconds else float("inf")
        while wired.clock.now() < end:
            if isinstance(wired.source, FileSource) and wired.source.finished:
                break
            heard = listener.listen(intents, min(end, wired.clock.now() + 5.0))
            if heard.kind in ("intent", "unclear"):
                print_json({
                    "intent": heard.intent if heard.kind == "intent" else "unclear",
                    "phrase": heard.phrase,
                    "confidence": round(heard.confidence, 3),
                    "t": round(heard.t - start, 3),
                    "speech_end": None if heard.speech_end is None else round(heard.speech_end - start, 3),
                    "latency": None if heard.latency is None else round(heard.latency, 3),
                })
        return 0
    finally:
        wired.close()


def check(args: argparse.Namespace) -> int:
    """Speaks, asks for the confirm word, and reports level, words and speed."""
    from voicecoach.wiring import wire

    wired = wire(args)
    try:
        conv = wired.conversation
        for notice in wired.notices:
            print(notice)
        word = wired.vocab.first("confirm")
        conv.say(f"Hallo! Dit is een test van voicecoach. Zeg na de toon: {word}.")
        conv.chime("turn")
        for attempt in range(3):
            heard = conv.listen(["confirm", "deny"], 8.0)
            if heard.kind == "intent":
                ms = int(round((heard.latency or 0) * 1000))
                report = (f"Gehoord: '{heard.phrase}' (zekerheid {heard.confidence:.2f}), "
                          f"volume {heard.level_db:.0f} dB, antwoord na {ms} milliseconden.")
                print(report)
                conv.say(f"Ik hoorde: {heard.phrase}. Alles werkt.")
                return 0
            if heard.kind == "silence":
                print("Niets gehoord. Staat de microfoon aan en dichtbij genoeg?")
                conv.say(f"Ik hoorde niets. Zeg alsjeblieft: {word}.")
            else:
                print(f"Niet duidelijk verstaan (volume {heard.level_db:.0f} dB, '{heard.phrase}').")
                conv.say(f"Dat verstond ik niet goed. Zeg alleen: {word}.")
            conv.chime("turn")
        print("De test is niet gelukt. Probeer een andere microfoon met --device, of gebruik --text.")
        return 1
    finally:
        wired.close()
