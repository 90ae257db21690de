"""`voicecoach`: parse, run one command, and turn every failure into one sentence and an exit status."""

from __future__ import annotations

import argparse
import codecs
import contextlib
import logging
import os
import sys
import unicodedata
from collections.abc import Sequence

from voicecoach import stopping
from voicecoach.cli.command import Command
from voicecoach.cli.commands import all_commands
from voicecoach.cli.parser import build_parser
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus, UserError

log = logging.getLogger(__name__)

DEFAULT_COMMAND = "run"  # `voicecoach` alone: the spoken menu
GLOBAL_OPTIONS = ("-v", "-vv", "-vvv", "--verbose", "--list-devices", "--version", "-h", "--help")


def with_default_command(args: list[str], names: set[str]) -> list[str]:
    """`voicecoach --text` or `voicecoach --names A,B` is the menu with those options, not a usage error."""
    for i, arg in enumerate(args):
        if arg in GLOBAL_OPTIONS:
            continue
        return [*args[:i], DEFAULT_COMMAND, *args[i:]] if arg.startswith("-") and arg not in names else args
    return [*args, DEFAULT_COMMAND]


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> ExitStatus:
    """The whole program; `argv` without the program name (None: this process's own arguments)."""
    if env is None:
        _print_any_letter()
        env = Environment.from_sys()
    args = sys.argv[1:] if argv is None else list(argv)
    commands = all_commands()
    parser = build_parser(commands, env)
    try:
        parsed = parser.parse_args(with_default_command(args, {c.name for c in commands}))
    except SystemExit as exc:  # argparse: --help, --version, or a usage error it printed
        return ExitStatus(exc.code or 0) if isinstance(exc.code, int) else ExitStatus.USER_ERROR
    _configure_logging(parsed.verbose, env)
    with stopping.handled():
        return _run(parsed, {c.name: c for c in commands}, env)


def _plain_letters(error: UnicodeError) -> tuple[str, int]:
    """What a terminal cannot show, as the letter without its accents ("één" as "een"), else "?"."""
    assert isinstance(error, UnicodeEncodeError)
    text = error.object[error.start:error.end]
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    try:
        plain.encode(error.encoding)
    except UnicodeError:
        plain = "?" * len(text)
    return plain, error.end


def _print_any_letter() -> None:
    """A terminal that is not UTF-8 (an ISO-8859 locale, PYTHONIOENCODING=ascii) cannot show every letter of a
    Dutch prompt; printing one must never stop the session (at the first "één", and every resume again)."""
    codecs.register_error("voicecoach.plain", _plain_letters)
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or not encoding or codecs.lookup(encoding).name == "utf-8":
            continue
        if stream is not sys.stdin:
            reconfigure(errors="voicecoach.plain")
        elif codecs.lookup(encoding).name == "ascii":  # a locale that claims nothing: typed letters are UTF-8
            reconfigure(encoding="utf-8", errors="replace")
        else:
            reconfigure(errors="replace")  # a typed byte the locale has no letter for (cp1252 has five)


def _configure_logging(verbose: int, env: Environment) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=env.stderr)


def _run(args: argparse.Namespace, commands: dict[str, Command], env: Environment) -> ExitStatus:
    try:
        if args.list_devices:
            from voicecoach.audio.live import list_devices

            env.out(list_devices())
            return ExitStatus.SUCCESS
        command = commands[args.command]
        if not command.writes:
            return command.run(args, env)
        from voicecoach import running

        with running.writer():  # it may write (the journal, spoken prompts): forget waits for it
            return command.run(args, env)
    except UserError as exc:
        env.err(f"voicecoach: {exc}")
        return ExitStatus(exc.exit_code)
    except KeyboardInterrupt:
        return stopping.announce()
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`voicecoach list | head`): nothing more to say
        return ExitStatus.BROKEN_PIPE
    except Exception:  # noqa: BLE001 - the last line of defence: one sentence, details to a file
        where = _write_crash_report()
        if _resumable(args, commands):
            env.err(f"voicecoach: something unexpected went wrong; your progress is saved. "
                    f"Run `voicecoach resume` to continue, and please report the details in {where}.")
        else:
            env.err(f"voicecoach: something unexpected went wrong; please report the details in {where}.")
        return ExitStatus.ERROR


def _resumable(args: argparse.Namespace, commands: dict[str, Command]) -> bool:
    """Only a session keeps progress, and only with its journal: elsewhere "your progress is saved" would be
    untrue (setup, check), or point at an older exercise than the one that crashed (journal, --no-journal)."""
    command = commands.get(getattr(args, "command", None) or "")
    if command is None or not command.sessions or args.list_devices or getattr(args, "no_journal", False):
        return False
    try:
        from voicecoach.journal_file import progress_saved

        return progress_saved()
    except Exception:  # noqa: BLE001 - the crash message itself must not crash
        return False


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so flushing it at exit does not fail a second time."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _write_crash_report() -> str:
    import traceback

    from voicecoach import paths

    path = None
    try:
        folder = paths.private_dir(paths.data_dir())
        path = folder / "crash.log"
        # Owner-only from its first byte (the traceback can hold their words); older versions' report too.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(traceback.format_exc() + "\n")
        return str(path)
    except OSError:
        if path is not None:
            with contextlib.suppress(OSError):
                if path.stat().st_size == 0:  # made just now on a full disk: no empty report left behind
                    path.unlink()
        return "(the report could not be written)"
