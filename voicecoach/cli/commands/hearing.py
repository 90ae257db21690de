"""`voicecoach listen` and `voicecoach check`: is what you say heard, and how well for your voices?"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from voicecoach.cli.command import Command
from voicecoach.cli.options import sound_options
from voicecoach.environment import Environment
from voicecoach.errors import DataFileError, ExitStatus, UserError

CALIBRATION_TEXTS = ("calibrate_intro", "calibrate_first", "calibrate_second", "calibrate_say", "calibrate_sentence",
                     "calibrate_silence", "calibrate_good", "calibrate_poor", "calibrate_none")
SENTENCE_SECONDS = 10.0  # an ordinary sentence, said for the calibration
WAKE_NEEDED = 2  # of each partner's three wake phrases, heard as it, for serve to know their voices saying it


def listen_arguments(p: argparse.ArgumentParser) -> None:
    sound_options(p)
    p.add_argument("--seconds", type=float, default=None,
                   help="stop after this long (default: until the file or script ends, or Ctrl-C)")
    p.add_argument("--intents", metavar="A,B,...", default=None,
                   help="listen only for these intents, as one question does (e.g. confirm,deny,repeat; default: all)")


def listen(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """One JSON line per decision: how a user checks that their words are heard."""
    from voicecoach.wiring import wire

    if args.seconds is not None and not args.seconds > 0:  # 0 was taken as not given: listening for ever
        raise UserError(f"--seconds needs a number of seconds above 0, not {args.seconds:g}.",
                        "Leave it out to listen until Ctrl-C.")
    wired = wire(args, env)
    try:
        listener = wired.listener()
        intents = _intents(args, list(wired.vocab.intents))
        env.err("Listening. Say something; Ctrl-C stops.")
        start = wired.clock.now()
        end = float("inf") if args.seconds is None else start + args.seconds
        while wired.clock.now() < end and not wired.source_finished():
            heard = listener.listen(intents, min(end, wired.clock.now() + 5.0))
            if heard.kind in ("intent", "unclear", "check"):
                # "check": nearly sure; a session would ask "Ik hoorde: ... Is dat goed?"
                env.json({
                    "intent": heard.intent if heard.kind == "intent" else "unclear",
                    **({"nearly": heard.intent} if heard.kind == "check" else {}),
                    "phrase": heard.phrase,
                    "confidence": round(heard.confidence, 3),
                    "t": round(heard.t - start, 3),
                    "speech_end": None if heard.speech_end is None else round(heard.speech_end - start, 3),
                    "latency": None if heard.latency is None else round(heard.latency, 3),
                })
        return ExitStatus.SUCCESS
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


def check(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """A spoken calibration: each partner says the answers and the wake phrase three times and one ordinary
    sentence.

    voicecoach fits its thresholds to this couple's voices, says how well it
    hears them, and keeps the result (owner-only) for every session after.
    """
    from voicecoach.engine.exercise import Timing
    from voicecoach.speech import calibration
    from voicecoach.speech.decide import Thresholds
    from voicecoach.speech.own_answers import OwnAnswers
    from voicecoach.wiring import wire

    wired = wire(args, env)
    try:
        vocab = wired.vocab
        texts = vocab.texts
        missing = [k for k in CALIBRATION_TEXTS if k not in texts]
        if missing:
            raise DataFileError(vocab.source, "[texts]", f"the calibration sentences are missing ({', '.join(missing)})")
        if not wired.has_microphone():
            raise UserError("The check learns your voices, so it needs a microphone.",
                            "Run `voicecoach check` without --text.")
        for notice in wired.notices:
            env.out(notice)
        conv: Any = wired.conversation
        listener = wired.listener()
        listener.keep_utterance = True  # each answer's shape is learned (own_answers.py); never its audio
        voices = _collect_voices(conv)  # for a voice profile, if both say yes at the end
        answer_seconds = Timing.defaults().question_seconds
        samples: list[calibration.Sample] = []
        own = OwnAnswers()  # how they say their answers: shapes only, the audio is not kept
        wake, wake_phrase = OwnAnswers(), _listen_for_wake_phrase(listener)  # and the wake phrase, for `voicecoach serve`
        heard_wake: dict[int, int] = {}
        conv.say(texts["calibrate_intro"])
        for partner, intro in voices.each(("calibrate_first", "calibrate_second")):  # partner 1, then 2
            conv.say(texts[intro])
            for intent in ("confirm", "deny") * 3:
                samples.append(_calibration_sample(conv, listener, partner, intent, answer_seconds, own))
                if len(samples) == 2 and not any(s.heard or s.ratio is not None for s in samples):
                    break  # nothing at all from the first two: the microphone, not the voices
            if len(samples) == 2 and not any(s.heard or s.ratio is not None for s in samples):
                break
            heard_wake[partner] = _wake_samples(conv, listener, wake_phrase, answer_seconds, wake)
            conv.say(texts["calibrate_sentence"])
            conv.chime("turn")
            heard = listener.listen(["confirm", "deny"], wired.clock.now() + SENTENCE_SECONDS,
                                    spoke_until=conv.spoke_until)
            conv.spoke_until = None
            samples.append(calibration.Sample(partner, None, heard.intent, heard.sure, heard.level_db))
        profile = calibration.fit(samples, Thresholds(vocab.accept_score, vocab.check_score), own)
        # Serve tells their wake phrase from other talk only if it knows both of them saying it (device/wake.py).
        if wake_phrase and len(heard_wake) == 2 and min(heard_wake.values()) >= WAKE_NEEDED:
            profile = replace(profile, wake=wake)
        elif wake_phrase and heard_wake:  # (asked for it at all: not when nothing was heard from the start)
            env.out(f"The wake phrase \u201c{wake_phrase}\u201d was not heard twice from each of you: "
                    "voicecoach serve wakes on it as for anyone. Run `voicecoach check` again to teach it your voices.")
        return _keep(env, conv, listener, profile, vocab.accept_score, voices)
    finally:
        wired.close()


def _keep(env: Environment, conv: Any, listener: Any, profile: Any, default_accept: float,
          voices: Any) -> ExitStatus:
    """Keep what the check learned, say how well it heard them, and ask about their voices."""
    from voicecoach.speech import calibration
    from voicecoach.turns import load_consent

    texts = conv.vocab.texts
    asked, right = profile.asked, profile.heard
    if right == 0:
        env.out("Nothing was understood, so nothing was changed. Is the microphone on and close enough?")
        conv.say(texts["calibrate_none"])
        return ExitStatus.ERROR
    # How they said their answers and the wake phrase is something of their voices: kept only with both their
    # yes, asked below.
    without = replace(profile, own=None, wake=None)
    where = calibration.save(without)
    listener.use(without)
    listener.keep_utterance = False
    good = right >= asked - 1
    env.out(f"Understood {right} of {asked} answers; calibration kept in {where} "
            f"(acceptance {profile.accept:.2f}, default {default_accept:.2f}).")
    conv.say(texts["calibrate_good" if good else "calibrate_poor"].format(heard=right, asked=asked))
    env.out(_learn_voices(conv, voices))
    if (profile.own is not None or profile.wake is not None) and load_consent():
        calibration.save(profile)
        if profile.own is not None:
            env.out("How each of you says yes and no is kept with it: an answer that sounds like the other one "
                    "is asked back.")
        if profile.wake is not None:
            env.out("How each of you says the wake phrase is kept with it: voicecoach serve wakes on your voices "
                    "saying it, not on a television or a guest (the button wakes it for anyone).")
    return ExitStatus.SUCCESS if good else ExitStatus.ERROR


def _collect_voices(conv: Any) -> Any:
    """Each partner's voice while they calibrate, in memory: a voice profile is made of it only with consent."""
    from voicecoach.turns import VoiceCollector

    collector = VoiceCollector(lambda: conv.spoke_until)
    if conv.tap is not None:
        conv.tap.observer = collector
    return collector


