"""`voicecoach setup`: download the Dutch speech model."""

from __future__ import annotations

import argparse
import urllib.parse
from pathlib import Path

from voicecoach.cli.command import Command
from voicecoach.environment import Environment
from voicecoach.errors import ExitStatus, UserError


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dest", metavar="DIR", help="where to put it (default: models/ or your data folder)")
    p.add_argument("--url", metavar="URL", help=argparse.SUPPRESS)


def setup(args: argparse.Namespace, env: Environment) -> ExitStatus:
    from voicecoach import model_store

    spec = model_store.DUTCH
    if args.url:
        spec = model_store.ModelSpec(spec.name, _web_address(args.url), spec.size, spec.sha256)
    dest = Path(args.dest) if args.dest else model_store.default_install_dir()
    path = model_store.install_model(spec, dest, progress=env.stderr_is_terminal())
    env.out(f"The Dutch speech model is ready at {path}.")
    return ExitStatus.SUCCESS


def _web_address(url: str) -> str:
    """`--url notaurl` or `http://[::1` failed deep inside the download, as something unexpected."""
    try:
        parts = urllib.parse.urlsplit(url)
        known = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0  # .port checks its range
    except ValueError:
        known = False
    if not known:
        raise UserError(f"--url {url} is not a web address.", "Give a whole web address, such as https://example.org/model.zip.")
    return url


COMMANDS = [Command("setup", "download the Dutch speech model (40 MB, once)", arguments, setup, writes=False)]
