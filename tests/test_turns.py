"""Turn awareness on real synthesized speech: the couple's voice profile and the turn watcher."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.pcm import RATE, Audio, read_wav
from voicecoach.audio.sources import Chunk
from voicecoach.paths import data_dir
from voicecoach.speech.speakers import BOTH, ProfileError, SpeakerProfile, profile_path
from voicecoach.speech.turn_watch import TurnSummary, TurnWatch, energy_vad
from voicecoach.speech.voice_features import frame_features

# Two distinct espeak-ng voices from the benchmark's tuning side (never its held-out voices).
SPEAKER, LISTENER = "ko+m3", "ko+f2"
ENROLL = ["민지", "네", "네", "네", "아니요", "아니요", "나는 아침마다 커피를 마시면서 하루를 계획해요."]
ENROLL_2 = ["준호", "네", "네", "네", "아니요", "아니요", "우리가 처음 만났던 날을 아직도 기억해요."]
TALK = ["오늘 저녁에 우리는 조용히 이야기를 나누었어요.", "나는 당신이 바쁠 때 조금 외로움을 느껴요.",
        "우리가 함께 산책을 하면 마음이 편해져요.", "지난주에 당신이 도와줘서 정말 고마웠어요.",
        "가끔 내 말을 끝까지 들어주면 좋겠어요.", "주말에는 휴대폰 없이 시간을 보내고 싶어요.",
        "우리 둘 다 피곤할 때는 쉽게 화가 나요."]
INTERRUPT = ["아니요, 그건 정말 사실이 아니에요.", "잠깐만요, 그렇게 된 게 전혀 아니에요."]

Say = Callable[..., Path]


def voice(say: Say, text: str, who: str) -> np.ndarray:
    samples = read_wav(say(text, voice=who)).samples
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return samples[loud[0] : loud[-1] + 1].astype(np.float32)


def enroll(say: Say, texts: list[str], who: str) -> list[Audio]:
    return [Audio(voice(say, t, who).astype(np.int16)) for t in texts]


@pytest.fixture(scope="module")
def profile(say: Say) -> SpeakerProfile:
    return SpeakerProfile.fit([enroll(say, ENROLL, SPEAKER), enroll(say, ENROLL_2, LISTENER)])


class Scene:
    """A scripted turn: the speaker's sentences with pauses, other sounds placed at known times."""

    def __init__(self, seconds: float) -> None:
        self.track = np.zeros(int(seconds * RATE), np.float32)
        rng = np.random.default_rng(1)
        self.track += rng.normal(0, 30, len(self.track)).astype(np.float32)  # a quiet room, not digital silence

    def put(self, sound: np.ndarray, at: float, gain: float = 1.0) -> float:
        i = int(at * RATE)
        self.track[i : i + len(sound)] += gain * sound[: len(self.track) - i]
        return at + len(sound) / RATE

    def talk(self, say: Say, start: float, pauses: list[float]) -> list[tuple[float, float]]:
        """The speaker's sentences, each followed by the next pause; returns where each was said."""
        said, t = [], start
        for text, pause in zip(TALK, pauses, strict=False):
            end = self.put(voice(say, text, SPEAKER), t)
            said.append((t, end))
            t = end + pause
        return said

    def watch(self, profile: SpeakerProfile | None, speaker: int = 1, chunk: int = 320) -> TurnSummary:
        pcm = np.clip(self.track, -32768, 32767).astype(np.int16)
        w = TurnWatch(speaker, profile, energy_vad())
        for k in range(0, len(pcm) - chunk + 1, chunk):
            w.feed(Chunk(pcm[k : k + chunk], 100.0 + k / RATE))  # stream time need not start at 0
        return w.summary()


def cough(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.3 * RATE)) / RATE
    return (rng.normal(0, 1, len(t)) * np.exp(-t / 0.08) * 8000).astype(np.float32)


def test_profile_tells_two_distinct_voices_apart(say: Say, profile: SpeakerProfile) -> None:
    right = wrong = 0
    for partner, who in ((1, SPEAKER), (2, LISTENER)):
        speech = np.concatenate([voice(say, t, who) for t in TALK[:4]])
        for start in range(0, len(speech) - RATE, RATE):
            decision = profile.decide(Audio(speech[start : start + RATE].astype(np.int16)))
            right += decision.partner == partner
            wrong += decision.partner == 3 - partner
    assert wrong == 0
    assert right >= 0.8 * (right + wrong + 0) and right > 10


