"""`voicecoach serve` on a simulated day: the real Korean Vosk engine hears the wake phrase, a television
does not wake it, the reminder comes once, "herinnering uit" and "niet luisteren" are obeyed, a button
wakes it, and a lost microphone is waited for; nothing heard while waiting reaches a log or the disk."""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import DATA, KO_VOCAB, ROOT
from tests.test_reliability import FlakyMic
from voicecoach.audio.pcm import RATE, Audio, read_wav
from voicecoach.audio.sinks import SilentSpeaker
from voicecoach.audio.sources import ScriptedCouple, Tap
from voicecoach.clock import SimClock
from voicecoach.coach import Coach
from voicecoach.device.buttons import Press
from voicecoach.device.config_file import config_path, read_config, write_setting
from voicecoach.device.patient_mic import PatientMic
from voicecoach.device.reminder import ReminderSchedule, load_settings
from voicecoach.device.server import Happening, Server, waiting_listener
from voicecoach.device.wallclock import SimWallClock
from voicecoach.device.words import DeviceWords, load_device_words
from voicecoach.events import EventLog
from voicecoach.forgetting import forget_everything
from voicecoach.settings import Exercises, Settings
from voicecoach.speech import calibration
from voicecoach.speech.listener import build_listener
from voicecoach.speech.own_answers import OwnAnswers
from voicecoach.speech.synth import Pyttsx3Synth, VoiceSettings
from voicecoach.speech.vocab import load_vocabulary
from voicecoach.voice import VoiceConversation

WAKE = "다시 계속"  # tests/data/ko-device.toml (chosen on tuning voices: 14 of 16 heard)
QUIET = "네 조용히"
YES = "네"  # confirm (tests/data/ko.toml)
NO = "아니요"  # deny
STOP = "멈춰"  # the menu's stop (tests/data/ko.toml)
TELEVISION = "계속 이야기해요 오늘 날씨 정말 좋아요 다시 기다려요 우리 집에 가요"  # both wake words, not the phrase


