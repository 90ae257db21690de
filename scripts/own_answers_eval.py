#!/usr/bin/env python3
"""Their own answers as a second opinion, over the whole evaluation corpus (README, "What was tried").

    python scripts/own_answers_eval.py [--split held_out|tuning] [--only CONDITION ...]

The shipped listener hears every item of every condition of scripts/hearing.py, on one continuous stream
per condition. Each decided answer is then given to `OwnAnswers.doubts` with the answers of its own voice
as `voicecoach check` would have kept them: the confirm and deny phrases three times each, at other speeds
than the item, same pitch, clean. Per condition: the wrong decisions it would have asked back instead, and
the right ones. (hearing.py's calibration table runs the check itself, per voice, in three conditions.)
"""

from __future__ import annotations

import argparse
import sys
import zlib
from typing import Any

import bench_baseline as bb
import corpus as cp
import hearing as h
import numpy as np

from voicecoach.clock import SimClock
from voicecoach.speech.own_answers import OwnAnswers


class _Keep:
    """Stands in for the couple's answers during the run: keeps what was decided, doubts nothing."""

    def __init__(self) -> None:
        self.audio: np.ndarray | None = None

    def doubts(self, samples: np.ndarray, intent: str | None, phrase: str) -> bool:
        self.audio = samples.copy()
        return False


def their_answers(mat: cp.Material, voice: str, pitch: int, speed: int) -> OwnAnswers:
    rng = np.random.default_rng(zlib.crc32(repr((voice, pitch, speed)).encode()))
    speeds = [s for s in cp.SPEEDS if s != speed]
    own = OwnAnswers()
    for intent in ("confirm", "deny"):
        phrase = mat.answers[intent][0]
        for _ in range(3):
            own.add(intent, phrase, cp.speak(phrase, mat.code, voice, int(rng.choice(speeds)), pitch))
    return own


def run(split: str, only: list[str] | None) -> dict[str, dict[str, int]]:
    job = h.Job(cp.language(), split, False, "clean", 0, str(h.model_path()))
    model, vocab, mat = h.setup(job)
    intents = [i for i in mat.intents if i in vocab.intents]
    corpus = cp.items(mat, split, cp.FULL)
    enrolled: dict[tuple[str, int, int], OwnAnswers] = {}
    out: dict[str, dict[str, int]] = {}
    for cond in cp.conditions():
        if only and cond.name not in only:
            continue
        rng = np.random.default_rng(0)
        speech = [cond.speech(item, rng, mat) for item in corpus]
        clock = SimClock()
        couple = h.Couple(clock, cond.background(mat, split, bb.NOISE_SECONDS, seed=1))
        couple.start()
        listener = h.make_listener(couple, model, vocab, clock)
        listener.listen(intents, clock.now() + h.SETTLE)
        counts = {"right": 0, "wrong": 0, "wrong asked back": 0, "right asked back": 0}
        for item, samples in zip(corpus, speech, strict=True):
            keep = _Keep()
            listener.own = keep  # type: ignore[assignment]
            couple.say(np.concatenate([samples, h.silence(h.PAD)]))
            heard = listener.listen(intents, clock.now() + 10.0)
            if heard.kind != "intent" or keep.audio is None:
                continue
            key = (item.voice, item.pitch, item.speed)
            if key not in enrolled:
                enrolled[key] = their_answers(mat, *key)
            right = heard.intent == item.intent
            doubted = enrolled[key].doubts(keep.audio, heard.intent, heard.phrase)
            counts["right" if right else "wrong"] += 1
            counts[("right" if right else "wrong") + " asked back"] += doubted
        out[cond.name] = counts
        print(f"{cond.name}: {counts}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("held_out", "tuning"), default="held_out")
    parser.add_argument("--only", action="append", help="just this condition (repeatable)")
    args = parser.parse_args()
    out = run(args.split, args.only)
    total: dict[str, Any] = {k: sum(c[k] for c in out.values()) for k in ("right", "wrong", "wrong asked back",
                                                                          "right asked back")}
    print(f"all: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