def test_both_at_once_is_its_own_label(say: Say, profile: SpeakerProfile) -> None:
    a, b = voice(say, TALK[0], SPEAKER), voice(say, TALK[1], LISTENER)
    n = min(len(a), len(b))
    labels = [profile.decide(Audio((a[s : s + RATE] + b[s : s + RATE]).astype(np.int16))).label
              for s in range(0, n - RATE, RATE)]
    assert labels.count(BOTH) > len(labels) / 2, labels


def interrupted_scene(say: Say) -> tuple[Scene, list[tuple[float, float]]]:
    scene = Scene(40.0)
    said = scene.talk(say, 0.5, [0.6, 4.2, 0.8, 0.5, 1.0, 0.6])
    # once in the speaker's pause after the second sentence, once over the speaker's fourth sentence
    first_at = said[1][1] + 0.3
    first_end = scene.put(voice(say, INTERRUPT[0], LISTENER), first_at)
    second_at = said[3][0] + 0.4
    second_end = scene.put(voice(say, INTERRUPT[1], LISTENER), second_at, gain=1.2)
    return scene, [(first_at, first_end), (second_at, second_end)]


def test_listener_interrupting_twice_is_noted_twice(say: Say, profile: SpeakerProfile) -> None:
    scene, interruptions = interrupted_scene(say)
    summary = scene.watch(profile)
    assert summary.attributed
    assert len(summary.interruptions) == 2, summary.interruptions
    for note, (start, end) in zip(summary.interruptions, interruptions, strict=True):
        # times within the one-second stretches the labels are decided on
        assert start - 1.5 <= note.start - 100.0 <= end and start <= note.end - 100.0 <= end + 1.5
    assert summary.speaking(2) >= 2.0
    assert summary.voiced[1] > summary.speaking(2)


def test_other_chunk_sizes_give_the_same_turn(say: Say, profile: SpeakerProfile) -> None:
    scene, _ = interrupted_scene(say)
    base = scene.watch(profile)
    for chunk in (640, 1000):  # 40 ms, and 62.5 ms that does not fill whole frames
        other = scene.watch(profile, chunk=chunk)
        assert len(other.interruptions) == len(base.interruptions) == 2
        assert other.speaking(1) == pytest.approx(base.speaking(1), rel=0.1)
        assert other.seconds == pytest.approx(base.seconds, abs=0.07)


def test_nobody_interrupting_notes_nothing_and_measures_the_speaker(say: Say, profile: SpeakerProfile) -> None:
    scene = Scene(36.0)
    said = scene.talk(say, 0.5, [0.8, 3.0, 0.6, 1.5, 0.5, 2.0])
    summary = scene.watch(profile)
    assert summary.interruptions == ()
    spoken = sum(e - s for s, e in said)
    assert 0.6 * spoken <= summary.speaking(1) <= 1.05 * spoken
    assert summary.voiced[2] < 1.0
    assert any(2.5 <= p.seconds <= 3.5 for p in summary.pauses), summary.pauses  # the 3-second pause
    assert summary.start == 100.0 and abs(summary.seconds - 36.0) < 0.05


def test_back_channels_a_cough_and_a_laugh_are_not_interruptions(say: Say, profile: SpeakerProfile) -> None:
    scene = Scene(36.0)
    said = scene.talk(say, 0.5, [1.5, 2.0, 1.2, 1.5, 2.0, 1.0])
    for i, word in enumerate(["음", "네", "음", "응"]):  # in the speaker's pauses and over their voice
        scene.put(voice(say, word, LISTENER), said[i][1] + 0.2 if i % 2 == 0 else said[i][0] + 1.0)
    scene.put(voice(say, "하하하", LISTENER), said[4][1] + 0.1)
    scene.put(cough(3), said[5][0] + 0.5)
    summary = scene.watch(profile)
    assert summary.interruptions == ()
    assert summary.speaking(1) > 10.0


