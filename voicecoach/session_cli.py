"""The commands that run exercises: run, resume, list, diagram (and the journal's, from journal_cli)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from voicecoach import journal_cli, paths
from voicecoach.engine.exercise import Exercise, available, exercises_dir, load_exercise
from voicecoach.engine.machine import entry_state
from voicecoach.engine.texts import Names
from voicecoach.errors import StorageError, UserError
from voicecoach.tomlfile import read_toml

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
    journal_cli.add_parsers(sub)


CONFIG_KEYS = ("timing", "names")
CRASHED = ("Sorry, er ging iets mis in voicecoach en ik moet stoppen. Wat jullie deden is bewaard: "
           "start voicecoach opnieuw, dan gaan we verder waar we waren.")


def load_config() -> dict[str, Any]:
    """The user's config.toml: [timing] overrides and default names, checked here so a mistake names the file."""
    from voicecoach.engine.exercise import Timing
    from voicecoach.errors import DataFileError

    path = paths.config_dir() / "config.toml"
    if not path.exists() and not path.is_symlink():
        return {}
    config = read_toml(path)
    for key in config:
        if key not in CONFIG_KEYS:
            raise DataFileError(path, key, f"unknown setting; use {' or '.join(CONFIG_KEYS)}")
    timing = config.get("timing", {})
    if not isinstance(timing, dict):
        raise DataFileError(path, "timing", "expected a table: [timing] with turn_seconds = 120 and the like")
    Timing().with_overrides(timing, path, "timing")
    names = config.get("names")
    if names is not None:
        try:
            if not isinstance(names, str):
                raise UserError("not text")
            Names.parse(names)
        except UserError:
            raise DataFileError(path, "names",
                                'expected two names with a comma between them, e.g. "Sanne,Joris"') from None
    config["_path"] = path
    return config


def _exercise(name: str, args: argparse.Namespace, config: dict[str, Any]) -> Exercise:
    overrides = dict(config.get("timing", {}))
    source: object = config.get("_path", "settings")
    if getattr(args, "turn_seconds", None):
        overrides["turn_seconds"] = args.turn_seconds
        source = "--turn-seconds"
    if getattr(args, "mirror_seconds", None):
        overrides["mirror_seconds"] = args.mirror_seconds
        source = "--mirror-seconds"
    return load_exercise(name, overrides or None, source)


def run(args: argparse.Namespace, resume: bool = False) -> int:
    from voicecoach.journal import Journal

    from voicecoach import running

    config = load_config()
    # A named exercise is checked before anything is opened or spoken (the safety note comes first).
    named = args.__dict__.get("exercise")
    loaded = {named: _exercise(named, args, config)} if named else {}
    with running.session(journal=not args.no_journal):
        journal = None if args.no_journal else Journal()
        try:
            if journal is not None:
                # We hold the journal alone now: what an earlier, killed session left is tidied.
                journal.mark_interrupted()
                journal.remove_orphan_recordings()
            return _run(args, resume, config, named, loaded, journal)
        finally:
            if journal is not None:
                journal.close()


def _run(args: argparse.Namespace, resume: bool, config: dict[str, Any], named: str | None,
         loaded: dict[str, Exercise], journal: Any) -> int:
    from voicecoach.engine import moments
    from voicecoach.engine.session import Session
    from voicecoach.engine.texts import Texts
    from voicecoach.wiring import wire

    wired = wire(args)
    try:
        for notice in wired.notices:
            print(notice)
        if journal is not None and journal.recovered_from is not None:
            print(f"The journal was damaged; it was set aside as {journal.recovered_from} and a new one started.")
        conv, events = wired.conversation, wired.events
        progress = _saved_progress(journal, args, config, loaded)
        given = args.names or config.get("names") or _saved_names(progress)
        last = journal.last_names() if journal is not None and not given else None
        names = Names(*last) if last else Names.parse(given)  # else the names they used last time
        texts = Texts(conv.vocab, names)
        name, initial, consent, memory = named, None, None, None
        if resume or (name is None and progress is not None):
            if progress is None:
                raise UserError("There is nothing to continue.", "Start an exercise with `voicecoach run`.")
            if resume or _ask(conv, texts, "resume_question"):
                name, initial, memory = progress.exercise, progress.state, progress.data
                consent = progress.data.get("consent")
        if journal is not None and journal.summary().sessions == 0:
            conv.say(texts.get("safety"))  # first use: before anything else, also before the menu
        suggestion = None
        if journal is not None and initial is None:
            suggestion = journal.suggest_next()  # before the follow-up: open agreements shape it
            moments.follow_up(conv, journal, texts, events)
        from_menu = name is None
        while True:
            if name is None:
                name = _menu(conv, texts, events, suggestion, moments.fact_base(journal))
                if name is None:
                    return 0
            exercise = loaded.pop(name, None) or _exercise(name, args, config)
            session = Session(exercise, conv, names, journal=journal, events=events,
                              initial=initial, consent=consent, memory=memory, fact_base=moments.fact_base(journal))
            outcome = session.run()
            if session.chosen:
                session = Session(_exercise(session.chosen, args, config), conv, names, journal=journal,
                                  events=events, fact_base=moments.fact_base(journal))
                outcome = session.run()
            if outcome != "completed" or not from_menu:
                break  # a named exercise ends with its own closing words
            moments.between(conv, texts, session.fact_base + session.facts_told, events)
            if not _ask(conv, texts, "another"):
                conv.say(texts.get("menu_bye"))
                break
            name, initial, consent, memory = None, None, None, None
            suggestion = journal.suggest_next() if journal is not None else None
        return 0 if outcome in ("completed", "stopped") else 1
    except StorageError as exc:
        _tell_quietly(wired.conversation, exc.spoken)  # a screen-free couple must hear why it stops
        raise
    except UserError:
        raise  # said where it happens (a lost microphone), or about the synthesizer itself
    except Exception:
        _tell_quietly(wired.conversation, CRASHED)  # a bug: the screen has the details, they hear that it stopped
        raise
    finally:
        wired.close()


