"""Draws an exercise's state machine with transitions' graphviz support."""

from __future__ import annotations

import logging
from pathlib import Path

from voicecoach.engine.exercise import Exercise
from voicecoach.engine.machine import build_machine
from voicecoach.errors import UserError


def draw(exercise: Exercise, out: Path) -> Path:
    if out.suffix.lower() not in (".png", ".svg"):
        raise UserError(f"Cannot draw to {out.name}.", "Name a .png or .svg file.")
    try:
        import graphviz  # noqa: F401
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
    try:
        machine.get_graph().draw(str(out), prog="dot", format=out.suffix[1:])
    except Exception as exc:  # noqa: BLE001 - graphviz's own errors
        raise UserError(f"Graphviz could not draw the diagram ({exc}).", "Install it with: sudo apt-get install graphviz") from None
    return out
