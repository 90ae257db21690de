"""Buttons: keys through evdev, GPIO pins through gpiozero, each skipped with one sentence when it cannot work.

/dev/uinput is not available on the test machines, so evdev devices are stand-ins built on a pipe that
deliver evdev's own `InputEvent`s with its real key codes; `test_a_real_virtual_key_device` uses a real
uinput device where the machine allows it. GPIO uses gpiozero's own MockFactory.
"""

from __future__ import annotations

import errno
import os
import queue
import sys
import time
from pathlib import Path

import pytest

from voicecoach.clock import RealClock, SimClock
from voicecoach.device import buttons
from voicecoach.device.buttons import ButtonSettings, ButtonUnavailable, KeyButton, PinButton, Press
from voicecoach.errors import DataFileError

evdev = pytest.importorskip("evdev", reason="evdev is in the test extra (pip install -e '.[test]')")
e = evdev.ecodes
WAIT = 5.0


class StandInDevice:
    """An input device as evdev's InputDevice presents it: a file descriptor to select on, events to read."""

    def __init__(self, path: str, name: str, caps: dict[int, list[int]]) -> None:
        self.path, self.name, self._caps = path, name, caps
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self._events: list[evdev.InputEvent] = []
        self.gone = False
        self.closed = False

    def fileno(self) -> int:
        return self._r

    def capabilities(self) -> dict[int, list[int]]:
        return self._caps

    def send(self, code: int, value: int = 1) -> None:
        t = time.time()
        self._events += [evdev.InputEvent(int(t), 0, e.EV_KEY, code, value), evdev.InputEvent(int(t), 0, e.EV_SYN, 0, 0)]
        os.write(self._w, b"x")

    def press(self, code: int) -> None:
        self.send(code, 1)
        self.send(code, 0)

    def unplug(self) -> None:
        self.gone = True
        os.write(self._w, b"x")

    def read(self):  # type: ignore[no-untyped-def]
        try:
            os.read(self._r, 4096)
        except BlockingIOError:
            pass
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        if not self._events:
            raise BlockingIOError
        events, self._events = self._events, []
        return iter(events)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._r)
            os.close(self._w)