def _learn_voices(conv: Any, voices: Any) -> str:
    if conv.tap is not None:
        conv.tap.observer = None  # the calibration is over: nothing more is kept
    from voicecoach.engine.ask import Asking
    from voicecoach.engine.exercise import Timing
    from voicecoach.engine.texts import Names, Texts
    from voicecoach.journal import Journal
    from voicecoach.paths import data_dir
    from voicecoach.settings import load_settings
    from voicecoach.turns import TurnSettings, learn_from_check

    settings = load_settings()
    names = Names.parse(settings.names)
    if settings.names is None and (data_dir() / "journal.sqlite3").exists():
        with Journal() as journal:  # asked by the names they used last time
            last = journal.last_names()
        names = Names.last_time(last) if last else names
    from voicecoach.coach import ConversationVoice

    asking = Asking(ConversationVoice(conv), Texts(conv.vocab, names), Timing.defaults())
    return learn_from_check(voices, asking, conv.say, TurnSettings.of(settings))


def _listen_for_wake_phrase(listener: Any) -> str:
    """Add the device's words to the listener's vocabulary, so the check can hear the wake phrase of
    `voicecoach serve` beside the answers; return that phrase ("" if this vocabulary has none the model hears)."""
    from voicecoach.device.words import load_device_words

    try:
        words = load_device_words(listener.vocab, listener.recognizer.has_word)
    except (DataFileError, UserError):  # serve says what is wrong with its words when it starts
        return ""
    listener.vocab = words.vocab
    return words.wake_phrase


def _wake_samples(conv: Any, listener: Any, phrase: str, seconds: float, wake: Any) -> int:
    """Ask one partner for the wake phrase three times; keep the shape of each heard as it: how many were."""
    if not phrase:
        return 0
    got = 0
    if "calibrate_wake" in conv.vocab.texts:
        conv.say(conv.vocab.texts["calibrate_wake"])
    for _ in range(3):
        conv.say(conv.vocab.texts["calibrate_say"].format(phrase=phrase))
        conv.chime("turn")
        heard = listener.listen(["wake"], conv.clock.now() + seconds, spoke_until=conv.spoke_until)
        conv.spoke_until = None
        if heard.kind in ("intent", "check") and heard.intent == "wake":
            got += wake.add("wake", phrase, listener.last_utterance)
    return got


def _calibration_sample(conv: Any, listener: Any, partner: int, intent: str, seconds: float, own: Any) -> Any:
    """Ask for one answer (once more after silence) and keep how it was heard, and if it was heard right, its
    shape in `own`: never the audio."""
    from voicecoach.speech import calibration

    phrase = conv.vocab.first(intent)
    texts = conv.vocab.texts
    heard = None
    for key in ("calibrate_say", "calibrate_silence"):
        conv.say(texts[key].format(phrase=phrase))
        conv.chime("turn")
        heard = listener.listen(["confirm", "deny"], conv.clock.now() + seconds, spoke_until=conv.spoke_until)
        conv.spoke_until = None
        if heard.kind != "silence":
            break
    assert heard is not None
    decided = heard.intent if heard.kind in ("intent", "check") else None
    if decided == intent:
        own.add(intent, phrase, listener.last_utterance)
    return calibration.Sample(partner, intent, decided, heard.sure, heard.level_db)


COMMANDS = [
    Command("listen", "print what voicecoach hears, one JSON line per decision", listen_arguments, listen),
    Command("check", "learn your voices: each says 'ja', 'nee' and 'hallo coach' three times (kept for every session)",
            sound_options, check),
]