@pytest.fixture(autouse=True)
def amsterdam(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Amsterdam")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def ko_words(ko_model: Any) -> DeviceWords:
    return load_device_words(load_vocabulary(KO_VOCAB), ko_model.has_word)


class Table:
    """A kitchen table on a simulated clock: the couple's mic (which can be unplugged), the real listener,
    a real synthesizer into a silent speaker, the real coach, and serve's loop."""

    def __init__(self, ko_model: Any, words: DeviceWords, start: dt.datetime, reminder: str | None = None,
                 mic_missing_until: float | None = None, theirs: OwnAnswers | None = None) -> None:
        self.clock = SimClock()
        self.wall = SimWallClock(start, self.clock)
        self.couple = ScriptedCouple([], self.clock)
        self.mic = FlakyMic(self.couple, self.clock)
        if mic_missing_until is not None:  # not plugged in when serve starts
            self.mic.lost_at = self.clock.now()
            self.mic.outages.append((self.clock.now(), mic_missing_until))
        self.closed = 0
        inner_close = self.mic.close

        def close() -> None:
            self.closed += 1
            inner_close()

        self.mic.close = close  # type: ignore[method-assign]
        self.tap = Tap(PatientMic(self.mic))  # type: ignore[arg-type]
        self.tap.start()
        listener = build_listener(self.tap, ko_model, words.vocab, self.clock)
        listener.their_wake = theirs  # what `voicecoach check` learned of their wake phrase (test_check_...)
        self.events = EventLog(self.clock, None)
        self.conv = VoiceConversation(Pyttsx3Synth(VoiceSettings(language="ko")), SilentSpeaker(self.clock),
                                      listener, self.clock, self.events, tap=self.tap)
        if reminder:
            write_setting("reminder", "time", reminder)
        self.presses: queue.Queue[Press] = queue.Queue()
        self.lines: list[str] = []
        self.schedule = ReminderSchedule(load_settings(), clock=self.wall)
        coach = Coach(self.conv, self.events, None, Exercises(Settings()), self.lines.append)
        self.server = Server(self.conv, words, coach.visit, self.clock, self.lines.append, schedule=self.schedule,
                             presses=self.presses, has_button=True, waiting=waiting_listener(listener, ko_model, words.wake_phrase),
                             calibration=calibration.Watch())

    def hear(self, path: Path | Audio | float) -> None:
        """The next thing said at the table (one listening phase)."""
        self.couple.items.append(path if isinstance(path, Audio | float) else read_wav(path).to_rate(RATE))

    def step(self) -> Happening:
        return self.server.step()

    def prompts(self) -> list[str]:
        return [e["text"] for e in self.events.of("prompt")]

    def until(self, kind: str, max_steps: int = 40) -> Happening:
        """Wait (window after window) until `kind` happens; it is not yet dealt with."""
        for _ in range(max_steps):
            happening = self.server.wait()
            if happening.kind == kind:
                return happening
            self.server.handle(happening)
        raise AssertionError(f"no {kind} in {max_steps} windows")


def television(say: Any) -> Audio:
    """A television in the room: talk with both wake words in it, over steady noise."""
    talk = read_wav(say(TELEVISION, voice="ko+m3")).samples.astype(np.float32)
    hum = np.random.default_rng(1).standard_normal(len(talk)).astype(np.float32) * 300
    return Audio(np.clip(talk + hum, -32768, 32767).astype(np.int16))


def test_a_simulated_day(ko_model: Any, ko_words: DeviceWords, say: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 19, 50), reminder="20:00")
    home = Path(os.environ["VOICECOACH_HOME"])

    # A television with both wake words in it: no wake.
    table.hear(television(say))
    assert table.step().kind == "nothing"
    assert table.server.visits == 0

    # The wake phrase: a greeting, then the coach's own spoken menu; "stop" there, and it waits again.
    table.hear(say(WAKE, voice="ko+f2"))
    table.hear(say(STOP))
    assert table.step().kind == "wake"
    prompts = table.prompts()
    assert prompts[0] == ko_words.speech["greeting"]
    assert any("여름" in p for p in prompts[1:])  # the menu names the exercises
    assert table.server.visits == 1 and table.server.listening
    assert table.lines[-1].startswith("Listening for")

    # 20:00: one chime and one sentence; "not today" gets a short goodbye, and nothing more.
    due = table.until("reminder")
    assert table.wall.time() >= dt.datetime(2026, 3, 10, 20, 0).timestamp()
    before = len(table.prompts())
    table.hear(say("왜", voice="ko+m3"))  # not_today (tests/data/ko-device.toml)
    table.server.handle(due)
    said = table.prompts()[before:]
    assert said == ["여덟 시 이에요. 같이 이야기할까요?", ko_words.speech["reminder_no"]]
    assert table.server.visits == 1
    for _ in range(10):  # five more minutes: no second reminder
        assert table.step().kind == "nothing"
    assert table.server.reminders == 1

    # "herinnering uit" by voice: config.toml says off; "herinnering om acht uur" sets it again.
    table.hear(say("알림", voice="ko+f2"))
    table.hear(say("알림 없어요", voice="ko+f2"))  # "Hoe laat?" "Herinnering uit."
    assert table.step().kind == "reminder_question"
    assert read_config(config_path())["reminder"]["time"] == "off"
    # "herinnering": it asks for the time ("Hoe laat?"), and "acht uur" sets it.
    table.hear(say("알림", voice="ko+f2"))
    table.hear(say("여덟 시", voice="ko+f2"))
    assert table.step().kind == "reminder_question"
    assert table.prompts()[-2:] == [ko_words.speech["reminder_ask"], "매일 여덟 시 알림."]
    assert read_config(config_path())["reminder"]["time"] == "20:00"
    # Nobody answers "Hoe laat?" (talk took for "herinnering"): nothing more is said, nothing changes.
    table.hear(say("알림", voice="ko+f2"))
    table.hear(20.0)
    assert table.step().kind == "reminder_question"
    assert table.prompts()[-1] == ko_words.speech["reminder_ask"]
    assert "No time was said: the daily reminder stays as it was." in table.lines
    assert read_config(config_path())["reminder"]["time"] == "20:00"
    # Something said, not a time: it says so.
    table.hear(say("알림", voice="ko+f2"))
    table.hear(say("오늘 날씨가 좋네요", voice="ko+f2"))
    assert table.step().kind == "reminder_question"
    assert table.prompts()[-1] == ko_words.speech["reminder_unclear"]

    # "niet luisteren", asked back and confirmed: it says so, closes the microphone, and a wake phrase is not heard...
    table.hear(say(QUIET, voice="ko+m3"))
    table.hear(say(YES, voice="ko+m3"))
    assert table.step().kind == "quiet"
    assert table.prompts()[-2:] == [ko_words.speech["quiet_ask"], ko_words.speech["quiet"]] and table.closed == 1
    assert any(line.startswith("Not listening") for line in table.lines)
    table.hear(say(WAKE, voice="ko+f2"))
    used = table.couple.used
    assert table.step().kind == "nothing" and table.couple.used == used  # the microphone was not read at all
    table.couple.items.clear()
    # ...until the button: listening again, and a session.
    table.hear(say(STOP))
    table.presses.put(Press("key KEY_ENTER on test", table.clock.now()))
    assert table.step().kind == "button"
    assert table.server.listening and table.server.visits == 2
    assert ko_words.speech["listening_again"] in table.prompts()

    # The microphone unplugged while waiting: printed, not spoken, and it listens again when it is back.
    spoken = len(table.prompts())
    now = table.clock.now()
    table.mic.outages.append((now + 1.0, now + 20.0))
    kinds = [table.step().kind for _ in range(4)]  # looking at the buttons and the reminder every few seconds
    assert kinds == ["nothing"] * 4 and len(table.prompts()) == spoken
    gone = [i for i, line in enumerate(table.lines) if "microphone is gone" in line]
    assert len(gone) == 1 and table.lines[gone[0] + 1].startswith("Listening for")  # said once, and when back
    table.hear(say(WAKE, voice="ko+f2"))
    table.hear(say(STOP))
    assert table.step().kind == "wake" and table.server.visits == 3

    # Nothing heard while waiting is in a log, a status line or a file.
    logged = {w for r in caplog.records for w in re.findall(r"\w+", r.getMessage())}
    for words in (WAKE, QUIET, TELEVISION, "알림 여덟 시 없어요", "왜"):
        assert not set(words.split()) & logged, words
    # The status lines name the wake phrase (what it listens for), never anything else said.
    printed = {w for line in table.lines for w in re.findall(r"\w+", line)}
    for words in (QUIET, "이야기해요 날씨 정말 좋아요 기다려요 우리 집에 가요", "알림 여덟 시 없어요", "왜"):
        assert not set(words.split()) & printed, words
    kept = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    assert all(name.endswith(("config.toml", "reminder.json")) for name in kept), kept



