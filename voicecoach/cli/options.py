"""Option groups that several commands share: what they listen with, speak through, and how a session runs."""

from __future__ import annotations

import argparse


def speaker_options(g: argparse._ArgumentGroup) -> None:
    """What voicecoach speaks through: every command that talks."""
    g.add_argument("--output-device", metavar="ID", help="speaker: index or part of its name")
    g.add_argument("--speaker-file", metavar="OUT.wav", help="write what voicecoach says to a WAV instead of a speaker")
    g.add_argument("--voice", metavar="ID", help="synthesizer voice (default: the Dutch espeak-ng voice)")
    g.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute (default 150)")
    g.add_argument("--fast", action="store_true", help="simulated clock: run as fast as the computer can")
    # Also after the command (`voicecoach run --list-devices`); unset unless given, so it does not undo
    # `voicecoach --list-devices run` (a command's own defaults overwrite the global ones).
    g.add_argument("--list-devices", action="store_true", default=argparse.SUPPRESS,
                   help="list microphones and speakers, then exit")


def sound_options(p: argparse.ArgumentParser) -> None:
    """What voicecoach listens with and speaks through: every command that listens."""
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


def session_options(p: argparse.ArgumentParser) -> None:
    """How an exercise runs: names, typed answers, turn lengths, the journal."""
    g = p.add_argument_group("session")
    g.add_argument("--names", metavar="A,B", help='your first names, e.g. "Sanne,Joris"')
    g.add_argument("--text", action="store_true", help="print the prompts and type your answers (no microphone)")
    g.add_argument("--turn-seconds", type=float, metavar="S", help="length of a speaking turn")
    g.add_argument("--mirror-seconds", type=float, metavar="S", help="length of a mirroring turn")
    g.add_argument("--no-journal", action="store_true", help="keep nothing of this session")
    # For tests: the journal's time of day starts here (and moves with --fast's clock), e.g. a day later.
    g.add_argument("--wall-start", metavar="YYYY-MM-DDTHH:MM", help=argparse.SUPPRESS)
