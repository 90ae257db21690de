"""The pyttsx3 worker process: renders text to WAV files on request, and nothing else.

Run by `speech/render.py` as `python -m voicecoach.speech.pyttsx3_worker LANGUAGE VOICE RATE`. It reads
one JSON request per line on stdin ({"text": ..., "path": ...}) and answers one JSON line
({"ok": true} or {"error": "..."}) on its own copy of stdout. pyttsx3 and espeak-ng print to stdout
and stderr as they please: here that only reaches a file descriptor nobody reads, never the
couple's terminal. A hang or a crash here costs this process only: the session kills it and
starts a fresh one.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

Engine = Any  # a pyttsx3 engine (untyped library)


def voice_for(engine: Engine, language: str) -> str | None:
    """The id of the first voice that speaks `language` ("nl"), or None."""
    for voice in engine.getProperty("voices"):
        langs = [str(x).lower() for x in (voice.languages or [])]
        vid = str(voice.id).lower()
        if language in langs or vid.endswith("/" + language) or vid == language:
            return str(voice.id)
    return None


def open_engine(language: str, voice: str, rate: int) -> Engine:
    import pyttsx3

    engine = pyttsx3.init("espeak") if os.name == "posix" else pyttsx3.init()
    chosen = voice or voice_for(engine, language)
    if chosen is None:
        raise LookupError(f"no voice for language '{language}'")
    engine.setProperty("voice", chosen)
    engine.setProperty("rate", rate)
    return engine


def serve(make_engine: Callable[[], Engine], requests: IO[str], replies: IO[str]) -> None:
    """Answer render requests until stdin closes (the session ended or died)."""
    try:
        engine = make_engine()
    except Exception as exc:  # noqa: BLE001 - reported to the session, which says it in one sentence
        _reply(replies, {"error": f"{type(exc).__name__}: {exc}", "start": True})
        return
    # pyttsx3's espeak driver can return from runAndWait before its callback has written the file
    # (often on a new engine's first text): the file is complete when "finished-utterance" comes.
    finished = threading.Event()
    engine.connect("finished-utterance", lambda name, completed: finished.set())
    _reply(replies, {"ok": True, "start": True})
    for line in requests:
        request = json.loads(line)
        finished.clear()
        try:
            engine.save_to_file(request["text"], request["path"])
            engine.runAndWait()
            finished.wait(float(request.get("wait", 5.0)))
        except Exception as exc:  # noqa: BLE001
            _reply(replies, {"error": f"{type(exc).__name__}: {exc}"})
        else:
            _reply(replies, {"ok": True})


def _reply(replies: IO[str], message: dict[str, Any]) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


def main(argv: list[str] | None = None, make_engine: Callable[[str, str, int], Engine] = open_engine) -> None:
    # Ctrl-C reaches the whole process group: the session decides when this process ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    language, voice, rate = (argv if argv is not None else sys.argv[1:])[:3]
    # Our replies get their own descriptor; whatever pyttsx3 prints goes where stderr goes.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(lambda: make_engine(language, voice, int(rate)), sys.stdin, replies)


if __name__ == "__main__":
    main()