# Said slowly: a two-word phrase that the answers' rule found "nearly sure" (a long utterance counts
# against an answer), so it never woke; and talk that holds a wake word (bench_wake.py's near misses).
# The same audio is not always decided alike from one listener to the next (other slow voices crossed the
# margin one time and not the next): these two stood well above it (margins 2.8-5.3) in every try.
SLOW_WAKES = [("ko+robosoft6", 130, 65), ("ko+Lee", 130, 35)]
NEAR_MISSES = ["다시 기다려요", "계속 이야기해요", "다시 여기 와요", "그래서 계속 했어요"]


def test_the_wake_phrase_has_its_own_rule(ko_model: Any, ko_words: DeviceWords, say: Any) -> None:
    """device/wake.py: the wake phrase said slowly wakes it; a wake word in other talk does not."""
    for voice, speed, pitch in SLOW_WAKES:
        table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0))
        table.hear(say(WAKE, voice=voice, speed=speed, pitch=pitch))
        assert table.server.wait().kind == "wake", (voice, speed)
    for text in NEAR_MISSES:
        for voice in ("ko", "ko+m3", "ko+f2"):
            table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0))
            table.hear(say(text, voice=voice))
            assert table.server.wait().kind == "nothing", (text, voice)


COUPLE = ("ko+f2", "ko+m3")


def their_wake(say: Any) -> OwnAnswers:
    """What the check learns of the couple's wake phrase: each says it three times (here at three speeds)."""
    theirs = OwnAnswers()
    for voice in COUPLE:
        for speed in (150, 175, 200):
            assert theirs.add("wake", WAKE, read_wav(say(WAKE, voice=voice, speed=speed)).samples)
    return theirs