class Machine:
    """/dev/input of a machine: device files to glob, and an opener that returns the device behind each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.plugged: dict[str, tuple[str, dict[int, list[int]]]] = {}
        self.opened: dict[str, StandInDevice] = {}
        self.denied: set[str] = set()

    def plug(self, name: str, caps: dict[int, list[int]]) -> str:
        path = str(self.folder / f"event{len(self.plugged)}")
        Path(path).touch()
        self.plugged[path] = (name, caps)
        return path

    def open(self, path: str) -> StandInDevice:
        if path in self.denied:
            raise PermissionError(errno.EACCES, "Permission denied")
        if path not in self.plugged:
            raise FileNotFoundError(errno.ENOENT, "No such file")
        device = StandInDevice(path, *self.plugged[path])
        self.opened[path] = device
        return device

    def key_button(self, key: str = "any", device: str | None = None, clock=None) -> KeyButton:  # type: ignore[no-untyped-def]
        return KeyButton(key, device, clock or RealClock(), input_dir=str(self.folder), opener=self.open)


KEYBOARD = {e.EV_KEY: [e.KEY_A, e.KEY_ENTER, e.KEY_SPACE, e.KEY_F13, e.KEY_VOLUMEUP]}
SPEAKERPHONE = {e.EV_KEY: [e.KEY_VOLUMEUP, e.KEY_VOLUMEDOWN, e.KEY_MICMUTE]}
MOUSE = {e.EV_KEY: [e.BTN_LEFT, e.BTN_RIGHT], e.EV_REL: [e.REL_X, e.REL_Y]}


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    monkeypatch.setattr(buttons, "RESCAN_SECONDS", 0.05)
    folder = tmp_path / "input"
    folder.mkdir()
    return Machine(folder)


@pytest.fixture
def presses() -> queue.Queue[Press]:
    return queue.Queue()


def next_press(presses: queue.Queue[Press]) -> Press:
    return presses.get(timeout=WAIT)


def test_any_key_of_a_keyboard_is_a_press_once(machine, presses):
    clock = SimClock()
    path = machine.plug("Cherry USB Keyboard", KEYBOARD)
    button = machine.key_button(clock=clock)
    button.start(presses)
    try:
        keyboard = machine.opened[path]
        keyboard.send(e.KEY_SPACE, 1)
        assert next_press(presses).source == "key KEY_SPACE on Cherry USB Keyboard"
        clock.advance_to(1.0)  # well past the debounce: what follows is judged on its own
        keyboard.send(e.KEY_SPACE, 2)  # held: auto-repeat
        keyboard.send(e.KEY_SPACE, 0)  # released
        keyboard.send(e.KEY_A, 1)
        assert next_press(presses).source == "key KEY_A on Cherry USB Keyboard"
        assert presses.empty()
    finally:
        button.close()
    assert keyboard.closed


def test_a_speakerphones_volume_keys_and_a_mouse_do_not_wake(machine, presses):
    keyboard = machine.plug("Keyboard", KEYBOARD)
    phone = machine.plug("Jabra SPEAK 410 USB", SPEAKERPHONE)
    mouse = machine.plug("Logitech Mouse", MOUSE)
    remote = machine.plug("vc4-hdmi-0", {e.EV_KEY: [e.KEY_ENTER, e.KEY_PLAY]})
    button = machine.key_button()
    button.start(presses)
    try:
        assert machine.opened[phone].closed and machine.opened[mouse].closed and machine.opened[remote].closed
        machine.opened[keyboard].press(e.KEY_VOLUMEUP)  # a volume key on the keyboard is not a wake either
        machine.opened[keyboard].press(e.KEY_ENTER)
        assert next_press(presses).source == "key KEY_ENTER on Keyboard"
    finally:
        button.close()


def test_a_named_key_only(machine, presses):
    path = machine.plug("Keyboard", KEYBOARD)
    phone = machine.plug("Jabra SPEAK 410 USB", SPEAKERPHONE)
    button = machine.key_button("f13")
    button.start(presses)
    try:
        assert machine.opened[phone].closed
        machine.opened[path].press(e.KEY_A)
        machine.opened[path].press(e.KEY_F13)
        assert next_press(presses).source == "key KEY_F13 on Keyboard"
    finally:
        button.close()


def test_a_named_device_only_even_a_mouse(machine, presses):
    keyboard = machine.plug("Keyboard", KEYBOARD)
    mouse = machine.plug("Foot switch (mouse)", MOUSE)
    button = machine.key_button(device="foot switch")
    button.start(presses)
    try:
        assert machine.opened[keyboard].closed
        machine.opened[mouse].press(e.BTN_LEFT)
        assert next_press(presses).source == "key BTN_LEFT on Foot switch (mouse)"
    finally:
        button.close()


def test_a_bouncing_button_is_one_press(machine, presses):
    clock = SimClock()
    path = machine.plug("Big Red Button", {e.EV_KEY: [e.KEY_ENTER]})
    button = machine.key_button(clock=clock)
    button.start(presses)
    try:
        machine.opened[path].press(e.KEY_ENTER)
        machine.opened[path].press(e.KEY_ENTER)
        first = next_press(presses)
        clock.advance_to(buttons.DEBOUNCE_SECONDS + 0.01)
        machine.opened[path].press(e.KEY_ENTER)
        second = next_press(presses)
        assert (first.at, second.at) == (0.0, buttons.DEBOUNCE_SECONDS + 0.01)
        assert presses.empty()
    finally:
        button.close()


def test_plugged_in_later_unplugged_and_back(machine, presses, caplog):
    caplog.set_level("INFO")
    button = machine.key_button()
    button.start(presses)  # nothing plugged in yet: waits for one
    try:
        assert "as soon as it is plugged in" in caplog.text
        path = machine.plug("Big Red Button", {e.EV_KEY: [e.KEY_ENTER]})
        _until(lambda: path in machine.opened)
        machine.opened[path].press(e.KEY_ENTER)
        assert next_press(presses).source == "key KEY_ENTER on Big Red Button"
        old = machine.opened.pop(path)
        old.unplug()
        _until(lambda: old.closed)
        assert "was unplugged" in caplog.text
        _until(lambda: path in machine.opened)  # back (the same device file again)
        time.sleep(buttons.DEBOUNCE_SECONDS)  # a real clock here: the debounce is real time
        machine.opened[path].press(e.KEY_ENTER)
        assert next_press(presses).source == "key KEY_ENTER on Big Red Button"
    finally:
        button.close()


def _until(condition, timeout: float = WAIT) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_no_permission_is_one_sentence_naming_the_group(machine, presses):
    machine.denied.add(machine.plug("Keyboard", KEYBOARD))
    with pytest.raises(ButtonUnavailable) as err:
        machine.key_button().start(presses)
    assert "join the input group" in str(err.value) and "\n" not in str(err.value)


def test_without_evdev_it_is_skipped_with_what_to_install(monkeypatch, presses):
    monkeypatch.setitem(sys.modules, "evdev", None)
    running, skipped = buttons.open_buttons(ButtonSettings(key="any"), presses)
    assert running == [] and skipped == [
        "A USB button or keyboard needs the evdev package: pip install 'voicecoach[button]'."]


def test_open_buttons_on_this_machine_never_raises(presses):
    """The real /dev/input (usually absent or unreadable here) and the real gpiozero pin libraries."""
    running, skipped = buttons.open_buttons(ButtonSettings(key="any", gpio="17"), presses)
    try:
        assert len(running) + len(skipped) == 2 and all("\n" not in s for s in skipped)
        if not Path("/dev/gpiochip0").exists():
            assert "This computer has no GPIO pins (it is not a Raspberry Pi); use a USB button instead." in skipped
    finally:
        for button in running:
            button.close()


def test_a_real_virtual_key_device(presses):
    """Through the kernel: a uinput device, found in /dev/input and read by evdev (where uinput is allowed)."""
    try:
        ui = evdev.UInput({e.EV_KEY: [e.KEY_F13]}, name="voicecoach test button")
    except (OSError, evdev.UInputError) as exc:
        pytest.skip(f"no /dev/uinput here ({exc}); the stand-in devices above cover the reading")
    button = KeyButton("f13", "voicecoach test button", RealClock())
    try:
        button.start(presses)
        _until(lambda: button._open)
        ui.write(e.EV_KEY, e.KEY_F13, 1)
        ui.syn()
        assert next_press(presses).source == "key KEY_F13 on voicecoach test button"
    finally:
        button.close()
        ui.close()


# GPIO, with gpiozero's MockFactory


@pytest.fixture
def pins():  # type: ignore[no-untyped-def]
    pytest.importorskip("gpiozero", reason="gpiozero is in the test extra (pip install -e '.[test]')")
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    yield factory
    factory.close()


def gpiozero_button(pin: int, factory):  # type: ignore[no-untyped-def]
    from gpiozero import Button

    return Button(pin, pin_factory=factory)


def test_a_gpio_button_press(pins, presses):
    clock = SimClock(12.5)
    button = PinButton("17", clock, pin_factory=pins, bounce_seconds=None)  # type: ignore[arg-type]
    button.start(presses)
    try:
        pins.pin(17).drive_low()  # pressed: the button pulls the pin to ground
        assert next_press(presses) == Press("GPIO pin 17", 12.5)
        pins.pin(17).drive_high()  # released: nothing
        assert presses.empty()
    finally:
        button.close()
    other = gpiozero_button(17, pins)  # closing gave the pin back
    other.close()


def test_gpio_pin_in_use_or_unknown_is_one_sentence(pins, presses):
    taken = gpiozero_button(17, pins)
    try:
        with pytest.raises(ButtonUnavailable, match="used by another program"):
            PinButton("17", pin_factory=pins).start(presses)
    finally:
        taken.close()
    with pytest.raises(ButtonUnavailable, match="no GPIO pin 'GPIO99'"):
        PinButton("GPIO99", pin_factory=pins).start(presses)


def test_without_gpiozero_it_is_skipped_with_what_to_install(monkeypatch, presses):
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    running, skipped = buttons.open_buttons(ButtonSettings(key=None, gpio="17"), presses)
    assert running == [] and skipped == ["A GPIO button needs the gpiozero package: pip install 'voicecoach[gpio]'."]


@pytest.mark.parametrize("section, expected", [
    ("", ButtonSettings()),
    ('[button]\nkey = "enter"\ndevice = "Big Red"', ButtonSettings(key="enter", device="Big Red")),
    ('[button]\nkey = "off"\ngpio = 17', ButtonSettings(key=None, gpio="17")),
    ('[button]\ngpio = "GPIO27"', ButtonSettings(gpio="GPIO27")),
])
def test_button_settings(tmp_path, section, expected):
    from voicecoach.device.config_file import read_config

    path = tmp_path / "config.toml"
    path.write_text(section + "\n")
    assert ButtonSettings.from_config(read_config(path), path) == expected


@pytest.mark.parametrize("section, place", [
    ('[button]\nkey = "entr"', "button.key"),
    ("[button]\nkey = 5", "button.key"),
    ('[button]\npin = "17"', "button.pin"),
    ("button = true", "button"),
])
def test_broken_button_settings_name_file_and_place(tmp_path, section, place):
    from voicecoach.device.config_file import read_config

    path = tmp_path / "config.toml"
    path.write_text(section + "\n")
    with pytest.raises(DataFileError) as err:
        ButtonSettings.from_config(read_config(path), path)
    assert f"{path}, {place}:" in str(err.value)
