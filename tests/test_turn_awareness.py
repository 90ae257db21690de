"""Turn awareness through the real engine: scripted couples of two distinct espeak-ng voices, the Korean Vosk
model, the journal, `voicecoach journal` and the fridge page.

Each couple said yes (or no) to a voice profile before (in `voicecoach check`, tested at the end), then takes
two clean turns (voicecoach learns their voices from them), then two turns of the case under test.
"""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import KO_VOCAB
from tests.couple import word, write_script
from tests.helpers import FullDiskFsync
from voicecoach.audio.pcm import RATE, Audio, read_wav, write_wav
from voicecoach.cli.main import main
from voicecoach.environment import Environment
from voicecoach.journal import Journal
from voicecoach.speech import calibration
from voicecoach.speech.speakers import profile_path
from voicecoach.turns import consent_path, save_consent

SANNE, JORIS = "ko+f2", "ko"  # two distinct synthetic voices (a woman's variant, the default man's)
SANNE_SAYS = ["오늘 저녁에 우리는 조용히 이야기를 나누었어요.", "나는 당신이 바쁠 때 조금 외로움을 느껴요.",
              "우리가 함께 산책을 하면 마음이 편해져요.", "지난주에 당신이 도와줘서 정말 고마웠어요.",
              "가끔 내 말을 끝까지 들어주면 좋겠어요.", "주말에는 휴대폰 없이 시간을 보내고 싶어요."]
JORIS_SAYS = ["우리 둘 다 피곤할 때는 쉽게 화가 나요.", "앞으로 이 년 뒤에는 작은 집에서 살고 싶어요.",
              "나는 아침마다 커피를 마시면서 하루를 계획해요.", "당신의 웃음소리를 들으면 기분이 좋아져요.",
              "우리가 처음 만났던 날을 아직도 기억해요.", "매일 십 분씩 서로의 하루에 대해 이야기해요."]
INTERRUPT = ["아니요, 그건 정말 사실이 아니에요. 잠깐만요, 그렇게 된 게 전혀 아니에요.",
             "그런데 늦게 들어온 사람은 당신이었잖아요? 당신은 항상 그렇게 말하지만 그건 틀렸어요."]
BACKCHANNEL = ["음", "아", "응", "음"]

EXERCISE = """
name = "beurten"
title = "Beurten"
summary = "Om de beurt praten."
why = "Om de beurt praten geeft ieder ruimte."

[timing]
warn_before = 30
nudge_after = 90

[[steps]]
id = "een"
kind = "turn"
speaker = 1
seconds = 26
text = "{spreker}, vertel."

[[steps]]
id = "twee"
kind = "turn"
speaker = 2
seconds = 26
text = "{spreker}, vertel."

[[steps]]
id = "drie"
kind = "turn"
speaker = 1
seconds = 26
text = "{spreker}, vertel nog meer."

[[steps]]
id = "vier"
kind = "turn"
speaker = 1
seconds = 26
text = "{spreker}, en verder?"

[[steps]]
id = "slot"
kind = "say"
text = "Dank jullie wel."
"""


def _talk(say, voice: str, sentences: list[str], gap: float = 0.6) -> np.ndarray:  # type: ignore[no-untyped-def]
    parts = []
    for s in sentences:
        parts += [read_wav(say(s, voice=voice)).to_rate(RATE).samples.astype(np.float32), np.zeros(int(gap * RATE), np.float32)]
    return np.concatenate(parts)


def _overlay(base: np.ndarray, sound: np.ndarray, at: float, gain: float = 1.0) -> np.ndarray:
    i = int(at * RATE)
    out = np.concatenate([base, np.zeros(max(0, i + len(sound) - len(base)), np.float32)])
    out[i : i + len(sound)] += gain * sound
    return out


def _wav(folder: Path, name: str, signal: np.ndarray) -> str:
    path = folder / f"{name}.wav"
    write_wav(path, Audio(np.clip(signal, -32768, 32767).astype(np.int16)))
    return str(path)