def test_after_the_check_their_own_wake_phrase_wakes_it_and_no_one_else_s(ko_model: Any, ko_words: DeviceWords,
                                                                         say: Any) -> None:
    """device/wake.py: with their wake phrase learned, they wake it (slower, faster, higher, lower than in the
    check); the same phrase from another voice (a guest, a television) does not, though the words alone would
    have woken it (test_the_wake_phrase_has_its_own_rule); nor does their talk with a wake word in it. Only
    the audio of the utterance judged is held, and dropped once judged."""
    theirs = their_wake(say)
    for voice, speed, pitch in [(COUPLE[0], 130, 70), (COUPLE[1], 230, 30), (COUPLE[0], 175, 50)]:
        table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0), theirs=theirs)
        table.hear(say(WAKE, voice=voice, speed=speed, pitch=pitch))
        assert table.server.wait().kind == "wake", (voice, speed, pitch)
        assert len(table.server.listener.last_utterance) == 0
    for voice, speed, pitch in SLOW_WAKES:
        table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0), theirs=theirs)
        table.hear(say(WAKE, voice=voice, speed=speed, pitch=pitch))
        assert table.server.wait().kind == "nothing", (voice, speed)
    for text in NEAR_MISSES:
        for voice in COUPLE:
            table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0), theirs=theirs)
            table.hear(say(text, voice=voice))
            assert table.server.wait().kind == "nothing", (text, voice)


def test_their_wake_phrase_learned_for_another_phrase_is_not_used(ko_model: Any, ko_words: DeviceWords,
                                                                 say: Any) -> None:
    """Their sayings of a wake phrase they no longer use (another --vocab): the words' rule decides, as for
    anyone, and no audio is held for a comparison."""
    theirs = OwnAnswers()
    for speed in (150, 175, 200):
        theirs.add("wake", "다시 시작", read_wav(say("다시 시작", voice=COUPLE[0], speed=speed)).samples)
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0), theirs=theirs)
    assert not table.server.listener.keep_utterance
    voice, speed, pitch = SLOW_WAKES[0]
    table.hear(say(WAKE, voice=voice, speed=speed, pitch=pitch))
    assert table.server.wait().kind == "wake"


def test_serve_follows_a_new_check_and_forget_without_a_restart(ko_model: Any, ko_words: DeviceWords,
                                                                say: Any) -> None:
    """A check run while serve waits is used from the next window on: their wake phrase, not a stranger's;
    `voicecoach forget` meanwhile leaves nothing of their voices in serve's memory, and it wakes as for anyone."""
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0))
    voice, speed, pitch = SLOW_WAKES[0]  # a guest: the words alone wake on it
    guest = read_wav(say(WAKE, voice=voice, speed=speed, pitch=pitch)).samples
    table.hear(Audio(guest))
    assert table.server.wait().kind == "wake"

    default = calibration.Thresholds(ko_words.vocab.accept_score, ko_words.vocab.check_score)
    calibration.save(calibration.Profile(default.accept + 0.25, default.check, -20.0, 6, 6, wake=their_wake(say)))
    table.hear(Audio(guest))
    assert table.server.wait().kind == "nothing"
    assert any("your own wake phrase" in line for line in table.lines)
    assert table.conv.listener.thresholds == calibration.Thresholds(default.accept + 0.25, default.check)
    table.hear(say(WAKE, voice=COUPLE[1], speed=230, pitch=30))
    assert table.server.wait().kind == "wake"

    assert not forget_everything()
    table.hear(Audio(guest))
    assert table.server.wait().kind == "wake"
    session = table.conv.listener
    assert (session.thresholds, session.their_wake, session.own, session.voice_db) == (None, None, None, None)
    assert (table.server.listener.thresholds, table.server.listener.their_wake) == (None, None)
    assert not table.server.listener.keep_utterance
    assert "What voicecoach check learned was forgotten: listening as for anyone." in table.lines

    calibration.save(calibration.Profile(default.accept, default.check, -20.0, 6, 6, wake=their_wake(say)))
    table.hear(Audio(guest))
    assert table.server.wait().kind == "nothing"
    calibration.path().write_text("{not json")  # damaged meanwhile: the defaults, and one sentence with the fix
    table.hear(Audio(guest))
    assert table.server.wait().kind == "wake"
    assert table.lines[-1] == ("What voicecoach check learned could not be read: listening as for anyone. "
                               "Run `voicecoach check` again.")


# Short sentences of talk that the answers' rule alone was sure of (its sureness counts a short utterance for
# an answer) while the everyday words explain them better: found by trying the evaluation corpus' sentences,
# as scripts/corpus.py speaks them, in these voices (garbage ratios -5.2, -3.5 and -1.7 per second).
SURE_BUT_TALK = [("방이 너무 추워요", "m1", 200, "wake"), ("버스가 늦게 도착했어요", "f1", 150, "wake"),
                 ("도서관에 책을 반납했어요", "f2", 150, "quiet")]


