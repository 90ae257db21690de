"""`voicecoach serve`: wait quietly, wake on the wake phrase or a button, coach, and wait again.

While waiting the microphone's audio goes only through the listener (the same pipeline as answers,
with a grammar of the wake phrase, "niet luisteren" and the reminder's commands, and the garbage
words that keep other talk off them): it stays in memory and is dropped; nothing of it is written,
logged or printed, only whether it listens and what woke it. The daily reminder is checked between
listening windows; a session (the coach's visit) is the coach's own flow, called, not copied.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from voicecoach.audio.sources import Chunk
from voicecoach.clock import Clock
from voicecoach.device import reminder
from voicecoach.device.buttons import Press
from voicecoach.device.reminder import Due, ReminderSchedule
from voicecoach.device.spoken_time import Choice
from voicecoach.device.wake import WakeEar, quiet_allowed
from voicecoach.device.words import REMINDER_PREFIX, DeviceWords
from voicecoach.errors import DeviceError, StorageError, UserError
from voicecoach.speech.calibration import Profile, Watch
from voicecoach.speech.calibration import load as load_calibration
from voicecoach.speech.endpoint import TWO_GRAMMARS, ListenSettings
from voicecoach.speech.listener import Listener
from voicecoach.speech.recognizer import VoskModel
from voicecoach.speech.vad import NeuralVad
from voicecoach.voice import VoiceConversation

log = logging.getLogger(__name__)

WINDOW_SECONDS = reminder.POLL_SECONDS
"""One listening window; between windows the reminder is checked (an utterance under way finishes first)."""
OUTAGE_STEP = 5.0
"""While waiting, a lost microphone is tried again for this long at a time, then the buttons and the reminder."""
VAD_GATE_DB = 6.0
"""While waiting, sound less than this far above the room's noise floor is not given to the neural voice
detector (it is most of what waiting costs in a quiet room; scripts/bench_wake.py measures both)."""
QUIET_STEP = 0.25
"""How often a device that does not listen looks at the buttons (and, every window, the reminder)."""

Kind = Literal["wake", "button", "quiet", "reminder_question", "reminder_command", "reminder", "nothing"]


@dataclass(frozen=True)
class Happening:
    """What ended a spell of waiting."""

    kind: Kind
    choice: Choice | None = None  # a reminder command's time, or OFF
    due: Due | None = None
    press: Press | None = None


class _Pressed(Exception):
    """A button was pressed while the listener was reading: stop listening at once."""


Visit = Callable[[], str]
"""One sitting with the coach (`Coach.visit` with the journal opened); returns how it ended."""


class Server:
    """The serve loop, on an injected clock; every device is given to it already open."""

    def __init__(self, conv: VoiceConversation, words: DeviceWords, visit: Visit, clock: Clock,
                 status: Callable[[str], None], *, schedule: ReminderSchedule | None = None,
                 presses: queue.Queue[Press] | None = None, other_session: Callable[[], bool] = lambda: False,
                 has_button: bool = False, waiting: Listener | None = None,
                 calibration: Watch | None = None) -> None:
        self.conv = conv
        # The listener that waits: the session's own, or one on the same microphone with other settings
        # (`waiting_listener`: the two-grammar decision, measured in scripts/bench_wake.py).
        self.listener: Listener = waiting or conv.listener
        self.words = words
        self.visit = visit
        self.clock = clock
        self.status = status
        self.schedule = schedule
        self.presses: queue.Queue[Press] = presses if presses is not None else queue.Queue()
        self.other_session = other_session  # a session started elsewhere (`voicecoach run`): no reminder then
        self.has_button = has_button
        self.calibration = calibration  # the check's file: a new check, or `forget`, is used at once
        self.listening = True
        self.visits = 0
        self.reminders = 0
        self._mic_gone = False
        self._next_check = clock.now()
        self._session_max_outage = self.listener.mic.max_outage

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, keep_going: Callable[[], bool] = lambda: True) -> None:
        if getattr(self.listener.source, "missing", None) is not None:  # device/patient_mic.py: none at start
            self._outage("lost")
            self.listener.mic.gone_since = self.clock.now()  # its warning was logged at start: not news again
        self._say_listening()
        while keep_going():
            self.step()

    def step(self) -> Happening:
        """Wait for one thing to happen and deal with it."""
        happening = self.wait()
        self.handle(happening)
        return happening

    def wait(self) -> Happening:
        if self.calibration is not None and self.calibration.changed():
            self._use(load_calibration())
        due = self._reminder_due()
        if due is not None:
            return Happening("reminder", due=due)
        try:
            press = self.presses.get_nowait()
        except queue.Empty:
            pass
        else:
            return Happening("button", press=press)
        return self._listen() if self.listening else self._not_listening()

    def handle(self, happening: Happening) -> None:
        kind = happening.kind
        if kind == "nothing":
            return
        if kind == "quiet":
            self._ask_quiet()
            return
        if kind == "reminder_command" and happening.choice is not None:
            self._set_reminder(happening.choice)
            return
        if kind == "reminder_question":
            self._ask_reminder()
            return
        if not self.listening:
            self._start_listening()
        if kind == "reminder" and happening.due is not None:
            self._remind(happening.due)
        elif kind in ("wake", "button"):
            how = "by voice" if kind == "wake" else f"by the button ({happening.press.source if happening.press else ''})"
            self.status(f"Woken {how}.")
            self._session(greet=True)
        self._drain_presses()  # a press during the session is not a wake afterwards
        self._say_listening()

    # -- waiting ----------------------------------------------------------------------------------

    def _listen(self) -> Happening:
        mic = self.listener.mic
        # While waiting a lost microphone is waited for as long as it takes, a few seconds at a time:
        # in between, the buttons and the reminder are looked at (the speaker may still work).
        mic.max_outage = OUTAGE_STEP
        saved = self.listener.on_outage
        self.listener.on_outage = self._outage
        tap = self.conv.tap
        if tap is not None:
            tap.observer = self._watch_buttons
        until = self.clock.now() + WINDOW_SECONDS
        try:
            heard = self.listener.listen(self.words.waiting_intents(), until, spoke_until=self.conv.spoke_until)
        except _Pressed:
            self._mic_gone = False  # it delivered audio: back (a session's retry opened it), and woken
            return Happening("button", press=self.presses.get_nowait())
        except DeviceError:  # still gone after OUTAGE_STEP: look around, then wait for it again
            return Happening("nothing")
        finally:
            if tap is not None:
                tap.observer = None
            self.listener.on_outage = saved
            mic.max_outage = self._session_max_outage
        if self._mic_gone:  # it listened: back, opened again by a session's retry rather than by ours
            self._outage("back")
        self.conv.spoke_until = None
        ear = self.listener.recognizer
        # The utterance's audio, if kept for their own wake phrase: judged below, then gone whatever it was.
        said, self.listener.last_utterance = self.listener.last_utterance, self.listener.last_utterance[:0]
        if isinstance(ear, WakeEar) and not (heard.kind == "intent" and heard.intent in ("quiet", "reminder")):
            # The wake phrase has its own rule (device/wake.py); the answers' rule does not decide it.
            return Happening("wake") if ear.check(heard, said).wake else Happening("nothing")
        if heard.kind != "intent" or heard.intent is None:
            return Happening("nothing")  # never what was said: not printed, not logged
        if heard.intent == "quiet" and isinstance(ear, WakeEar) and not quiet_allowed(heard, ear.rule):
            return Happening("nothing")
        if heard.intent in ("wake", "quiet"):
            return Happening(heard.intent)  # type: ignore[arg-type]
        if heard.intent == "reminder":
            return Happening("reminder_question")
        choice = self._reminder_choice(heard.intent)
        return Happening("nothing") if choice is None else Happening("reminder_command", choice=choice)

    def _ask_quiet(self) -> None:
        """ "Niet luisteren" is asked back before the microphone closes: on talk and television waiting
        decided it about five times an hour (2.5 with the bar of device/wake.py; scripts/bench_wake.py),
        and a closed microphone is a device that no longer wakes. Only "ja" closes it; "nee", silence or
        anything else leaves it listening."""
        self.conv.say(self.words.speech["quiet_ask"])
        heard = self.conv.listen(["confirm", "deny"], self.conv.check_seconds)
        if heard.kind == "intent" and heard.intent == "confirm":
            self.status("Not listening (someone said so); the button or the next reminder makes it listen again.")
            self.listening = False
            self.conv.say(self.words.speech["quiet"])
            self.listener.source.close()  # truly not listening: the microphone is closed
            return
        self.status("Still listening: “niet luisteren” was not confirmed.")
        if heard.kind == "intent":
            self.conv.say(self.words.speech["still_listening"])

    def _watch_buttons(self, chunk: Chunk) -> None:
        if not self.presses.empty():
            raise _Pressed

    def _not_listening(self) -> Happening:
        """The microphone is closed; only the buttons and the clock are looked at."""
        end = self.clock.now() + WINDOW_SECONDS
        while self.clock.now() < end:
            try:
                return Happening("button", press=self.presses.get(timeout=0.0) if self.clock.simulated
                                 else self.presses.get(timeout=QUIET_STEP))
            except queue.Empty:
                if self.clock.simulated:
                    self.clock.sleep(QUIET_STEP)
        return Happening("nothing")

    def _start_listening(self) -> None:
        self.listening = True
        try:
            self.listener.source.start()
        except DeviceError as exc:  # gone meanwhile: the listener rides it out like any outage
            log.info("The microphone cannot be opened yet: %s", exc.message)
            self._outage("lost")
        self.conv.say(self.words.speech["listening_again"])

    def _outage(self, what: str) -> float | None:
        """While waiting a lost microphone is printed and logged, not spoken: nobody may be at the table."""
        gone = what == "lost"
        if gone and not self._mic_gone:
            self.status("Not listening: the microphone is gone; voicecoach listens again as soon as it is back.")
        self._mic_gone, was_gone = gone, self._mic_gone
        if was_gone and not gone:
            self._say_listening()
        return None

    def _say_listening(self) -> None:
        if self._mic_gone:  # it says so when the microphone is back
            return
        button = " or the button" if self.has_button else ""
        when = self.schedule.next_time() if self.schedule is not None else None
        nxt = f"; next reminder {when:%a %H:%M}" if when is not None else ""
        self.status(f"Listening for \u201c{self.words.wake_phrase}\u201d{button}{nxt}.")

    def _drain_presses(self) -> None:
        while True:
            try:
                self.presses.get_nowait()
            except queue.Empty:
                return

    def _use(self, profile: Profile | None) -> None:
        """What `voicecoach check` learned, anew, or nothing after `voicecoach forget`: from the next window on,
        in waiting and in sessions (README: serve used to read it at start only)."""
        self.conv.listener.use(profile)
        if self.listener is not self.conv.listener:
            share_calibration(self.conv.listener, self.listener)
        if profile is None and self.calibration is not None and self.calibration.there:  # damaged (load logged why)
            self.status("What voicecoach check learned could not be read: listening as for anyone. "
                        "Run `voicecoach check` again.")
        elif profile is None:
            self.status("What voicecoach check learned was forgotten: listening as for anyone.")
        else:
            theirs = isinstance(self.listener.recognizer, WakeEar) and self.listener.recognizer.theirs is not None
            self.status("Listening with what voicecoach check learned" + (", your own wake phrase too." if theirs else "."))

    # -- the reminder -----------------------------------------------------------------------------

    def _reminder_due(self) -> Due | None:
        if self.schedule is None or self.clock.now() < self._next_check:
            return None
        self._next_check = self.clock.now() + reminder.POLL_SECONDS
        return self.schedule.check(in_session=self.other_session())

    def _remind(self, due: Due) -> None:
        """One soft chime and one sentence; yes starts a session, no answer means nothing more."""
        self.reminders += 1
        self.status(f"Daily reminder ({due.said_time:%H:%M}).")
        self.conv.chime("turn")
        self.conv.say(due.sentence(self.words.times))
        if self._mic_gone:
            # No answer can be heard (the button still starts a session); listening for one would wait half
            # an hour for the microphone, buttons unheeded, and then end serve.
            return
        timing_seconds = self.conv.check_seconds
        heard = self.conv.listen(["confirm", "deny", "not_today"], timing_seconds)
        if heard.kind == "intent" and heard.intent == "confirm":
            self.status("They said yes to the reminder.")
            self._session(greet=False)
        elif heard.kind == "intent":
            self.conv.say(self.words.speech["reminder_no"])

    def _reminder_choice(self, intent: str) -> Choice | None:
        phrase = intent.removeprefix(REMINDER_PREFIX)
        return self.words.times.parse_command(phrase) or self.words.times.parse(phrase)

    def _ask_reminder(self) -> None:
        """ "Hoe laat?": a time, a whole command or "uit" sets it; anything else changes nothing. Nobody
        answering gets no second sentence: when talk or a television was taken for "herinnering" (README, "How
        well it wakes") and the room is quiet after it, that costs one question, not two."""
        self.conv.say(self.words.speech["reminder_ask"])
        heard = self.conv.listen(self.words.answer_intents(), self.conv.check_seconds)
        choice = self._reminder_choice(heard.intent) if heard.kind == "intent" and heard.intent else None
        if choice is not None:
            self._set_reminder(choice)
            return
        if heard.kind == "silence":
            self.status("No time was said: the daily reminder stays as it was.")
        else:
            self.conv.say(self.words.speech["reminder_unclear"])
        self._say_listening()

    def _set_reminder(self, choice: Choice) -> None:
        if self.schedule is None:
            return
        settings = self.schedule.change(choice)
        if settings.time is None:
            self.status("Daily reminder turned off (by voice).")
            self.conv.say(self.words.times.sentence("off"))
        else:
            self.status(f"Daily reminder set to {settings.time:%H:%M} (by voice).")
            self.conv.say(self.words.times.sentence("set", settings.time))
        self._say_listening()

    # -- a session --------------------------------------------------------------------------------

    def _session(self, greet: bool) -> None:
        self.visits += 1
        try:
            if greet:
                self.conv.say(self.words.speech["greeting"])
            outcome = self.visit()
            self.status(f"The session ended ({outcome}).")
        except StorageError:
            raise  # their words could not be kept: stop (the service does not restart into a full disk)
        except UserError as exc:  # said where it happened (a lost microphone); the device waits again
            self.status(f"The session ended: {exc}")


def waiting_listener(session: Listener, model: VoskModel, wake_phrase: str) -> Listener:
    """The listener serve waits with: the session's microphone, vocabulary and calibration, the
    two-grammar decision for "niet luisteren" and the reminder, and the wake phrase's own rule
    (device/wake.py), with their own wake phrase if the check learned it; scripts/bench_wake.py measures it
    against the answers' rule on held-out voices."""
    rate = session.source.rate
    ear = WakeEar(model.recognizer(rate), wake_phrase)
    waiting = Listener(session.source, ear, session.vocab, session.clock,
                       ListenSettings(**TWO_GRAMMARS))  # type: ignore[arg-type]  # a dict of the settings' own values
    share_calibration(session, waiting)
    if isinstance(waiting.vad, NeuralVad):
        # Waiting is mostly a quiet room: the neural voice detector only hears what stands out of it.
        waiting.vad.gate_db = VAD_GATE_DB
    return waiting


def share_calibration(session: Listener, waiting: Listener) -> None:
    """What the check learned, as the session's listener holds it, for the waiting one: their thresholds and
    loudness, and their own wake phrase (not their answers: waiting asks for none)."""
    waiting.thresholds, waiting.voice_db = session.thresholds, session.voice_db
    ear = waiting.recognizer
    if isinstance(ear, WakeEar):
        ear.learn(session.their_wake)
        # Their own wake phrase is compared with what was said (in memory, dropped once judged: Server._listen).
        waiting.keep_utterance = ear.theirs is not None
        waiting.last_utterance = waiting.last_utterance[:0]
