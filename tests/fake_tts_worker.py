"""The real pyttsx3 worker with a fault: run as `python fake_tts_worker.py MODE STATE LANGUAGE VOICE RATE`.

MODE is what goes wrong: "hang", "crash" (the process dies mid-render), "empty" (no file),
"header" (a WAV of 44 bytes), "short" (a blip instead of the text), "refuse" (the engine does not
start); with "-first" (e.g. "empty-first") only the first worker process has the fault. Each
process writes its pid to STATE, so a test can count them and check that they are gone.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import wave
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voicecoach.speech import pyttsx3_worker  # noqa: E402


class Faulty:
    def __init__(self, engine: Any, mode: str) -> None:
        self.engine, self.mode, self.path = engine, mode, ""
        self.finished: Any = None

    def connect(self, topic: str, callback: Any) -> None:
        self.finished = callback
        self.engine.connect(topic, callback)

    def save_to_file(self, text: str, path: str) -> None:
        self.path = path
        if self.mode not in ("empty", "header", "short", "hang", "crash"):
            self.engine.save_to_file(text, path)

    def runAndWait(self) -> None:  # noqa: N802 - pyttsx3's name
        if self.mode == "hang":
            time.sleep(3600)
        elif self.mode == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.mode in ("header", "short"):
            with wave.open(self.path, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(22050)
                if self.mode == "short":
                    w.writeframes(b"\x00\x40" * 2205)
        if self.mode in ("empty", "header", "short"):
            self.finished("utterance", True)  # it says it finished, and that is all it did
        else:
            self.engine.runAndWait()


def main() -> None:
    mode, state = sys.argv[1], Path(sys.argv[2])
    state.mkdir(parents=True, exist_ok=True)
    first = not any(state.iterdir())
    (state / str(os.getpid())).touch()
    if mode.endswith("-first"):
        mode = mode.removesuffix("-first") if first else "ok"
    if mode == "refuse":
        def refuse(language: str, voice: str, rate: int) -> Any:
            raise LookupError(f"no voice for language '{language}'")

        pyttsx3_worker.main(sys.argv[3:], refuse)
        return
    pyttsx3_worker.main(sys.argv[3:], lambda *a: Faulty(pyttsx3_worker.open_engine(*a), mode))


if __name__ == "__main__":
    main()
