"""A scripted couple for whole herstelgesprek sessions, from any step on (for the reliability tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.conftest import KO_VOCAB
from voicecoach.audio.pcm import RATE, Audio, read_wav, write_wav
from voicecoach.speech.vocab import load_vocabulary

Say = Callable[..., Path]

SENTENCE = "오늘은 정말 바쁜 하루였어요 그리고 내일도 바빠요"
STEPS = ["welkom", "samen", "kalm", "regels", "regels_goed", "ikboodschap", "spiegel_een", "wissel", "spiegel_twee", "afspraken",
         "afspraak_een", "afspraak_twee", "afsluiting"]


def word(intent: str) -> str:
    """The Korean test vocabulary's first phrase for `intent` (the words are chosen by measurement)."""
    return load_vocabulary(KO_VOCAB).first(intent)


def talk(say: Say, folder: Path) -> Path:
    """Someone speaks a sentence, pauses, then says the done word on its own."""
    path = folder / "talk.wav"
    if not path.exists():
        parts = [read_wav(say(SENTENCE)), Audio.silence(1.2), read_wav(say(word("done"))), Audio.silence(0.3)]
        write_wav(path, Audio.concat(parts))
    return path


def answers_from(step: str, say: Say, folder: Path, consent: bool | None = None, give: bool = True) -> list[str]:
    """The happy path's answers from the start of `step` to the end; consent given (`give`) when asked."""
    t, yes, no = str(talk(say, folder)), str(say(word("confirm"))), str(say(word("deny")))
    mirror = [t, t, yes, no]  # speak, reflect, klopt, nothing more

    def agreement() -> list[str]:
        nonlocal consent
        asked = consent is None
        consent = give if asked else consent
        # propose, reflect, each agrees (, each consents: Joris is not asked after Sanne's no)
        return [t, t, yes, yes] + (([yes, yes] if give else [no]) if asked else [])

    per_step: dict[str, Callable[[], list[str]]] = {
        "samen": lambda: [yes, yes], "kalm": lambda: [yes, yes], "regels_goed": lambda: [yes, yes],
        "spiegel_een": lambda: mirror, "spiegel_twee": lambda: mirror,
        "afspraak_een": agreement, "afspraak_twee": agreement,
    }
    out: list[str] = []
    for name in STEPS[STEPS.index(step):]:
        out += per_step.get(name, list)()
    return out


def write_script(path: Path, items: list[str | float]) -> Path:
    lines = [f"silence {x}" if isinstance(x, float) else str(x) for x in items]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def events_of(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # the last line of a killed process may be cut short
            pass
    return out


def noise(kind: str, seconds: float, seed: int = 0) -> np.ndarray:
    """White or pink noise at unit RMS (float32)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    white = rng.standard_normal(n).astype(np.float32)
    if kind == "white":
        out = white
    else:  # pink: 1/f power, shaped in the frequency domain
        spectrum = np.fft.rfft(white)
        f = np.arange(len(spectrum), dtype=np.float32)
        f[0] = 1.0
        out = np.fft.irfft(spectrum / np.sqrt(f), n).astype(np.float32)
    return out / float(np.sqrt(np.mean(out**2)))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


NEWS = ["오늘의 뉴스를 전해 드리겠습니다 서울은 맑겠습니다", "경제 소식입니다 주가가 올랐습니다",
        "다음은 스포츠 소식입니다 경기가 끝났습니다", "내일은 전국에 비가 오겠습니다 우산을 챙기세요",
        "교통 정보입니다 고속도로가 막히고 있습니다"]


def other_speech(say: Say, voice: str, speed: int, order: int = 0) -> np.ndarray:
    """Someone else talking on and on (a newsreader), at unit RMS, over a little room noise.

    Digital silence is cut out: a television never falls silent to the last bit.
    """
    parts = []
    for sentence in (NEWS[order:] + NEWS[:order]) * 2:
        x = read_wav(say(sentence, voice, speed)).samples.astype(np.float32)
        loud = np.nonzero(np.abs(x) > 30)[0]
        parts += [x[loud[0]:loud[-1]], np.zeros(int(0.15 * RATE), np.float32)]
    x = np.concatenate(parts)
    x /= rms(x)
    return x + 0.03 * noise("pink", len(x) / RATE, 7 + order)[: len(x)]


def babble(say: Say) -> np.ndarray:
    """Four people talking at once (a party, a café): other speech, overlapping."""
    voices = ["ko", "ko+m3", "ko+f2", "ko+m7"]
    tracks = [other_speech(say, v, 160 + 10 * k, k) for k, v in enumerate(voices)]
    n = min(len(t) for t in tracks)
    x = sum(np.roll(t[:n], 4000 * k) for k, t in enumerate(tracks))
    return x / rms(x)


def voiced_rms(x: np.ndarray) -> float:
    """RMS over the 20 ms blocks that carry the voice (the loudest half), so pauses don't count."""
    blocks = x[: len(x) // 320 * 320].astype(np.float64).reshape(-1, 320)
    levels = np.sqrt(np.mean(blocks**2, axis=1))
    return float(np.sqrt(np.mean(np.sort(levels)[len(levels) // 2:] ** 2)))