def _as_in_the_corpus(text: str, voice: str, speed: int) -> Audio:
    """The sentence as the evaluation corpus makes it (trimmed, at its level), between pauses."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import corpus

    pad = np.zeros(RATE, np.int16)
    return Audio(np.concatenate([pad, corpus.speak(text, "ko", voice, speed, 50), pad, pad]))


def test_waiting_holds_a_sure_answer_to_the_everyday_words(ko_model: Any, ko_words: DeviceWords) -> None:
    """device/wake.py: with no question pending, a wake or "niet luisteren" must explain the sound at least
    as well as everyday words; the answers' rule alone would have taken these for one."""
    for text, voice, speed, _ in SURE_BUT_TALK:
        table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0))
        table.hear(_as_in_the_corpus(text, voice, speed))
        assert table.server.wait().kind == "nothing", (text, voice)


def test_a_button_pressed_while_it_listens_wakes_it_at_once(ko_model: Any, ko_words: DeviceWords, say: Any) -> None:
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0))
    start = table.clock.now()
    read = table.mic.read

    def read_and_press(timeout: float) -> Any:
        if table.clock.now() >= start + 3.0 and table.presses.empty() and not table.server.visits:
            table.presses.put(Press("GPIO pin 17", table.clock.now()))
        return read(timeout)

    table.mic.read = read_and_press  # type: ignore[method-assign]
    table.hear(television(say))  # it is in the middle of listening to the television
    table.hear(say(STOP))  # the menu
    happening = table.step()
    assert happening.kind == "button" and happening.press is not None
    assert happening.press.at - start < 3.1  # not at the end of the listening window (30 s)
    assert table.server.visits == 1 and any("by the button (GPIO pin 17)" in line for line in table.lines)


def test_not_listening_lasts_until_the_next_reminder(ko_model: Any, ko_words: DeviceWords, say: Any) -> None:
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 19, 50), reminder="20:00")
    table.hear(say(QUIET, voice="ko+m3"))
    table.hear(say(YES, voice="ko+m3"))
    assert table.step().kind == "quiet" and not table.server.listening
    due = table.until("reminder")  # ten minutes later, on the wall clock
    table.server.handle(due)  # nobody answers: nothing more
    assert table.server.listening and table.mic.starts[-1] >= table.clock.now() - 60
    assert table.prompts()[-2:] == [ko_words.speech["listening_again"], "여덟 시 이에요. 같이 이야기할까요?"]
    table.hear(say(WAKE, voice="ko+f2"))
    assert table.step().kind == "wake"


@pytest.mark.parametrize("answer", ["no", "silence", "television"])
def test_niet_luisteren_not_confirmed_keeps_listening(ko_model: Any, ko_words: DeviceWords, say: Any,
                                                      answer: str) -> None:
    """Television and talk sounded like "niet luisteren" now and then: only a "ja" to the question closes
    the microphone; "nee" says it goes on listening, silence or other talk changes nothing."""
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 19, 50))
    table.hear(say(QUIET, voice="ko+m3"))
    table.hear({"no": lambda: say(NO), "silence": lambda: 9.0,
                "television": lambda: television(say)}[answer]())
    assert table.step().kind == "quiet"
    assert table.server.listening and table.closed == 0
    said = table.prompts()
    assert said[-1] == (ko_words.speech["still_listening"] if answer == "no" else ko_words.speech["quiet_ask"])
    assert any("not confirmed" in line for line in table.lines)
    table.hear(say(WAKE, voice="ko+f2"))
    table.hear(say(STOP))
    assert table.step().kind == "wake"


def test_a_device_file_without_the_newer_sentences_gets_the_dutch_ones(ko_model: Any, tmp_path: Path) -> None:
    own = tmp_path / "mine.toml"
    own.write_text(KO_VOCAB.read_text(encoding="utf-8"), encoding="utf-8")
    device = (DATA / "ko-device.toml").read_text(encoding="utf-8")
    device = "\n".join(line for line in device.splitlines() if not line.startswith(("quiet_ask", "still_listening")))
    (tmp_path / "mine-device.toml").write_text(device, encoding="utf-8")
    (tmp_path / "mine-reminder.toml").write_text((DATA / "ko-reminder.toml").read_text(encoding="utf-8"), encoding="utf-8")
    words = load_device_words(load_vocabulary(own), ko_model.has_word)
    assert words.speech["quiet_ask"] == "Zal ik niet meer luisteren? Zeg ja of nee."
    assert words.speech["quiet"] == "조용히 할게요."