def _case_turns(say, folder: Path, case: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Two turns of Sanne's, with Joris interrupting (once in each), quiet, or only going "mm"."""
    turns = []
    for n, sentences in enumerate((SANNE_SAYS[:3], SANNE_SAYS[3:])):
        talk = _talk(say, SANNE, sentences)
        if case == "interrupts":
            # Talking for seconds: in her pause after the first sentence (she waits, then goes on), then over her.
            first = len(read_wav(say(sentences[0], voice=SANNE)).to_rate(RATE).samples) / RATE + 0.3
            him = _talk(say, JORIS, [INTERRUPT[n]], gap=0.0)
            pause = np.zeros(int(len(him) + 0.8 * RATE), np.float32)
            cut = int(first * RATE)
            talk = np.concatenate([talk[:cut], pause, talk[cut:]])
            talk = _overlay(talk, him, first + 0.2)
        elif case == "mm":
            for k, sound in enumerate(BACKCHANNEL):
                mm = read_wav(say(sound, voice=JORIS)).to_rate(RATE).samples.astype(np.float32)
                talk = _overlay(talk, mm, 1.5 + k * 2.6, gain=0.8)
        turns.append(_wav(folder, f"{case}-{n}", talk))
    return turns


def _run(tmp_path: Path, ko_model_path: Path, say, case: str, consent: bool = True,  # type: ignore[no-untyped-def]
         extra: list[str] | None = None) -> tuple[int, list[dict], str]:
    save_consent(consent)  # their answer in `voicecoach check`
    enroll = [_wav(tmp_path, "sanne", _talk(say, SANNE, SANNE_SAYS[::-1][:5])),
              _wav(tmp_path, "joris", _talk(say, JORIS, JORIS_SAYS[:5]))]
    script = write_script(tmp_path / "couple.txt", [*enroll, *_case_turns(say, tmp_path, case)])
    exercise = tmp_path / "beurten.toml"
    exercise.write_text(EXERCISE, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    out, err = io.StringIO(), io.StringIO()
    status = main(["run", str(exercise), "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                   "--answers", str(script), "--names", "Sanne,Joris", "--speaker-file", str(tmp_path / "out.wav"),
                   "--events", str(events), "--events-words", *(extra or [])],
                  Environment(io.StringIO(), out, err))
    lines = [json.loads(x) for x in events.read_text(encoding="utf-8").splitlines()]
    return int(status), lines, err.getvalue()


def _prompts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "prompt"]


def _remarks(events: list[dict]) -> list[str]:
    return [p for p in _prompts(events) if "helemaal uit te laten praten" in p]


def _speaking(step: str) -> dict[str, tuple[float, int, int]]:
    with Journal() as j:
        rows = j._rows("SELECT partner, seconds, interruptions, attributed FROM speaking WHERE step = ?", step)
    return {r["partner"]: (r["seconds"], r["interruptions"], r["attributed"]) for r in rows}


@pytest.mark.slow
def test_the_listener_interrupting_twice_gets_one_gentle_word_after_the_turn(ko_model_path, say, tmp_path):  # type: ignore[no-untyped-def]
    status, events, err = _run(tmp_path, ko_model_path, say, "interrupts")
    assert status == 0, err
    prompts = _prompts(events)
    path = profile_path()
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600  # learned from the first two turns
    assert _remarks(events) == ["Joris, probeer Sanne helemaal uit te laten praten. Jouw beurt komt zo."]
    # After her turn ended, never inside it: the remark comes after the end of turn "drie", before turn "vier".
    kinds = [(e["event"], e.get("text", "")) for e in events if e["event"] in ("turn_ended", "turn_started", "prompt")]
    at = kinds.index(("prompt", _remarks(events)[0]))
    ended = [i for i, (k, _) in enumerate(kinds) if k == "turn_ended"]
    started = [i for i, (k, _) in enumerate(kinds) if k == "turn_started"]
    assert ended[2] < at < started[3]
    drie, vier = _speaking("drie"), _speaking("vier")
    assert drie["Joris"][0] >= 1.5 and vier["Joris"][0] >= 1.5  # his talking over her, heard as his
    assert drie["Joris"][1] >= 1 and vier["Joris"][1] >= 1  # noted each time; said once
    assert drie["Sanne"][2] == 1  # voices told apart
    # At the end, how long each spoke, in words.
    assert prompts[-1].startswith("Sanne sprak ongeveer ") and ", Joris ongeveer " in prompts[-1]
    assert "Joris" not in err and "Sanne" not in err  # nothing of them on the screen's log


@pytest.mark.slow
@pytest.mark.parametrize("case", ["quiet", "mm"])
def test_no_remark_when_nobody_interrupts_or_only_says_mm(ko_model_path, say, tmp_path, case):  # type: ignore[no-untyped-def]
    status, events, err = _run(tmp_path, ko_model_path, say, case)
    assert status == 0, err
    assert profile_path().exists()  # the voices were told apart, so a remark was possible
    assert _speaking("drie")["Sanne"][2] == 1
    assert _remarks(events) == []
    assert _speaking("drie")["Joris"][1] == 0 and _speaking("vier")["Joris"][1] == 0


@pytest.mark.slow
def test_consent_refused_keeps_no_profile_and_makes_no_remark(ko_model_path, say, tmp_path):  # type: ignore[no-untyped-def]
    status, events, err = _run(tmp_path, ko_model_path, say, "interrupts", consent=False)
    assert status == 0, err
    assert not profile_path().exists()
    assert json.loads(consent_path().read_text())["voice_profile"] is False
    assert _remarks(events) == []
    # Speaking time is still measured, by voice activity in each one's own turns.
    een, twee = _speaking("een"), _speaking("twee")
    assert een["Sanne"][0] > 5 and twee["Joris"][0] > 5 and een["Sanne"][2] == 0
    assert not any("sprak ongeveer" in p for p in _prompts(events))  # not said: they did not opt in


@pytest.mark.slow
def test_journal_and_fridge_page_show_who_spoke_how_long(ko_model_path, say, tmp_path):  # type: ignore[no-untyped-def]
    status, _, err = _run(tmp_path, ko_model_path, say, "quiet")
    assert status == 0, err
    with Journal() as j:
        (kept,) = j.speaking_times()
    sanne, joris = kept.seconds["Sanne"], kept.seconds["Joris"]
    assert sanne > joris > 5  # three of the four turns were hers
    out = io.StringIO()
    assert main(["journal", "--mute"], Environment(io.StringIO(), out, io.StringIO())) == 0
    text = out.getvalue()
    assert "Wie kwam aan het woord" in text
    line = next(x for x in text.splitlines() if "beurten:" in x)
    assert f"Sanne {sanne / 60:.1f}".replace(".", ",") in line and f"Joris {joris / 60:.1f}".replace(".", ",") in line
    page = tmp_path / "fridge.html"
    assert main(["journal", "--export", str(page)], Environment(io.StringIO(), io.StringIO(), io.StringIO())) == 0
    html = page.read_text(encoding="utf-8")
    assert "Wie kwam aan het woord" in html and 'class="chart"' in html
    assert f"<title>{sanne / 60:.1f} min</title>" in html and f"<title>{joris / 60:.1f} min</title>" in html


MIRROR = """
name = "spiegel"
title = "Spiegel"
summary = "Spiegelen."
why = "Spiegelen helpt."

[timing]
warn_before = 30
nudge_after = 90
mirror_seconds = 20
ask_more = false

[[steps]]
id = "spiegel"
kind = "mirror"
speaker = 1
seconds = 26
text = "{spreker}, vertel."

[[steps]]
id = "slot"
kind = "say"
text = "Dank jullie wel."
"""


@pytest.mark.slow
def test_a_step_redone_after_resume_counts_its_turns_once(ko_model_path, say, tmp_path):  # type: ignore[no-untyped-def]
    """Stopped at the mirroring question, after both turns of the step: resume does the step again from its
    beginning, and the journal has its speaking time once."""
    yes, stop = str(say(word("confirm"))), str(say(word("stop")))
    sanne = _talk(say, SANNE, SANNE_SAYS[:4])
    joris = _talk(say, JORIS, JORIS_SAYS[:3])
    turn, mirror = _wav(tmp_path, "sanne", sanne), _wav(tmp_path, "joris", joris)
    exercise = tmp_path / "spiegel.toml"
    exercise.write_text(MIRROR, encoding="utf-8")
    common = ["--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--names", "Sanne,Joris",
              "--speaker-file", str(tmp_path / "out.wav")]
    env = Environment(io.StringIO(), io.StringIO(), io.StringIO())
    first = write_script(tmp_path / "first.txt", [turn, mirror, stop])  # stopped at "klopt dat?"
    assert main(["run", str(exercise), "--answers", str(first), *common], env) == 0
    assert _speaking("spiegel") == {}  # the step was not completed: nothing counted yet
    again = write_script(tmp_path / "again.txt", [turn, mirror, yes])
    assert main(["resume", "--answers", str(again), *common], env) == 0
    kept = _speaking("spiegel")
    assert 0.5 * len(sanne) / RATE < kept["Sanne"][0] <= len(sanne) / RATE  # her one turn, not two
    assert 0.5 * len(joris) / RATE < kept["Joris"][0] <= len(joris) / RATE
    with Journal() as j:
        assert len(j.speaking_times()) == 1  # one session, gone on after the resume
        # the turns' minutes ("samen aan het woord") count the redone step once too: one turn each
        turns = j._rows("SELECT speaker FROM turns ORDER BY id")
    assert [r["speaker"] for r in turns] == ["Sanne", "Joris"]


def test_the_profile_and_the_consent_are_private_and_forget_removes_them(tmp_path: Path) -> None:
    from voicecoach import paths
    from voicecoach.speech.speakers import SpeakerProfile
    from voicecoach.turns import save_consent

    rng = np.random.default_rng(0)
    t = np.arange(4 * RATE) / RATE

    def voice(f0: float) -> Audio:  # a periodic buzz with a little noise: enough "voice" for a profile
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12)) + 0.05 * rng.standard_normal(len(t))
        return Audio((6000 * x / np.abs(x).max()).astype(np.int16))

    save_consent(True)
    SpeakerProfile.fit([[voice(110.0)], [voice(210.0)]]).save(profile_path())
    for path in (profile_path(), consent_path()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path in paths.private_stores()
    assert main(["forget", "--yes"], Environment(io.StringIO(), io.StringIO(), io.StringIO())) == 0
    assert not profile_path().exists() and not consent_path().exists()


def test_a_full_disk_while_their_consent_or_profile_is_kept_is_one_sentence(monkeypatch) -> None:
    """Both are kept during a session and after `voicecoach check`: a full disk is a StorageError (exit 7,
    and the couple hears storage_full), not a crash."""
    import voicecoach.speech.speakers as speakers
    from voicecoach import paths
    from voicecoach.errors import StorageError
    from voicecoach.turns import TurnAwareness, TurnSettings

    t = np.arange(4 * RATE) / RATE

    def voice(f0: float) -> Audio:  # a periodic buzz: enough "voice" for a profile
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
        return Audio((6000 * x / np.abs(x).max()).astype(np.int16))

    profile = speakers.SpeakerProfile.fit([[voice(110.0)], [voice(210.0)]])
    monkeypatch.setattr(paths, "os", FullDiskFsync())
    with pytest.raises(StorageError, match="No space left on device"):
        save_consent(True)
    awareness = TurnAwareness(TurnSettings(), consent=True)
    with pytest.raises(StorageError, match="voice profile could not be saved"):
        awareness.adopt(profile)
    assert not consent_path().exists() and not profile_path().exists()
    assert not list(profile_path().parent.glob("*.tmp"))


def test_saying_no_later_removes_the_profile(tmp_path: Path) -> None:
    from voicecoach.turns import load_consent, save_consent

    profile_path().parent.mkdir(parents=True, exist_ok=True)
    profile_path().write_text("{}")
    save_consent(False)
    assert load_consent() is False and not profile_path().exists()


def test_remarks_off_in_config_toml_and_by_voice(tmp_path: Path) -> None:
    """config.toml [turns] remarks = false; and "geen opmerkingen" during a session writes it there."""
    from voicecoach.clock import SimClock
    from voicecoach.device.config_file import config_path
    from voicecoach.engine.exercise import load_exercise
    from voicecoach.engine.session import Session
    from voicecoach.engine.texts import Names, Texts
    from voicecoach.errors import DataFileError
    from voicecoach.events import EventLog
    from voicecoach.settings import load_settings
    from voicecoach.speech.vocab import load_vocabulary
    from voicecoach.turns import TurnAwareness, TurnSettings
    from voicecoach.voice import TextConversation

    assert TurnSettings.of(load_settings()) == TurnSettings(remarks=True, speaking_time=True)
    config = config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[turns]\nremarks = \"nee\"\n")
    with pytest.raises(DataFileError, match="turns.remarks"):
        load_settings()

    config.write_text("# ours\n[reminder]\ntime = \"20:00\"\n")
    nl = load_vocabulary()
    clock = SimClock()
    events = EventLog(clock)
    conv = TextConversation(nl, clock, events, io.StringIO("geen opmerkingen\nstop\n"), io.StringIO())
    awareness = TurnAwareness(TurnSettings.of(load_settings()), consent=True)
    assert awareness.remarks
    session = Session(load_exercise("herstelgesprek"), conv, Names("Sanne", "Joris"), events=events,
                      turns=awareness.exercise())
    assert session.run() == "stopped"
    assert not awareness.remarks
    assert Texts(nl, Names()).get("turns.quiet") in [e["text"] for e in events.of("prompt")]
    assert TurnSettings.of(load_settings()).remarks is False
    assert config.read_text().startswith("# ours")  # their own lines kept