def test_without_a_profile_nothing_is_attributed_and_nothing_noted(say: Say) -> None:
    scene = Scene(30.0)
    said = scene.talk(say, 0.5, [4.0, 0.8, 0.6, 1.0])
    scene.put(voice(say, INTERRUPT[0], LISTENER), said[0][1] + 0.3)
    summary = scene.watch(None, speaker=2)
    assert not summary.attributed and summary.interruptions == ()
    assert summary.voiced[1] == 0.0 and summary.overlap == 0.0 and summary.unsure == 0.0
    heard = sum(e - s for s, e in said) + len(voice(say, INTERRUPT[0], LISTENER)) / RATE
    assert 0.6 * heard <= summary.voiced[2] <= 1.05 * heard


def test_the_profile_file_is_owner_only_and_round_trips(tmp_path: Path, say: Say, profile: SpeakerProfile) -> None:
    path = tmp_path / "couple" / "voices.json"
    profile.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["voices.json"]  # no temporary file left behind
    again = SpeakerProfile.load(path)
    clip = Audio(voice(say, TALK[5], LISTENER)[: 2 * RATE].astype(np.int16))
    assert again.decide(clip) == profile.decide(clip)
    assert again.decide(clip).partner == 2
    assert "[" not in repr(again)  # never its numbers in a log line
    profile.save(path)  # overwriting keeps it owner-only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": "voicecoach-voice-profile", "version": 1}',
                                     b'{"format": "other"}', b"\xff\xfe", b"[1, 2]"])
def test_a_damaged_profile_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "voices.json"
    path.write_bytes(content)
    with pytest.raises(ProfileError, match="damaged") as caught:
        SpeakerProfile.load(path)
    assert "Delete it" in str(caught.value)


def test_a_tampered_profile_is_refused(tmp_path: Path, profile: SpeakerProfile) -> None:
    path = tmp_path / "voices.json"
    profile.save(path)
    import json

    data = json.loads(path.read_text())
    data["models"][0]["variances"][0][0] = -1.0
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError, match="damaged"):
        SpeakerProfile.load(path)
    with pytest.raises(ProfileError, match="no voice profile"):
        SpeakerProfile.load(tmp_path / "missing.json")


def test_too_little_voice_to_learn_says_so(say: Say) -> None:
    with pytest.raises(ProfileError, match="too little of partner 2"):
        SpeakerProfile.fit([enroll(say, ENROLL, SPEAKER), [Audio(voice(say, "네", LISTENER).astype(np.int16))]])


def test_features_streamed_chunk_by_chunk_equal_the_whole(say: Say) -> None:
    samples = read_wav(say(TALK[0], voice=SPEAKER)).samples[: 320 * 50]
    whole = frame_features(samples)
    parts = [frame_features(samples[k : k + 3200], samples[k - 320 : k] if k else None) for k in range(0, len(samples), 3200)]
    assert np.allclose(np.concatenate([p.cepstra for p in parts]), whole.cepstra)
    assert np.array_equal(np.concatenate([p.f0 for p in parts]), whole.f0)


def test_the_listeners_own_voice_decision_is_used_when_given(say: Say, profile: SpeakerProfile) -> None:
    pcm = read_wav(say(TALK[0], voice=SPEAKER)).samples
    w = TurnWatch(1, profile)
    for k in range(0, len(pcm) - 320 + 1, 320):
        w.feed(Chunk(pcm[k : k + 320], k / RATE), voice=False)  # the listener heard nothing
    summary = w.summary()
    assert summary.total_voiced == 0.0 and summary.interruptions == ()
    assert len(summary.pauses) == 1 and summary.pauses[0].seconds == pytest.approx(summary.seconds)


def test_profile_is_written_with_private_permissions_even_under_a_loose_umask(tmp_path: Path, profile: SpeakerProfile) -> None:
    old = os.umask(0)
    try:
        profile.save(tmp_path / "voices.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "voices.json").stat().st_mode) == 0o600


def test_nothing_about_the_voices_is_logged(say: Say, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fitted = SpeakerProfile.fit([enroll(say, ENROLL, SPEAKER), enroll(say, ENROLL_2, LISTENER)])
    fitted.save(profile_path())
    scene = Scene(8.0)
    scene.talk(say, 0.5, [0.5])
    scene.watch(SpeakerProfile.load(profile_path()))
    assert caplog.records == []
    assert profile_path().parent == data_dir()  # the data folder that `forget` empties