def _tell_quietly(conv: Any, text: str) -> None:
    try:
        conv.say(text)
    except Exception:  # noqa: BLE001 - the error being reported matters more than its spoken form
        log.debug("could not say why voicecoach stops", exc_info=True)


def _saved_progress(journal: Any, args: argparse.Namespace, config: dict[str, Any],
                    loaded: dict[str, Exercise]) -> Any:
    """The progress to offer, with its exercise loaded into `loaded`; progress that cannot be
    continued (its file gone or changed, or damaged) is set aside with one sentence, never a dead end."""
    if journal is None:
        return None
    try:
        progress = journal.load_progress()
    except (ValueError, TypeError) as exc:  # not JSON, a bad date: damaged outside voicecoach
        return _drop_progress(journal, f"it is damaged ({exc})")
    if progress is None:
        return None
    source = progress.data.get("source") if isinstance(progress.data, dict) else None
    try:
        _check_shape(progress.data)
        builtin = progress.exercise in available() and (
            not isinstance(source, str) or Path(source).parent == exercises_dir())
        where = progress.exercise if builtin or not isinstance(source, str) else source
        exercise = _exercise(where, args, config)
        states = {entry_state(step) for step in exercise.steps} | {step.id for step in exercise.steps}
        if progress.state not in states:
            raise ValueError(f"the exercise has no step {progress.state!r} any more")
    except UserError as exc:
        return _drop_progress(journal, exc.message.rstrip("."))
    except ValueError as exc:
        return _drop_progress(journal, str(exc))
    loaded.setdefault(progress.exercise, exercise)
    return progress


def _check_shape(data: Any) -> None:
    """What a session saved, as a session will read it; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("its data is not a table")
    lists = data.get("lists", {})
    if not isinstance(lists, dict) or not all(isinstance(v, list) and all(isinstance(i, str) for i in v)
                                              for v in lists.values()):
        raise ValueError("its lists of values are damaged")
    if data.get("consent") not in (None, True, False):
        raise ValueError("its consent is damaged")
    names = data.get("names")
    if names is not None and not (isinstance(names, list) and len(names) == 2
                                  and all(isinstance(n, str) for n in names)):
        raise ValueError("its names are damaged")
    if names is not None:
        Names.parse(",".join(names))
    if not isinstance(data.get("session"), int | None) or isinstance(data.get("session"), bool):
        raise ValueError("its session is damaged")


def _drop_progress(journal: Any, why: str) -> None:
    print(f"voicecoach: the unfinished exercise cannot be continued ({why}); you start afresh, "
          "and everything you kept is still in the journal.", file=sys.stderr)
    journal.clear_progress()
    return None


def _saved_names(progress: Any) -> str | None:
    if progress is None:
        return None
    saved = progress.data.get("names")
    return ",".join(saved) if saved and len(saved) == 2 else None


def _ask(conversation: Any, texts: Any, key: str) -> bool:
    """A yes/no question outside an exercise; no answer counts as no."""
    for attempt in range(3):
        conversation.say(texts.get(key))
        heard = conversation.listen(["confirm", "deny"], 8.0)
        if heard.kind == "intent":
            return heard.intent == "confirm"
    return False


def _menu(conversation: Any, texts: Any, events: Any, suggestion: str | None, fact_n: int) -> str | None:
    """Asks by voice which exercise to do; the words are the `ex_*` intents of the vocabulary.

    With a suggestion from the journal, yes chooses it; "waarom" gets a "wist je dat".
    """
    from voicecoach.engine.texts import join

    vocab = conversation.vocab
    choices = {f"ex_{n.replace('-', '_')}": n for n in available() if f"ex_{n.replace('-', '_')}" in vocab.intents}
    if not choices:
        raise UserError("The vocabulary has no words for choosing an exercise.",
                        "Name one: `voicecoach run herstelgesprek`.")
    words = join([vocab.first(i) for i in choices], "of")
    suggested = suggestion if suggestion in choices.values() else None
    if suggested:
        question = texts.get("menu_suggest", oefening=load_exercise(suggested).title, woorden=words)
    else:
        question = texts.get("menu", woorden=words)
    events.emit("menu", suggestion=suggested)
    listen = [*choices, *(["confirm"] if suggested else []), "stop", "why", "repeat", "help"]
    misses = 0
    conversation.say(question)
    while misses < 3:
        heard = conversation.listen([i for i in listen if i in vocab.intents], 10.0)
        if heard.intent == "stop":
            conversation.say(texts.get("menu_bye"))
            return None
        if heard.intent == "confirm" and suggested:
            return suggested
        if heard.intent in choices:
            return choices[heard.intent]
        if heard.intent == "why":
            conversation.say(texts.fact(fact_n))
            fact_n += 1
        elif heard.intent not in ("repeat", "help"):
            misses += 1
        conversation.say(question)
    conversation.say(texts.get("menu_failed"))
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


HANDLERS = {"run": run, "resume": resume, "list": list_exercises, "diagram": diagram, **journal_cli.HANDLERS}