def test_a_microphone_missing_at_start_is_waited_for(ko_model: Any, ko_words: DeviceWords, say: Any) -> None:
    from voicecoach.errors import DeviceError

    clock = SimClock()
    couple = ScriptedCouple([read_wav(say(WAKE, voice="ko+f2")).to_rate(RATE)], clock)
    tries: list[float] = []

    def start() -> None:  # no microphone for the first 10 s
        tries.append(clock.now())
        if clock.now() < 10.0:
            raise DeviceError("No microphone found.", "Plug it in.")
        ScriptedCouple.start(couple)

    couple.start = start  # type: ignore[method-assign]
    mic = PatientMic(couple)
    mic.start()  # does not fail: serve starts, and says it waits
    listener = build_listener(mic, ko_model, ko_words.vocab, clock)
    told: list[str] = []
    listener.on_outage = lambda what: told.append(what)  # type: ignore[func-returns-value]
    listener.mic.max_outage = float("inf")
    heard = listener.listen(ko_words.waiting_intents(), clock.now() + 30)
    assert told == ["lost", "back"] and len(tries) >= 4 and tries[-1] >= 10.0
    assert heard.kind == "intent" and heard.intent == "wake"


def test_a_microphone_missing_at_start_is_told_once_and_when_it_is_back(ko_model: Any, ko_words: DeviceWords,
                                                                         say: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 10, 0), mic_missing_until=120.0)
    table.server.run(lambda: table.clock.now() < 150)
    assert table.lines[0].startswith("Not listening: the microphone is gone")  # never "Listening for" before it
    assert len(table.lines) == 2 and table.lines[1].startswith("Listening for")
    table.hear(say(WAKE, voice="ko+f2"))
    table.hear(say(STOP))
    assert table.step().kind == "wake"
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 2, warned  # two minutes of tries, a few seconds at a time, are not news
    assert warned[0].startswith("No microphone yet") and warned[1] == "the microphone is back after 120.0 s"


def test_the_reminder_comes_while_the_microphone_is_gone(ko_model: Any, ko_words: DeviceWords) -> None:
    table = Table(ko_model, ko_words, dt.datetime(2026, 3, 10, 19, 58), reminder="20:00")
    now = table.clock.now()
    table.mic.outages.append((now + 1.0, now + 3600.0))  # unplugged for an hour
    due = table.until("reminder", max_steps=60)
    assert table.clock.now() - now < 5 * 60  # on time, not when the microphone is back
    said = table.clock.now()
    table.server.handle(due)  # said, but no answer is waited for: serve goes on looking at the buttons
    assert table.clock.now() - said < 60 and table.lines[-1] == "Daily reminder (20:00)."  # not "Listening for"


def test_while_waiting_the_voice_detector_sleeps_in_a_quiet_room(say: Any) -> None:
    """The neural detector hears only what stands out of the room's noise (NeuralVad gate_db): in a quiet
    room it hardly runs, and the wake phrase over that room is still voice."""
    from voicecoach.audio.sources import CHUNK_SECONDS, Chunk
    from voicecoach.device.server import VAD_GATE_DB
    from voicecoach.speech.vad import NeuralVad

    rng = np.random.default_rng(3)
    room = (rng.standard_normal(RATE * 20) * 30).astype(np.int16)  # a quiet room, about -60 dBFS
    wake = read_wav(say(WAKE, voice="ko+f2")).to_rate(RATE).samples
    n = int(CHUNK_SECONDS * RATE)
    vad = NeuralVad(gate_db=VAD_GATE_DB)
    voiced = [vad.is_speech(Chunk(room[i:i + n], i / RATE, RATE)) for i in range(0, len(room) - n, n)]
    assert not any(voiced) and vad.model_frames < 0.1 * len(room) / NeuralVad.FRAME
    said = np.clip(room[: len(wake)].astype(np.int32) + wake, -32768, 32767).astype(np.int16)
    assert any(vad.is_speech(Chunk(said[i:i + n], 20 + i / RATE, RATE)) for i in range(0, len(said) - n, n))
