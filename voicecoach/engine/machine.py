"""Compiles an exercise into a `transitions` machine: a state per step (and phase)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from transitions import Machine

from voicecoach.engine.exercise import Exercise, Step
from voicecoach.speech.vocab import COMMANDS

END, STOPPED = "end", "stopped"
STOP = "stop"
# The commands that keep the state (internal transitions, valid everywhere); "stop" leaves it.
CONTROLS = tuple(c for c in COMMANDS if c != STOP)
# Resolves a callback's name to the callable the machine calls (a session: the current step's method).
Hook = Callable[[str], Any]
# Steps that listen for items of a vocabulary list answer with this trigger (the item is kept by the model).
PICK = "pick"

# The phases of compound steps, in the order they run. A state is "<step>" or "<step>__<phase>".
PHASES = {
    "mirror": ("speak", "reflect", "check", "more", "add", "correct"),
    "agreement": ("propose", "reflect", "agree", "consent"),
    "values": ("name", "check", "which", "change"),
    "shared": ("propose", "check", "which", "change"),
}


def phases(step: Step) -> tuple[str, ...]:
    """The phases this step runs; an agreement with `mirror = false` is not repeated back."""
    found = PHASES.get(step.kind, ())
    if step.kind == "agreement" and step.extra.get("mirror") is False:
        return tuple(p for p in found if p != "reflect")
    return found


def state_name(step: Step, phase: str | None = None) -> str:
    return f"{step.id}__{phase}" if phase else step.id


def entry_state(step: Step) -> str:
    found = phases(step)
    return state_name(step, found[0]) if found else step.id


def split_state(state: str) -> tuple[str, str | None]:
    step, _, phase = state.partition("__")
    return step, phase or None


Moves = list[dict[str, Any]]


def _mirror(step: Step, nxt: str, go: Callable[[str], str]) -> tuple[list[str], Moves]:
    s = {p: state_name(step, p) for p in PHASES["mirror"]}
    return list(s.values()), [
        {"trigger": "next", "source": s["speak"], "dest": s["reflect"]},
        {"trigger": "next", "source": s["reflect"], "dest": s["check"]},
        {"trigger": "confirm", "source": s["check"], "dest": s["more"], "conditions": ["ask_more", "rounds_left"]},
        {"trigger": "confirm", "source": s["check"], "dest": nxt, "after": "mirror_done"},
        {"trigger": "deny", "source": s["check"], "dest": s["correct"], "conditions": "rounds_left",
         "after": "count_round"},
        {"trigger": "deny", "source": s["check"], "dest": nxt, "after": "move_on_kindly"},
        {"trigger": "confirm", "source": s["more"], "dest": s["add"], "conditions": "rounds_left",
         "after": "count_round"},
        {"trigger": "confirm", "source": s["more"], "dest": nxt, "after": "move_on_kindly"},
        {"trigger": "deny", "source": s["more"], "dest": nxt, "after": "mirror_done"},
        {"trigger": "next", "source": [s["add"], s["correct"]], "dest": s["reflect"]},
    ]


def _agreement(step: Step, nxt: str, go: Callable[[str], str]) -> tuple[list[str], Moves]:
    s = {p: state_name(step, p) for p in phases(step)}
    said = [s["propose"], s["reflect"], s["agree"]] if "reflect" in s else [s["propose"], s["agree"]]
    return list(s.values()), [
        # Nothing proposed (silence, an empty line): nobody is asked to agree to nothing, or to keep it.
        {"trigger": "next", "source": s["propose"], "dest": nxt, "conditions": "proposed_nothing",
         "after": "nothing_to_keep"},
    ] + [
        {"trigger": "next", "source": a, "dest": b} for a, b in pairwise(said)
    ] + [
        {"trigger": "confirm", "source": s["agree"], "dest": s["consent"], "conditions": "needs_consent"},
        {"trigger": "confirm", "source": s["agree"], "dest": nxt, "after": "keep_agreement"},
        {"trigger": "deny", "source": s["agree"], "dest": s["propose"], "conditions": "rounds_left",
         "before": "propose_again", "after": "count_round"},
        {"trigger": "deny", "source": s["agree"], "dest": nxt, "after": "move_on_kindly"},
        {"trigger": "confirm", "source": s["consent"], "dest": nxt, "before": "consent_given",
         "after": "keep_agreement"},
        {"trigger": "deny", "source": s["consent"], "dest": nxt, "before": "consent_refused",
         "after": "keep_agreement"},  # says it was not kept
    ]


def _values(step: Step, nxt: str, go: Callable[[str], str]) -> tuple[list[str], Moves]:
    s = {p: state_name(step, p) for p in PHASES[step.kind]}
    return list(s.values()), [
        # "name" collects the items one by one; "propose" says the proposal: then read back.
        {"trigger": "next", "source": s[PHASES[step.kind][0]], "dest": s["check"]},
        {"trigger": "confirm", "source": s["check"], "dest": nxt, "before": "keep_values"},
        {"trigger": "deny", "source": s["check"], "dest": s["which"]},
        {"trigger": PICK, "source": [s["check"], s["which"]], "dest": s["change"], "before": "aim"},
        {"trigger": PICK, "source": s["change"], "dest": s["check"], "before": "replace_value"},
        {"trigger": "deny", "source": s["change"], "dest": s["check"], "before": "keep_value"},  # the way out
        {"trigger": "deny", "source": s["which"], "dest": s["check"]},  # none to change after all: read back
    ]


def _confirm(step: Step, nxt: str, go: Callable[[str], str]) -> tuple[list[str], Moves]:
    return [step.id], [
        {"trigger": "confirm", "source": step.id, "dest": nxt},
        {"trigger": "deny", "source": step.id, "dest": go(step.on_deny) if step.on_deny else nxt},
    ]


def _choice(step: Step, nxt: str, go: Callable[[str], str]) -> tuple[list[str], Moves]:
    # An option may be a command ("time-out" when one of them is not calm): it is done as it is anywhere,
    # and then the flow goes on at the option's step instead of asking the same question again.
    return [step.id], [
        {"trigger": intent, "source": step.id, "dest": END if target.startswith("exercise:") else go(target),
         "before": "chose", **({"after": f"on_{intent}"} if intent in CONTROLS else {})}
        for intent, target in step.options.items()
    ]


def _one_state(step: Step, nxt: str, go: Callable[[str], str]) -> tuple[list[str], Moves]:
    """say, turn, count: one state that moves on when done (a count loops inside it)."""
    return [step.id], [{"trigger": "next", "source": step.id, "dest": nxt}]


# A step kind's states and transitions, given the state that comes after it.
_KINDS = {"mirror": _mirror, "agreement": _agreement, "values": _values, "shared": _values, "confirm": _confirm,
          "choice": _choice}


def build_machine(model: Any, exercise: Exercise, initial: str | None = None,
                  machine_cls: type[Machine] = Machine, commands: bool = True, hook: Hook | None = None,
                  **options: Any) -> Machine:
    """Adds states and transitions for `exercise` to `model` (the running session).

    Conditions (`rounds_left`, `ask_more`, `needs_consent`) keep the loops of
    the mirroring check inside the machine; commands are internal transitions
    valid in every state; errors in callbacks reach `model.on_error`. Triggers
    fired by a callback are queued: they run after the transition that fired them.
    `hook` turns each condition's and action's name into what is called (without
    it the names stay, as a diagram shows them).
    """
    states: list[str] = []
    transitions: list[dict[str, Any]] = []
    steps = exercise.steps

    def go(step_id: str) -> str:
        return END if step_id == END else entry_state(exercise.step(step_id))

    for i, step in enumerate(steps):
        nxt = go(step.next) if step.next else entry_state(steps[i + 1]) if i + 1 < len(steps) else END
        step_states, moves = _KINDS.get(step.kind, _one_state)(step, nxt, go)
        states += step_states
        transitions += moves
    states += [END, STOPPED]
    if commands:  # valid everywhere; a diagram leaves them out to stay readable
        transitions += [{"trigger": c, "source": "*", "dest": None, "after": f"on_{c}"} for c in CONTROLS]
        transitions.append({"trigger": STOP, "source": "*", "dest": STOPPED})
    if hook is not None:
        transitions = [_hooked(t, hook) for t in transitions]
    return machine_cls(
        model=model, states=states, transitions=transitions,
        initial=initial or entry_state(steps[0]), auto_transitions=False,
        after_state_change="on_state_changed", on_exception="on_error",
        send_event=True, ignore_invalid_triggers=False, queued=True, **options,
    )


def _hooked(transition: dict[str, Any], hook: Hook) -> dict[str, Any]:
    out = dict(transition)
    for key in ("conditions", "before", "after"):
        names = out.get(key)
        if isinstance(names, str):
            out[key] = hook(names)
        elif names:
            out[key] = [hook(n) for n in names]
    return out
