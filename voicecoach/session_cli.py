"""The commands that run exercises: run, resume, list, diagram."""

from __future__ import annotations

import argparse
import logging
import tomllib
from pathlib import Path
from typing import Any

from voicecoach import paths
from voicecoach.engine.exercise import Exercise, available, load_exercise
from voicecoach.engine.texts import Names
from voicecoach.errors import DataFileError, UserError

log = logging.getLogger(__name__)


def _session_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("session")
    g.add_argument("--names", metavar="A,B", help='your first names, e.g. "Sanne,Joris"')
    g.add_argument("--text", action="store_true", help="print the prompts and type your answers (no microphone)")
    g.add_argument("--turn-seconds", type=float, metavar="S", help="length of a speaking turn")
    g.add_argument("--mirror-seconds", type=float, metavar="S", help="length of a mirroring turn")
    g.add_argument("--no-journal", action="store_true", help="keep nothing of this session")


def add_parsers(sub: Any, device_options: Any) -> None:
    p = sub.add_parser("run", help="start an exercise (without a name: choose by voice)")
    p.add_argument("exercise", nargs="?", help="herstelgesprek, waardenkaart, ... (see `voicecoach list`)")
    device_options(p)
    _session_options(p)
    p = sub.add_parser("resume", help="continue where you stopped last time")
    device_options(p)
    _session_options(p)
    sub.add_parser("list", help="list the exercises")
    p = sub.add_parser("diagram", help="draw an exercise's state machine")
    p.add_argument("exercise")
    p.add_argument("-o", "--output", required=True, metavar="FILE.png|svg")


def load_config() -> dict[str, Any]:
    """The user's config.toml: [timing] overrides and default names."""
    path = paths.config_dir() / "config.toml"
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFileError(path, "", f"this is not valid TOML ({exc})") from None


def _exercise(name: str, args: argparse.Namespace, config: dict[str, Any]) -> Exercise:
    overrides = dict(config.get("timing", {}))
    if getattr(args, "turn_seconds", None):
        overrides["turn_seconds"] = args.turn_seconds
    if getattr(args, "mirror_seconds", None):
        overrides["mirror_seconds"] = args.mirror_seconds
    return load_exercise(name, overrides or None)


def run(args: argparse.Namespace, resume: bool = False) -> int:
    from voicecoach.engine.session import Session
    from voicecoach.journal import Journal
    from voicecoach.wiring import wire

    config = load_config()
    journal = None if args.no_journal else Journal()
    wired = wire(args)
    try:
        for notice in wired.notices:
            print(notice)
        if journal is not None and journal.recovered_from is not None:
            print(f"The journal was damaged; it was set aside as {journal.recovered_from} and a new one started.")
        progress = journal.load_progress() if journal is not None else None
        names = Names.parse(args.names or config.get("names") or _saved_names(progress))
        name, initial, consent = args.__dict__.get("exercise"), None, None
        if resume or (name is None and progress is not None):
            if progress is None:
                raise UserError("There is nothing to continue.", "Start an exercise with `voicecoach run`.")
            if resume or _ask(wired.conversation, names, "Vorige keer zijn jullie niet klaargekomen. "
                                                      "Willen jullie verder waar jullie gebleven waren? Zeg {ja} of {nee}."):
                name, initial, consent = progress.exercise, progress.state, progress.data.get("consent")
        if name is None:
            name = _menu(wired.conversation, names)
            if name is None:
                return 0
        exercise = _exercise(name, args, config)
        first_time = journal is not None and journal.summary().sessions == 0
        session = Session(exercise, wired.conversation, names, journal=journal, events=wired.events,
                          safety_first=first_time, initial=initial, consent=consent)
        outcome = session.run()
        if session.chosen:
            session = Session(_exercise(session.chosen, args, config), wired.conversation, names, journal=journal,
                              events=wired.events)
            outcome = session.run()
        return 0 if outcome in ("completed", "stopped") else 1
    finally:
        wired.close()
        if journal is not None:
            journal.close()


def _saved_names(progress: Any) -> str | None:
    if progress is None:
        return None
    saved = progress.data.get("names")
    return ",".join(saved) if saved and len(saved) == 2 else None


def _ask(conversation: Any, names: Names, question: str) -> bool:
    from voicecoach.engine.texts import Texts

    texts = Texts(conversation.vocab, names)
    for attempt in range(3):
        conversation.say(texts.fill(question))
        heard = conversation.listen(["confirm", "deny"], 8.0)
        if heard.kind == "intent":
            return heard.intent == "confirm"
    return False


def _menu(conversation: Any, names: Names) -> str | None:
    """Asks by voice which exercise to do; the words are the `ex_*` intents of the vocabulary."""
    vocab = conversation.vocab
    choices = {f"ex_{n.replace('-', '_')}": n for n in available() if f"ex_{n.replace('-', '_')}" in vocab.intents}
    if not choices:
        raise UserError("The vocabulary has no words for choosing an exercise.",
                        "Name one: `voicecoach run herstelgesprek`.")
    spoken = ", ".join(vocab.first(i) for i in choices)
    for attempt in range(3):
        conversation.say(f"Welke oefening willen jullie doen? Zeg: {spoken}. Of zeg stop.")
        heard = conversation.listen([*choices, "stop"], 10.0)
        if heard.intent == "stop":
            conversation.say("Tot een volgende keer.")
            return None
        if heard.intent in choices:
            return choices[heard.intent]
    conversation.say("Ik kon het niet verstaan. Jullie kunnen ook een oefening noemen bij het starten.")
    return None


def resume(args: argparse.Namespace) -> int:
    return run(args, resume=True)


def list_exercises(args: argparse.Namespace) -> int:
    for name in available():
        ex = load_exercise(name)
        print(f"{name:18} {ex.summary}")
    return 0


def diagram(args: argparse.Namespace) -> int:
    from voicecoach.engine.diagram import draw

    out = draw(load_exercise(args.exercise), Path(args.output))
    print(f"Wrote {out}.")
    return 0


HANDLERS = {"run": run, "resume": resume, "list": list_exercises, "diagram": diagram}
