"""`voicecoach serve` (the kitchen-table device) and `voicecoach service install|remove`."""

from __future__ import annotations

import argparse
import datetime as dt
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from voicecoach.cli.command import Command
from voicecoach.cli.options import sound_options
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus, UserError

if TYPE_CHECKING:
    from voicecoach.device.wallclock import WallClock
    from voicecoach.settings import Exercises
    from voicecoach.wiring import Wired


def serve_arguments(p: argparse.ArgumentParser) -> None:
    sound_options(p)
    g = p.add_argument_group("device")
    g.add_argument("--names", metavar="A,B", help='your first names, e.g. "Sanne,Joris"')
    g.add_argument("--no-button", action="store_true", help="do not use a USB button, keyboard or GPIO pin")
    # For tests and the benchmark: stop after this many seconds (on --fast's clock), or at this local time.
    g.add_argument("--for", dest="run_for", type=float, metavar="S", help=argparse.SUPPRESS)
    g.add_argument("--wall-start", metavar="YYYY-MM-DDTHH:MM", help=argparse.SUPPRESS)


def serve(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Open everything once, then wait, wake, coach and wait again until stopped."""
    from voicecoach.device.buttons import Button, ButtonSettings, Press, open_buttons
    from voicecoach.device.config_file import config_path, read_config
    from voicecoach.device.patient_mic import PatientMic
    from voicecoach.device.reminder import ReminderSchedule, ReminderSettings
    from voicecoach.device.server import Server, waiting_listener
    from voicecoach.device.wallclock import SimWallClock, SystemWallClock
    from voicecoach.device.words import load_device_words
    from voicecoach.settings import Exercises, load_settings
    from voicecoach.speech.calibration import Watch
    from voicecoach.voice import VoiceConversation
    from voicecoach.wiring import load_model, make_vocab, wire

    settings = load_settings()  # config.toml checked before anything is opened
    path = config_path()
    config = read_config(path)
    reminder = ReminderSettings.from_config(config, path)
    buttons = ButtonSettings(key=None) if args.no_button else ButtonSettings.from_config(config, path)
    model = load_model(args.model)
    words = load_device_words(make_vocab(args), model.has_word)
    follow = Watch()  # seen before the session's listener reads it: a check in between is read again
    wired = wire(args, env, vocab=words.vocab, wrap_source=PatientMic)
    presses: queue.Queue[Press] = queue.Queue()
    running_buttons: list[Button] = []
    try:
        for notice in wired.notices:
            env.out(notice)
        conv = wired.conversation
        if not isinstance(conv, VoiceConversation):
            raise UserError("voicecoach serve listens for its wake phrase.", "Leave out --text.")
        wall: WallClock = SystemWallClock()
        if args.wall_start or wired.clock.simulated:
            start = dt.datetime.fromisoformat(args.wall_start) if args.wall_start else time.time()
            wall = SimWallClock(start, wired.clock)
        running_buttons, skipped = open_buttons(buttons, presses, wired.clock)
        for sentence in skipped:
            env.out(f"voicecoach: {sentence}")
        exercises = Exercises(settings)
        names = args.names or settings.names
        schedule = ReminderSchedule(reminder, clock=wall)
        server = Server(conv, words, _visitor(wired, exercises, names, env, wall), wired.clock, env.out,
                        schedule=schedule, presses=presses, other_session=_other_session,
                        has_button=bool(running_buttons), waiting=waiting_listener(conv.listener, model, words.wake_phrase),
                        calibration=follow)
        try:
            conv.synth.render(words.speech["greeting"])  # ready ahead: it starts at once after the wake phrase
        except UserError:
            pass  # said (or printed) when it is needed
        end = None if args.run_for is None else wired.clock.now() + args.run_for
        source = wired.source  # a recording played to its end, or a script used up (tests, the benchmark)
        server.run(lambda: not getattr(source, "finished", False) and getattr(source, "remaining", 1) > 0
                   and (end is None or wired.clock.now() < end))
    finally:
        for button in running_buttons:
            button.close()
        wired.close()
    env.out("voicecoach stopped listening.")
    return ExitStatus.SUCCESS


def _visitor(wired: Wired, exercises: Exercises, names: str | None, env: Environment,
             wall: WallClock) -> Callable[[], str]:
    """One sitting: the journal opened alone for it (forget may run while voicecoach waits)."""
    from voicecoach import running
    from voicecoach.coach import Coach
    from voicecoach.journal import Journal

    def visit() -> str:
        with running.session():
            journal = Journal(wall=wall, tell=env.err)  # the reminder's time of day: a simulated day moves both
            try:
                journal.mark_interrupted()
                journal.remove_orphan_recordings()
                return Coach(wired.conversation, wired.events, journal, exercises, env.err).visit(names=names)
            finally:
                journal.close()

    return visit


def _other_session() -> bool:
    """Whether a session runs elsewhere on this computer (`voicecoach run` in a terminal)."""
    from voicecoach import running

    hold = running.Hold()
    try:
        return not hold.take(running.SESSION_LOCK, exclusive=True)
    finally:
        hold.release()


def service_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("install", "remove"), help="install: start it now and at every boot")
    p.add_argument("--system", action="store_true",
                   help="a dedicated device: a system service with its own user (needs sudo)")
    p.add_argument("serve_args", nargs=argparse.REMAINDER, metavar="-- SERVE-OPTIONS",
                   help="options for `voicecoach serve`, after --, e.g. -- --device Jabra")
    # REMAINDER takes everything after the action, -h too (`service install -h`): service() prints the help
    # (wherever -h stands: argparse drops the first --, and a unit's serve cannot show help anyway).
    p.set_defaults(service_help=p.print_help)


def service(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from voicecoach.device import service as unit

    if {"-h", "--help"} & set(args.serve_args or []):
        args.service_help()
        return ExitStatus.SUCCESS
    system, extra = _split_service_args(args.system, args.serve_args or [])
    user = not system
    if args.action == "install":
        _check_serve_args(extra)
        report = unit.install(user, serve_args=extra)
    else:
        if extra:
            raise UserError("`voicecoach service remove` takes no serve options.", "Leave out what follows --.")
        report = unit.remove(user)
    for line in report.lines:
        env.out(line)
    if args.action == "install" and not report.active:
        return ExitStatus.USER_ERROR
    return ExitStatus.SUCCESS


def _split_service_args(system: bool, rest: list[str]) -> tuple[bool, list[str]]:
    """--system after the action, and serve's options after an optional --.

    argparse gives everything after `install` to serve_args (REMAINDER), so `service install --system`
    arrives there; serve itself has no --system.
    """
    rest = list(rest)
    while rest[:1] == ["--system"]:
        system = True
        rest.pop(0)
    if rest[:1] == ["--"]:
        rest.pop(0)
    if "--system" in rest:
        raise UserError("--system is an option of `voicecoach service`, not of serve.",
                        "Put it before --: `voicecoach service install --system -- SERVE-OPTIONS`.")
    return system, rest


def _check_serve_args(serve_args: list[str]) -> None:
    """The options put in the unit, read by serve's own parser: a service that cannot start is not installed."""

    class ServeParser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UserError(f"`voicecoach serve` would not start with {' '.join(serve_args)} ({message}).",
                            "Give the service only options that serve takes (see `voicecoach serve --help`).")

    parser = ServeParser(prog="voicecoach serve", add_help=False)
    serve_arguments(parser)
    parser.parse_args(serve_args)


COMMANDS = [
    Command("serve", "wait for \u201challo coach\u201d or a button, and remind you daily (a kitchen-table device)",
            serve_arguments, serve, writes=False, sessions=True),
    Command("service", "install or remove the service that runs `voicecoach serve` at boot",
            service_arguments, service, writes=False),
]