def test_spoken_durations_are_natural_dutch() -> None:
    from voicecoach.turns import spoken_duration

    said = [spoken_duration(s) for s in (5, 30, 62, 95, 118, 150, 600, 1320, 1500, 1800)]
    assert said == ["minder dan een halve minuut", "een halve minuut", "een minuut", "anderhalve minuut",
                    "twee minuten", "twee en een halve minuut", "tien minuten", "tweeëntwintig minuten",
                    "vijfentwintig minuten", "dertig minuten"]


@pytest.mark.slow
@pytest.mark.parametrize("consent", [True, False])
def test_check_learns_the_voice_profile_only_with_both_yeses(ko_model_path, say, tmp_path, consent):  # type: ignore[no-untyped-def]
    """`voicecoach check`: each partner's answers, wake phrase and sentence, then the question; the profile is
    made of what they said there (kept in memory until then)."""
    items: list[str | float] = []
    for voice in (SANNE, JORIS):
        items += [str(say(w, voice=voice)) for w in ("네", "아니요") * 3]
        items += [str(say("다시 계속", voice=voice, speed=speed)) for speed in (150, 175, 200)]  # the wake phrase
        items.append(_wav(tmp_path, voice, _talk(say, voice, SANNE_SAYS[:2] if voice == SANNE else JORIS_SAYS[:2])))
    yes, no = str(say(word("confirm"))), str(say(word("deny")))
    items += [yes, yes] if consent else [yes, no]
    script = write_script(tmp_path / "check.txt", items)
    config = tmp_path / "home-config.toml"
    config.write_text('names = "Sanne,Joris"\n')
    from voicecoach.device.config_file import config_path

    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(config.read_text())
    events = tmp_path / "events.jsonl"
    out = io.StringIO()
    main(["check", "--answers", str(script), "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
          "--events", str(events), "--events-words"], Environment(io.StringIO(), out, io.StringIO()))
    lines = [json.loads(x) for x in events.read_text(encoding="utf-8").splitlines()]
    asked = [p for p in _prompts(lines) if "mag ik jouw stem leren kennen" in p]
    assert [p.split(",")[0] for p in asked] == ["Sanne", "Joris"]  # each asked by name
    assert json.loads(consent_path().read_text())["voice_profile"] is consent
    kept = calibration.load()
    assert kept is not None and kept.heard >= 6
    if consent:
        assert "Your voice profile was kept" in out.getvalue(), out.getvalue()
        assert stat.S_IMODE(profile_path().stat().st_mode) == 0o600
        # How each said yes and no (shapes of their answers heard right, 30 mel bands a frame, never audio),
        # used in every session from now on.
        assert kept.own is not None and kept.own.phrases == {"confirm": "네", "deny": "아니요"}
        assert all(s.bands.shape[1] == 30 for shapes in kept.own.shapes.values() for s in shapes)
        assert 2 <= sum(len(v) for v in kept.own.shapes.values()) <= kept.heard
        assert "How each of you says yes and no is kept" in out.getvalue()
        # and the wake phrase (tests/data/ko-device.toml), for `voicecoach serve` (test_serve: their own wake phrase)
        assert kept.wake is not None and kept.wake.knows("wake", "다시 계속")
        assert 4 <= len(kept.wake.shapes["wake"]) <= 6
        assert "How each of you says the wake phrase is kept" in out.getvalue()
    else:
        assert "No voice profile was kept" in out.getvalue(), out.getvalue()
        assert not profile_path().exists()
        assert kept.own is None and kept.wake is None  # "Ik bewaar niets van jullie stemmen"


