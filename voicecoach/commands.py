"""What each `voicecoach` command does, given parsed arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from voicecoach.cli import print_json
from voicecoach.errors import DataFileError, UserError

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
        intents = _intents(args, list(wired.vocab.intents))
        print("Listening. Say something; Ctrl-C stops.", file=sys.stderr, flush=True)
        start = wired.clock.now()
        end = start + args.seconds if args.seconds else float("inf")
        while wired.clock.now() < end:
            if isinstance(wired.source, FileSource) and wired.source.finished:
                break
            heard = listener.listen(intents, min(end, wired.clock.now() + 5.0))
            if heard.kind in ("intent", "unclear", "check"):
                # "check": nearly sure; a session would ask "Ik hoorde: ... Is dat goed?"
                print_json({
                    "intent": heard.intent if heard.kind == "intent" else "unclear",
                    **({"nearly": heard.intent} if heard.kind == "check" else {}),
                    "phrase": heard.phrase,
                    "confidence": round(heard.confidence, 3),
                    "t": round(heard.t - start, 3),
                    "speech_end": None if heard.speech_end is None else round(heard.speech_end - start, 3),
                    "latency": None if heard.latency is None else round(heard.latency, 3),
                })
        return 0
    finally:
        wired.close()


def _intents(args: argparse.Namespace, known: list[str]) -> list[str]:
    """--intents confirm,deny,repeat: the grammar of one question; default every intent."""
    if not getattr(args, "intents", None):
        return known
    wanted = [w.strip() for w in args.intents.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in known]
    if unknown or not wanted:
        raise UserError(
            f"--intents: {', '.join(unknown) or 'nothing'} is not an intent of the vocabulary.",
            f"Use some of: {', '.join(known)}.",
        )
    return wanted


def check(args: argparse.Namespace) -> int:
    """A spoken calibration: each partner says the answers three times and one ordinary sentence.

    voicecoach fits its thresholds to this couple's voices, says how well it
    hears them, and keeps the result (owner-only) for every session after.
    """
    from voicecoach.speech import calibration
    from voicecoach.speech.decide import Thresholds
    from voicecoach.wiring import wire

    wired = wire(args)
    try:
        conv: Any = wired.conversation
        vocab = wired.vocab
        texts = vocab.texts
        missing = [k for k in CALIBRATION_TEXTS if k not in texts]
        if missing:
            raise DataFileError(vocab.source, "[texts]", f"the calibration sentences are missing ({', '.join(missing)})")
        if not hasattr(conv, "listener"):
            raise UserError("The check learns your voices, so it needs a microphone.",
                            "Run `voicecoach check` without --text.")
        for notice in wired.notices:
            print(notice)
        listener = conv.listener
        samples: list[calibration.Sample] = []
        conv.say(texts["calibrate_intro"])
        for partner, intro in enumerate(("calibrate_first", "calibrate_second"), 1):
            conv.say(texts[intro])
            for intent in ("confirm", "deny") * 3:
                samples.append(_calibration_sample(conv, listener, partner, intent))
                if len(samples) == 2 and not any(s.heard or s.ratio is not None for s in samples):
                    break  # nothing at all from the first two: the microphone, not the voices
            if len(samples) == 2 and not any(s.heard or s.ratio is not None for s in samples):
                break
            conv.say(texts["calibrate_sentence"])
            conv.chime("turn")
            heard = listener.listen(["confirm", "deny"], wired.clock.now() + 10.0, spoke_until=conv.spoke_until)
            conv.spoke_until = None
            samples.append(calibration.Sample(partner, None, heard.intent, heard.sure, heard.level_db))
        default = Thresholds(vocab.accept_ratio, vocab.check_ratio)
        profile = calibration.fit(samples, default)
        asked, right = profile.asked, profile.heard
        if right == 0:
            print("Nothing was understood, so nothing was changed. Is the microphone on and close enough?")
            conv.say(texts["calibrate_none"])
            return 1
        where = calibration.save(profile)
        listener.use(profile)
        good = right >= asked - 1
        print(f"Understood {right} of {asked} answers; calibration kept in {where} "
              f"(acceptance {profile.accept:.2f}, default {default.accept:.2f}).")
        conv.say(texts["calibrate_good" if good else "calibrate_poor"].format(heard=right, asked=asked))
        return 0 if good else 1
    finally:
        wired.close()


CALIBRATION_TEXTS = ("calibrate_intro", "calibrate_first", "calibrate_second", "calibrate_say", "calibrate_sentence",
                     "calibrate_silence", "calibrate_good", "calibrate_poor", "calibrate_none")


def _calibration_sample(conv: Any, listener: Any, partner: int, intent: str) -> Any:
    """Ask for one answer (once more after silence) and keep how it was heard: never what was said."""
    from voicecoach.speech import calibration

    phrase = conv.vocab.first(intent)
    texts = conv.vocab.texts
    heard = None
    for key in ("calibrate_say", "calibrate_silence"):
        conv.say(texts[key].format(phrase=phrase))
        conv.chime("turn")
        heard = listener.listen(["confirm", "deny"], conv.clock.now() + 8.0, spoke_until=conv.spoke_until)
        conv.spoke_until = None
        if heard.kind != "silence":
            break
    assert heard is not None
    decided = heard.intent if heard.kind in ("intent", "check") else None
    return calibration.Sample(partner, intent, decided, heard.sure, heard.level_db)
