"""`voicecoach journal` (told and printed, or exported as a page) and `voicecoach forget`."""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from voicecoach.cli.command import Command
from voicecoach.cli.options import speaker_options
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus, UserError

log = logging.getLogger(__name__)


def journal_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--export", metavar="FILE.html", help="write a printable overview page instead")
    g = p.add_argument_group("sound")
    g.add_argument("--mute", action="store_true", help="only print, do not speak")
    speaker_options(g)


def journal(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from voicecoach import paths, running
    from voicecoach.export import export_html
    from voicecoach.journal import Journal
    from voicecoach.overview import overview

    target = paths.outside_stores(Path(args.export), "--export") if args.export else None
    with Journal(tell=env.err) as j:
        # No session runs: one that never ended was interrupted, and a recording without its row is a leftover.
        with contextlib.suppress(running.AlreadyRunning), running.session():
            j.mark_interrupted()
            j.remove_orphan_recordings()
        if j.recovered_from is not None:
            env.out(f"The journal was damaged; it was set aside as {j.recovered_from} and a new one started.")
        if target is not None:
            out = export_html(j, target)
            env.out(f"Wrote {out}.")
            return ExitStatus.SUCCESS
        view = overview(j)
    for line in view.lines:
        env.out(line)
    if not args.mute:
        _tell(args, env, [p for p in view.spoken if p])
    return ExitStatus.SUCCESS


def _tell(args: argparse.Namespace, env: Environment, parts: list[str | Path]) -> None:
    """Speak the overview and play their recordings, where there is a voice and a speaker."""
    from voicecoach.audio.pcm import read_wav
    from voicecoach.wiring import make_clock, make_speaker, make_synth

    clock = make_clock(args)
    notices: list[str] = []
    synth = make_synth(args, "nl")  # a --rate out of range is refused before a speaker is opened
    speaker, no_sound = make_speaker(args, clock, notices)
    try:
        if no_sound:
            for notice in notices:
                env.err(notice)
            return  # printed already: that is all we can do
        for part in parts:
            speaker.play(read_wav(part) if isinstance(part, Path) else synth.render(part))
    except UserError as exc:
        env.err(f"voicecoach: could not speak ({exc.message}); the overview above is all of it.")
    finally:
        speaker.close()
        synth.close()


def forget_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask; delete at once")


def forget(args: argparse.Namespace, env: Environment) -> ExitStatus:
    """Deletes everything voicecoach wrote about them, whatever state the journal is in.

    Refused while voicecoach runs, so nothing is written after "Alles is gewist".
    Their own config.toml is theirs: it is kept, and they are told where it is.
    """
    from voicecoach import paths, running, stopping
    from voicecoach.forgetting import forget_everything

    if not args.yes:
        env.out("Dit wist alles wat voicecoach over jullie bewaarde: sessies, waarden, afspraken en opnames.")
        env.out("Typ ja om alles te wissen: ", end="")
        answer = env.stdin.readline().strip().lower()
        if answer != "ja":
            env.out("Niets gewist.")
            return ExitStatus.ERROR
    # Ctrl-C waits the moment deleting takes: never half-forgotten.
    with running.alone(), stopping.deferred():
        failed = forget_everything()
        for lock in running.lock_paths():
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
    with contextlib.suppress(OSError):
        paths.data_dir().rmdir()  # only if empty: the speech model may live there
    if failed:
        raise UserError(f"Could not delete {', '.join(map(str, failed))}.",
                        "Check its permissions, then run `voicecoach forget` again.")
    log.info("everything voicecoach kept was deleted")
    env.out("Alles is gewist.")
    config = paths.config_dir() / "config.toml"
    if config.exists():
        env.out(f"Your own settings file {config} was kept (you wrote it); delete it yourself if you want.")
    return ExitStatus.SUCCESS


COMMANDS = [
    Command("journal", "hear and see what you did and agreed (or --export a page)", journal_arguments, journal),
    Command("forget", "delete the journal, recordings and spoken-prompt cache (asks first)", forget_arguments, forget,
            writes=False),  # forget takes every lock itself
]