def test_a_damaged_profile_is_one_sentence_and_learned_again(tmp_path: Path) -> None:
    from voicecoach.turns import TurnAwareness, TurnSettings, save_consent

    save_consent(True)
    profile_path().write_text('{"format": "voicecoach-voice-profile", "version": 1, "mean": "x"}')
    said: list[str] = []
    awareness = TurnAwareness.load(TurnSettings(), said.append)
    assert awareness.profile is None and awareness.learning()  # their next turns make a new one
    assert len(said) == 1 and "damaged" in said[0] and "learned again" in said[0] and '"x"' not in said[0]


def test_the_fridge_chart_has_two_bars_a_week(tmp_path: Path) -> None:
    from voicecoach.export import render_html, weekly_speaking

    with Journal(tmp_path / "j.sqlite3") as j:
        for day, sanne, joris in (("2026-11-02", 120, 60), ("2026-11-05", 60, 30), ("2026-11-12", 30, 150)):
            s = j.start_session("dagelijks-gesprek", ("Sanne", "Joris"))
            j._write("UPDATE sessions SET started_at = ? WHERE id = ?", f"{day}T20:00:00+01:00", s)
            j.speaking(s, "praat", "Sanne", sanne)
            j.speaking(s, "praat", "Joris", joris, interruptions=1)
            j.speaking(s, "praat", "Joris", 0)  # a step done twice adds up
        weeks = weekly_speaking(j.speaking_times())
        assert [(str(monday), minutes) for monday, minutes in weeks] == [
            ("2026-11-02", (3.0, 1.5)), ("2026-11-09", (0.5, 2.5))]  # Monday to Sunday, minutes each
        html = render_html(j)
    chart = html.split('class="chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect") == 4 and "2 nov" in chart and "9 nov" in chart
    assert "<title>2.5 min</title>" in chart and "Wie kwam aan het woord" in html


def test_a_watched_turn_starts_after_our_own_voice_and_its_echo(ko_model_path, say, tmp_path):  # type: ignore[no-untyped-def]
    """The prompt and the chime (and their echo) are ours: never counted as the speaker's voice, never learned.
    (The source drops them before the listener, `begin_listening(ignore_until)`; the observer sees what it sees.)"""
    from voicecoach.cli.commands import all_commands
    from voicecoach.cli.parser import build_parser
    from voicecoach.engine.exercise import parse_exercise
    from voicecoach.engine.session import Session
    from voicecoach.engine.texts import Names
    from voicecoach.speech.endpoint import ListenSettings
    from voicecoach.speech.turn_watch import TurnWatch
    from voicecoach.wiring import wire

    script = write_script(tmp_path / "couple.txt", [str(say(SANNE_SAYS[0], voice=SANNE))])
    env = Environment(io.StringIO(), io.StringIO(), io.StringIO())
    args = build_parser(all_commands(), env).parse_args(
        ["run", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--answers", str(script),
         "--speaker-file", str(tmp_path / "o.wav")])
    wired = wire(args, env)
    ours: list[float] = []
    seen: list[float] = []

    class Watch(TurnWatch):
        def feed(self, chunk, voice=None):  # type: ignore[no-untyped-def]
            seen.append(chunk.t0)
            super().feed(chunk, voice)

    def watch(who: int) -> Watch:
        ours.append(wired.conversation.spoke_until)  # type: ignore[attr-defined]  # the chime's end
        return Watch(who)

    exercise = {"name": "beurt", "steps": [{"id": "praat", "kind": "turn", "speaker": 1, "seconds": 6,
                                            "text": "{spreker}, vertel.", "why": "Daarom."}]}
    try:
        session = Session(parse_exercise(exercise, "beurt.toml"), wired.conversation, Names("Sanne", "Joris"),
                          events=wired.events, observe_turn=watch)
        assert session.run() == "completed"
    finally:
        wired.close()
    assert ours[0] is not None and seen
    assert ours[0] + ListenSettings().self_tail - 0.021 <= seen[0] <= ours[0] + ListenSettings().self_tail + 0.021
