"""`voicecoach run`, `resume`, `list` and `diagram`: the exercises."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.cli.command import Command, no_arguments
from voicecoach.cli.options import session_options, sound_options
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus

if TYPE_CHECKING:
    from voicecoach.settings import Settings
    from voicecoach.turns import TurnAwareness


def run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("exercise", nargs="?", help="herstelgesprek, waardenkaart, ... (see `voicecoach list`)")
    sound_options(p)
    session_options(p)


def resume_arguments(p: argparse.ArgumentParser) -> None:
    sound_options(p)
    session_options(p)


def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Opens the journal (alone) and the devices, and hands them to the coach for one visit."""
    from voicecoach import running
    from voicecoach.coach import ENDED_WELL, Coach
    from voicecoach.journal import Journal
    from voicecoach.settings import Exercises, load_settings
    from voicecoach.wiring import make_clock, make_wall, wire

    settings = load_settings()
    exercises = Exercises(settings, args.turn_seconds, args.mirror_seconds)
    named: str | None = getattr(args, "exercise", None)
    if named:
        exercises.check(named)  # checked before anything is opened or spoken (the safety note comes first)
    clock = make_clock(args)
    wall = make_wall(args, clock)  # checked before anything is opened
    with running.session(journal=not args.no_journal):
        journal = None if args.no_journal else Journal(wall=wall, tell=env.err)
        try:
            if journal is not None:
                # We hold the journal alone now: what an earlier, killed session left is tidied.
                journal.mark_interrupted()
                journal.remove_orphan_recordings()
            wired = wire(args, env, clock=clock)
            try:
                for notice in wired.notices:
                    env.out(notice)
                if journal is not None and journal.recovered_from is not None:
                    env.out(f"The journal was damaged; it was set aside as {journal.recovered_from} "
                            "and a new one started.")
                coach = Coach(wired.conversation, wired.events, journal, exercises, env.err,
                              turns=turn_awareness(wired.has_microphone(), journal is not None, settings, env))
                outcome = coach.visit(named, resume=args.command == "resume", names=args.names or settings.names)
            finally:
                wired.close()
        finally:
            if journal is not None:
                journal.close()
    return ExitStatus.SUCCESS if outcome in ENDED_WELL else ExitStatus.ERROR


def turn_awareness(microphone: bool, keep: bool, settings: Settings, env: Environment) -> TurnAwareness | None:
    """With a microphone, every turn is watched; a voice profile only with the journal on (--no-journal keeps
    nothing, so it asks nothing and only measures)."""
    from voicecoach.turns import TurnAwareness, TurnSettings

    if not microphone:
        return None
    turn_settings = TurnSettings.of(settings)
    return TurnAwareness.load(turn_settings, env.err) if keep else TurnAwareness(turn_settings, consent=False)


def list_exercises(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from voicecoach.engine.exercise import available, load_exercise

    for name in available():
        env.out(f"{name:18} {load_exercise(name).summary}")
    return ExitStatus.SUCCESS


def diagram_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("exercise")
    p.add_argument("-o", "--output", required=True, metavar="FILE.png|svg")


def diagram(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from voicecoach.engine.diagram import draw
    from voicecoach.engine.exercise import load_exercise

    out = draw(load_exercise(args.exercise), Path(args.output))
    env.out(f"Wrote {out}.")
    return ExitStatus.SUCCESS


COMMANDS = [
    Command("run", "start an exercise (without a name: choose by voice)", run_arguments, run, sessions=True),
    Command("resume", "continue where you stopped last time", resume_arguments, run, sessions=True),
    Command("list", "list the exercises", no_arguments, list_exercises, writes=False),
    Command("diagram", "draw an exercise's state machine", diagram_arguments, diagram, writes=False),
]
