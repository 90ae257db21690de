"""`voicecoach setup`: download the Dutch speech model."""

from __future__ import annotations

import argparse
from pathlib import Path

from voicecoach.cli.command import Command
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dest", metavar="DIR", help="where to put it (default: models/ or your data folder)")
    p.add_argument("--url", metavar="URL", help=argparse.SUPPRESS)


def setup(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from voicecoach import model_store

    spec = model_store.DUTCH
    if args.url:
        spec = model_store.ModelSpec(spec.name, args.url, spec.size, spec.sha256)
    dest = Path(args.dest) if args.dest else model_store.default_install_dir()
    path = model_store.install_model(spec, dest, progress=env.stderr_is_terminal())
    env.out(f"The Dutch speech model is ready at {path}.")
    return ExitStatus.SUCCESS


COMMANDS = [Command("setup", "download the Dutch speech model (40 MB, once)", arguments, setup, writes=False)]
