"""Buttons that wake voicecoach: any key of a USB button or keyboard (evdev), or a Raspberry Pi GPIO pin.

Each kind is an optional extra. When its library is missing, or the device cannot be read, it is
skipped with one sentence that says what to install or which group to join. Presses go into a
queue the serve loop reads; the reading threads and callbacks do nothing else.
"""

from __future__ import annotations

import errno
import getpass
import glob
import logging
import os
import queue
import select
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from voicecoach.clock import Clock, RealClock
from voicecoach.errors import DataFileError

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.3
"""Presses from one button closer together than this are one press (a bouncing or double-tapped button)."""
RESCAN_SECONDS = 3.0
"""How often to look for a USB button plugged in (or back) while waiting."""
# Keys that do something else: a speakerphone's volume and mute buttons, a keyboard's power keys.
NOT_A_WAKE_KEY = ("KEY_VOLUMEUP", "KEY_VOLUMEDOWN", "KEY_MUTE", "KEY_MICMUTE", "KEY_POWER", "KEY_POWER2",
                  "KEY_SLEEP", "KEY_WAKEUP", "KEY_SUSPEND", "KEY_BRIGHTNESSUP", "KEY_BRIGHTNESSDOWN",
                  "KEY_CAPSLOCK", "KEY_NUMLOCK", "KEY_SCROLLLOCK")
# Input devices that are not a button on the table (a TV remote reaching the Pi over HDMI-CEC), unless named.
NOT_A_BUTTON_DEVICE = ("hdmi", "cec")


@dataclass(frozen=True)
class Press:
    source: str
    """Which button, for the log ("key KEY_ENTER on Jabra SPEAK 410", "GPIO17")."""
    at: float
    """When, on the injected clock."""


class ButtonUnavailable(Exception):
    """This kind of button cannot be used here; `str()` is the one sentence with the fix."""


