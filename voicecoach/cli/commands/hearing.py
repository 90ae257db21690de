"""`voicecoach listen` and `voicecoach check`: is what you say heard?"""

from __future__ import annotations

import argparse

from voicecoach.cli.command import Command
from voicecoach.cli.options import sound_options
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus


def listen_arguments(p: argparse.ArgumentParser) -> None:
    sound_options(p)
    p.add_argument("--seconds", type=float, default=None,
                   help="stop after this long (default: until the file ends, or Ctrl-C)")


def listen(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """One JSON line per decision: how a user checks that their words are heard."""
    from voicecoach.wiring import wire

    wired = wire(args, env)
    try:
        listener = wired.listener()
        intents = list(wired.vocab.intents)
        env.err("Listening. Say something; Ctrl-C stops.")
        start = wired.clock.now()
        end = start + args.seconds if args.seconds else float("inf")
        while wired.clock.now() < end and not wired.source_finished():
            heard = listener.listen(intents, min(end, wired.clock.now() + 5.0))
            if heard.kind in ("intent", "unclear"):
                env.json({
                    "intent": heard.intent if heard.kind == "intent" else "unclear",
                    "phrase": heard.phrase,
                    "confidence": round(heard.confidence, 3),
                    "t": round(heard.t - start, 3),
                    "speech_end": None if heard.speech_end is None else round(heard.speech_end - start, 3),
                    "latency": None if heard.latency is None else round(heard.latency, 3),
                })
        return ExitStatus.SUCCESS
    finally:
        wired.close()


def check(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Speaks, asks for the confirm word, and reports level, words and speed."""
    from voicecoach.wiring import wire

    wired = wire(args, env)
    try:
        conv = wired.conversation
        for notice in wired.notices:
            env.out(notice)
        word = wired.vocab.first("confirm")
        conv.say(f"Hallo! Dit is een test van voicecoach. Zeg na de toon: {word}.")
        conv.chime("turn")
        for _ in range(3):
            heard = conv.listen(["confirm", "deny"], 8.0)
            if heard.kind == "intent":
                ms = int(round((heard.latency or 0) * 1000))
                env.out(f"Gehoord: '{heard.phrase}' (zekerheid {heard.confidence:.2f}), "
                        f"volume {heard.level_db:.0f} dB, antwoord na {ms} milliseconden.")
                conv.say(f"Ik hoorde: {heard.phrase}. Alles werkt.")
                return ExitStatus.SUCCESS
            if heard.kind == "silence":
                env.out("Niets gehoord. Staat de microfoon aan en dichtbij genoeg?")
                conv.say(f"Ik hoorde niets. Zeg alsjeblieft: {word}.")
            else:
                env.out(f"Niet duidelijk verstaan (volume {heard.level_db:.0f} dB, '{heard.phrase}').")
                conv.say(f"Dat verstond ik niet goed. Zeg alleen: {word}.")
            conv.chime("turn")
        env.out("De test is niet gelukt. Probeer een andere microfoon met --device, of gebruik --text.")
        return ExitStatus.ERROR
    finally:
        wired.close()


COMMANDS = [
    Command("listen", "print what voicecoach hears, one JSON line per decision", listen_arguments, listen),
    Command("check", "a spoken self-test: can voicecoach hear you say 'klopt'?", sound_options, check),
]
