"""One object per kind of step, each performing itself against the stage (engine/stage.py)."""

from __future__ import annotations

from voicecoach.engine.exercise import Step
from voicecoach.engine.stage import Stage
from voicecoach.engine.steps.agreement import Agreement
from voicecoach.engine.steps.base import StepRun
from voicecoach.engine.steps.count import Count
from voicecoach.engine.steps.mirror import Mirror
from voicecoach.engine.steps.simple import Choice, Confirm, Say, Turn
from voicecoach.engine.steps.values import Values

__all__ = ["KINDS", "StepRun", "make_step"]

KINDS: dict[str, type[StepRun]] = {
    "say": Say, "confirm": Confirm, "choice": Choice, "turn": Turn, "mirror": Mirror, "agreement": Agreement,
    "values": Values, "shared": Values, "count": Count,
}


def make_step(step: Step, stage: Stage) -> StepRun:
    return KINDS[step.kind](step, stage)