class Button(Protocol):
    """A source of presses: `start` begins putting `Press`es into the queue, `close` stops it."""

    name: str

    def start(self, presses: queue.Queue[Press]) -> None:
        """Raises ButtonUnavailable (one sentence) when this button cannot be used here."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class ButtonSettings:
    """`[button]` in config.toml."""

    key: str | None = "any"
    """A key name (KEY_ENTER, enter, f13) or "any" key; "off": no key button."""
    device: str | None = None
    """Only the input device whose name contains this (or whose path this is); None: every one."""
    gpio: str | None = None
    """A Raspberry Pi pin, as gpiozero names it: "17" or "GPIO17" (BCM), "BOARD11"; None: none."""

    @classmethod
    def from_config(cls, config: dict[str, Any], path: Path) -> ButtonSettings:
        section = config.get("button", {})
        if not isinstance(section, dict):
            raise DataFileError(path, "button", 'expected a table: [button] with key = "any" or gpio = 17')
        values: dict[str, str | None] = {}
        for name, value in section.items():
            if name not in ("key", "device", "gpio"):
                raise DataFileError(path, f"button.{name}", "unknown setting; use key, device or gpio")
            if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "")):
                values[name] = None
            elif isinstance(value, str) or (name == "gpio" and type(value) is int):
                values[name] = str(value).strip()
            else:
                raise DataFileError(path, f"button.{name}", f"expected a name, or \"off\" (not {value!r})")
        settings = cls(**values)
        if settings.key is not None:
            try:
                key_codes(settings.key)
            except ValueError as exc:
                raise DataFileError(path, "button.key", str(exc)) from None
        return settings


def _ecodes() -> Any:
    try:
        from evdev import ecodes
    except ImportError:
        raise ButtonUnavailable("A USB button or keyboard needs the evdev package: "
                                "pip install 'voicecoach[button]'.") from None
    return ecodes


def key_codes(key: str) -> frozenset[int] | None:
    """The key codes a key setting wakes on; None for "any". ValueError names an unknown key."""
    if key.strip().lower() == "any":
        return None
    try:
        ecodes = _ecodes()
    except ButtonUnavailable:
        return frozenset()  # checked again, with its sentence, when the button starts
    name = key.strip().upper()
    for candidate in (name, f"KEY_{name}", f"BTN_{name}"):
        code = ecodes.ecodes.get(candidate)
        if isinstance(code, int):
            return frozenset({code})
    raise ValueError(f"unknown key '{key}'; use a name such as KEY_ENTER, space or f13, or \"any\"")


class KeyButton:
    """Key presses from input devices (USB buttons, keyboards), read on one thread with select().

    Devices plugged in later are found within RESCAN_SECONDS; an unplugged one is dropped and
    found again when it is back. `opener` and `input_dir` are for tests.
    """

    def __init__(self, key: str = "any", device: str | None = None, clock: Clock | None = None, *,
                 input_dir: str = "/dev/input", opener: Callable[[str], Any] | None = None) -> None:
        self.name = f"key {key}" + (f" on '{device}'" if device else "")
        self._key = key
        self._device = device
        self._clock = clock or RealClock()
        self._input_dir = input_dir
        self._opener = opener
        self._open: dict[str, Any] = {}  # path -> device
        self._refused: set[str] = set()  # paths that are not a button (a mouse, another key) or not readable
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._codes: frozenset[int] | None = None
        self._ignored: frozenset[int] = frozenset()

    def start(self, presses: queue.Queue[Press]) -> None:
        ecodes = _ecodes()
        if self._opener is None:
            from evdev import InputDevice

            self._opener = InputDevice
        self._codes = key_codes(self._key)
        self._ignored = frozenset(ecodes.ecodes[k] for k in NOT_A_WAKE_KEY if k in ecodes.ecodes)
        denied = self._scan()
        if not self._open and denied:
            raise ButtonUnavailable(f"The keyboards and USB buttons cannot be read ({denied[0]}): join the input "
                                    f"group (sudo adduser {getpass.getuser()} input, then log in again).")
        if not self._open:
            log.info("No USB button or keyboard for %s yet; voicecoach uses one as soon as it is plugged in.", self.name)
        self._thread = threading.Thread(target=self._run, args=(presses,), name="buttons", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for device in self._open.values():
            _close(device)
        self._open.clear()

    def _wanted(self, device: Any) -> bool:
        ecodes = _ecodes()
        if self._device and self._device.lower() not in (device.name or "").lower() and self._device != device.path:
            return False
        caps = device.capabilities()
        # "Any" device: not a mouse's clicks, not a TV remote.
        name = (device.name or "").lower()
        if self._device is None and (ecodes.EV_REL in caps or any(word in name for word in NOT_A_BUTTON_DEVICE)):
            return False
        keys = set(caps.get(ecodes.EV_KEY, ()))
        return bool(keys & self._codes if self._codes is not None else keys - self._ignored)

    def _scan(self) -> list[str]:
        """Open every new device that is wanted; returns the reasons of those that could not be read."""
        denied = []
        for path in sorted(glob.glob(os.path.join(self._input_dir, "event*"))):
            if path in self._open or path in self._refused:
                continue
            try:
                device = self._opener(path)  # type: ignore[misc]
            except PermissionError as exc:
                denied.append(f"{path}: {exc.strerror}")
                self._refused.add(path)
                continue
            except OSError as exc:  # gone again already, or not an input device
                log.debug("Cannot open %s: %s", path, exc)
                continue
            if self._wanted(device):
                log.info("Button: %s (%s)", device.name, path)
                self._open[path] = device
            else:
                self._refused.add(path)
                _close(device)
        return denied

    def _run(self, presses: queue.Queue[Press]) -> None:
        next_scan = self._clock.now() + RESCAN_SECONDS
        while not self._stop.is_set():
            devices = dict(self._open)
            if devices:
                ready, _, _ = select.select(list(devices.values()), [], [], 0.25)
            else:
                ready = []
                self._stop.wait(0.25)
            for device in ready:
                self._read(device, presses)
            if self._clock.now() >= next_scan:
                # A path that was unplugged may come back as another device: look at everything new again.
                self._refused &= set(glob.glob(os.path.join(self._input_dir, "event*")))
                self._scan()
                next_scan = self._clock.now() + RESCAN_SECONDS

    def _read(self, device: Any, presses: queue.Queue[Press]) -> None:
        ecodes = _ecodes()
        try:
            events = list(device.read())
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.ENODEV:
                log.warning("Button %s could not be read (%s); it is tried again when plugged in.", device.name, exc)
            else:
                log.info("Button %s was unplugged; voicecoach uses it again when it is back.", device.name)
            self._open.pop(device.path, None)
            _close(device)
            return
        for event in events:
            if event.type != ecodes.EV_KEY or event.value != 1:  # key down only: not repeats, not releases
                continue
            if (self._codes is None and event.code in self._ignored) or (self._codes and event.code not in self._codes):
                continue
            now = self._clock.now()
            if now - self._last.get(device.path, float("-inf")) < DEBOUNCE_SECONDS:
                continue
            self._last[device.path] = now
            name = ecodes.KEY.get(event.code) or ecodes.BTN.get(event.code) or str(event.code)
            presses.put(Press(f"key {name if isinstance(name, str) else name[0]} on {device.name}", now))


def _close(device: Any) -> None:
    try:
        device.close()
    except OSError:
        pass


class PinButton:
    """A push button between a Raspberry Pi GPIO pin and ground (the internal pull-up holds it high)."""

    def __init__(self, pin: str, clock: Clock | None = None, *, pin_factory: Any = None,
                 bounce_seconds: float = 0.05) -> None:
        self.name = f"GPIO pin {pin}"
        self._pin = int(pin) if pin.isdigit() else pin
        self._clock = clock or RealClock()
        self._factory = pin_factory
        self._bounce = bounce_seconds
        self._button: Any = None

    def start(self, presses: queue.Queue[Press]) -> None:
        try:
            import gpiozero
            from gpiozero.exc import BadPinFactory, GPIOPinInUse, PinInvalidPin
        except ImportError:
            raise ButtonUnavailable("A GPIO button needs the gpiozero package: pip install 'voicecoach[gpio]'.") from None
        with warnings.catch_warnings(record=True) as fallbacks:
            warnings.simplefilter("always")  # gpiozero warns for each pin library it cannot use; those go to the log
            try:
                self._button = gpiozero.Button(self._pin, pull_up=True, bounce_time=self._bounce,
                                               pin_factory=self._factory)
            except BadPinFactory:
                for w in fallbacks:
                    log.info("gpiozero: %s", w.message)
                raise ButtonUnavailable(_no_pins_reason()) from None
            except GPIOPinInUse:
                raise ButtonUnavailable(f"GPIO pin {self._pin} is used by another program; "
                                        "stop that program or choose another pin ([button] gpio).") from None
            except PinInvalidPin:
                raise ButtonUnavailable(f"There is no GPIO pin '{self._pin}' on this board; "
                                        "set [button] gpio to a pin such as 17 (GPIO17).") from None
            except (OSError, RuntimeError) as exc:
                raise ButtonUnavailable(f"GPIO pin {self._pin} cannot be used ({exc}); join the gpio group "
                                        f"(sudo adduser {getpass.getuser()} gpio, then log in again).") from None
        name = self.name
        # Called on gpiozero's thread: enqueue only.
        self._button.when_pressed = lambda: presses.put(Press(name, self._clock.now()))

    def close(self) -> None:
        if self._button is not None:
            self._button.close()
            self._button = None


def _no_pins_reason() -> str:
    chips = glob.glob("/dev/gpiochip*")
    if not chips:
        return "This computer has no GPIO pins (it is not a Raspberry Pi); use a USB button instead."
    if not any(os.access(c, os.R_OK | os.W_OK) for c in chips):
        return (f"The GPIO pins cannot be used: join the gpio group "
                f"(sudo adduser {getpass.getuser()} gpio, then log in again).")
    return "No GPIO library works here: pip install 'voicecoach[gpio]' (it brings lgpio)."


def open_buttons(settings: ButtonSettings, presses: queue.Queue[Press],
                 clock: Clock | None = None) -> tuple[list[Button], list[str]]:
    """Start the buttons `settings` ask for. Returns those running and one sentence per one skipped."""
    wanted: list[Button] = []
    if settings.key is not None:
        wanted.append(KeyButton(settings.key, settings.device, clock))
    if settings.gpio is not None:
        wanted.append(PinButton(settings.gpio, clock))
    running: list[Button] = []
    skipped: list[str] = []
    for button in wanted:
        try:
            button.start(presses)
        except ButtonUnavailable as exc:
            skipped.append(str(exc))
            log.info("Button skipped: %s", exc)
        else:
            running.append(button)
    return running, skipped
