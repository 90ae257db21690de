"""The `voicecoach` command: parses, wires, and turns every failure into one sentence."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from voicecoach import __version__, stopping
from voicecoach.errors import UserError

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = stopping.EXIT_INTERRUPTED


def speaker_options(g: argparse._ArgumentGroup) -> None:
    """What voicecoach speaks through: shared by every command that talks."""
    g.add_argument("--output-device", metavar="ID", help="speaker: index or part of its name")
    g.add_argument("--speaker-file", metavar="OUT.wav", help="write what voicecoach says to a WAV instead of a speaker")
    g.add_argument("--voice", metavar="ID", help="synthesizer voice (default: the Dutch espeak-ng voice)")
    g.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute (default 150)")
    g.add_argument("--fast", action="store_true", help="simulated clock: run as fast as the computer can")


def _device_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sound")
    g.add_argument("--model", metavar="PATH", help="Vosk model folder (default: the Dutch model from `voicecoach setup`)")
    g.add_argument("--vocab", metavar="FILE", help="your own vocabulary file (see voicecoach/lang/nl.toml)")
    g.add_argument("--device", metavar="ID", help="microphone: index or part of its name (see --list-devices)")
    g.add_argument("--mic-file", metavar="IN.wav", help="play a recording as the microphone")
    g.add_argument("--answers", metavar="SCRIPT", help="a scripted couple: lines of WAV paths or 'silence SECONDS'")
    speaker_options(g)
    g.add_argument("--events", metavar="FILE.jsonl", help="write a line per event to this file (without your words)")
    g.add_argument("--events-words", action="store_true",
                   help="also write your words into the events file: what you said or typed, names, values")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicecoach",
        description="An offline voice coach that guides you both through conversation exercises, hands-free.",
    )
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (never what you say)")
    parser.add_argument("--list-devices", action="store_true", help="list microphones and speakers, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("setup", help="download the Dutch speech model (40 MB, once)")
    p.add_argument("--dest", metavar="DIR", help="where to put it (default: models/ or your data folder)")
    p.add_argument("--url", metavar="URL", help=argparse.SUPPRESS)

    p = sub.add_parser("listen", help="print what voicecoach hears, one JSON line per decision")
    _device_options(p)
    p.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until the file ends, or Ctrl-C)")
    p.add_argument("--intents", metavar="A,B,...", default=None,
                   help="listen only for these intents, as one question does (e.g. confirm,deny,repeat; default: all)")

    p = sub.add_parser("check", help="learn your voices: each says 'klopt' and 'klopt niet' three times (kept for every session)")
    _device_options(p)

    from voicecoach import commands

    commands.add_parsers(sub, _device_options)
    return parser


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `voicecoach` alone: the spoken menu
        args = parser.parse_args([*(argv or sys.argv[1:]), "run"])
    _configure_logging(args.verbose)
    with stopping.handled():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    try:
        if args.list_devices:
            from voicecoach.audio.live import list_devices

            print(list_devices())
            return 0
        from voicecoach import commands

        return commands.dispatch(args)
    except UserError as exc:
        print(f"voicecoach: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return stopping.announce()
    except Exception:  # noqa: BLE001 - the last line of defence: one sentence, details to a file
        where = _write_crash_report()
        print(f"voicecoach: something unexpected went wrong; your progress is saved. "
              f"Run `voicecoach resume` to continue, and please report the details in {where}.", file=sys.stderr)
        return 1


def _write_crash_report() -> str:
    import traceback

    from voicecoach import paths

    try:
        folder = paths.private_dir(paths.data_dir())
        path = folder / "crash.log"
        with path.open("a", encoding="utf-8") as f:
            f.write(traceback.format_exc() + "\n")
        path.chmod(0o600)
        return str(path)
    except OSError:
        return "(the report could not be written)"


def print_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)
