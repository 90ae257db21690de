"""Draws an exercise's state machine with transitions' graphviz support."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from voicecoach.engine.exercise import Exercise
from voicecoach.engine.machine import build_machine
from voicecoach.errors import StorageError, UserError
from voicecoach.paths import write_atomically


def draw(exercise: Exercise, out: Path) -> Path:
    if out.suffix.lower() not in (".png", ".svg"):
        raise UserError(f"Cannot draw to {out.name}.", "Name a .png or .svg file.")
    if out.exists() and not out.is_file():  # the drawing replaces a file; never a folder or a device
        raise UserError(f"{out} is not a file the diagram can replace.", "Name a new .png or .svg file with -o.")
    try:
        import graphviz
        from transitions.extensions import GraphMachine
    except ImportError:
        raise UserError("Drawing needs the graphviz package.", "Install it with: pip install 'voicecoach[diagram]'") from None
    # transitions tries pygraphviz first and says so; the graphviz backend is ours.
    logging.getLogger("transitions.extensions.diagrams").setLevel(logging.ERROR)
    class TopDown(GraphMachine):
        machine_attributes = {**GraphMachine.machine_attributes, "rankdir": "TB"}

    # Commands (pauze, herhaal, waarom, stop, ...) work in every state; drawn, they hide the flow.
    machine = build_machine("self", exercise, machine_cls=TopDown, commands=False,
                            title=f"{exercise.title} (pauze, herhaal, waarom, help, stop: in every state)",
                            show_conditions=True)
    # Drawn in memory: graphviz's render() writes its source beside the picture, to the name without the
    # extension, and then deletes it, which took a file of theirs named like that (`notes` for notes.svg).
    try:
        picture = machine.get_graph().draw(None, prog="dot", format=out.suffix[1:].lower())
    except graphviz.ExecutableNotFound:
        raise UserError("Drawing needs the graphviz program (dot).", "Install it with: sudo apt-get install graphviz") from None
    except Exception as exc:  # noqa: BLE001 - graphviz's own errors
        raise UserError(f"Graphviz could not draw the diagram ({exc}).", "Check that graphviz works: dot -V") from None
    _write(out, picture)
    return out


def _write(out: Path, picture: bytes) -> None:
    """Put the picture at `out` whole or not at all, readable as any file they make (their umask)."""
    umask = os.umask(0)
    os.umask(umask)
    try:
        write_atomically(out, picture, mode=0o666 & ~umask)  # a diagram is an ordinary file, not a private one
    except OSError as exc:
        raise StorageError(f"Could not write the diagram to {out} ({exc.strerror or exc}).",
                           "Name a file in a folder you can write to, or free some disk space.") from exc
