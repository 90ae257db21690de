"""The systemd unit: valid for systemd itself, installed into and removed from a temporary home.

systemd is not running on the test machines, so enabling is checked with a stand-in `systemctl`
on PATH that records its arguments, and with the real one where it cannot reach a manager.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.device import service
from voicecoach.errors import DataFileError, DeviceError, ModelError, UserError

STANDIN = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
if [ -n "$STANDIN_FAIL" ]; then echo "$STANDIN_FAIL" >&2; exit 1; fi
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setattr(service, "LINGER_DIR", tmp_path / "linger")
    return tmp_path


@pytest.fixture
def systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in systemctl and loginctl, first on PATH; returns the file their arguments go to."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for name in ("systemctl", "loginctl"):
        tool = bin_dir / name
        tool.write_text(STANDIN.format(log=log))
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log.touch()
    return log


@pytest.fixture
def no_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def analyze(unit: Path, user: bool, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed (scripts/system-packages --test installs systemd)")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"}
    return subprocess.run([exe, *(["--user"] if user else []), "verify", str(unit)],
                          check=False, capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("user", [True, False], ids=["user", "system"])
def test_the_unit_passes_systemd_analyze_verify_without_a_warning(tmp_path, user):
    unit = tmp_path / service.UNIT
    unit.write_text(service.render_unit(user, service.serve_command(), groups=["audio"],
                                        environment={"VOICECOACH_MODEL": "/opt/models/vosk 50%"}))
    done = analyze(unit, user, tmp_path)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_systemd_analyze_catches_a_broken_unit(tmp_path):
    """The check above can fail: an unknown setting and a missing program are reported."""
    unit = tmp_path / service.UNIT
    text = service.render_unit(False, ["/nonexistent/python", "-m", "voicecoach", "serve"])
    unit.write_text(text.replace("Restart=on-failure", "Restart=on-failure\nRestartNever=yes"))
    done = analyze(unit, False, tmp_path)
    assert "RestartNever" in done.stderr and "/nonexistent/python" in done.stderr


def test_a_program_path_with_spaces_percent_and_dollar_is_started_as_it_is(tmp_path):
    odd = tmp_path / "my venv 100% $HOME"
    odd.mkdir()
    python = odd / "python"
    python.symlink_to(sys.executable)
    unit = tmp_path / service.UNIT
    unit.write_text(service.render_unit(False, [str(python), "-m", "voicecoach", "serve", "--device", "USB Jabra"]))
    done = analyze(unit, False, tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert 'ExecStart="' + str(odd).replace("%", "%%") + '/python" -m voicecoach serve --device "USB Jabra"' \
        in unit.read_text()


def test_no_restart_loop_on_one_sentence_errors():
    text = service.render_unit(True, service.serve_command())
    codes = {int(c) for c in next(line for line in text.splitlines() if line.startswith("RestartPreventExitStatus=")).split("=")[1].split()}
    assert {UserError.exit_code, ModelError.exit_code, DeviceError.exit_code, DataFileError.exit_code} <= codes
    assert 1 not in codes and 130 not in codes  # a crash is restarted; a stop is a success
    assert "Restart=on-failure" in text and "SuccessExitStatus=130" in text


def test_user_unit_runs_this_python_after_the_sound_server():
    text = service.render_unit(True, service.serve_command())
    assert f"ExecStart={sys.executable} -m voicecoach serve" in text or f'ExecStart="{sys.executable}"' in text
    assert "pipewire-pulse.service" in text and "pulseaudio.service" in text
    assert "WantedBy=default.target" in text and "DynamicUser" not in text
    assert "RestrictAddressFamilies=AF_UNIX AF_NETLINK" in text  # no network, but the sound server's socket


def test_install_and_remove_a_user_service_in_a_temporary_home(home, systemctl):
    report = service.install(user=True)
    unit = home / "config" / "systemd" / "user" / service.UNIT
    assert report.path == unit and report.active
    assert unit.read_text() == service.render_unit(True, service.serve_command(), groups=report_groups())
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    calls = systemctl.read_text().splitlines()
    assert calls[:2] == ["systemctl --user daemon-reload", f"systemctl --user enable --now {service.UNIT}"]
    assert calls[2].startswith("loginctl enable-linger ")  # so it starts at boot without anyone logging in
    assert all("\n" not in line for line in report.lines)

    systemctl.write_text("")
    report = service.remove(user=True)
    assert not unit.exists()
    assert systemctl.read_text().splitlines() == [f"systemctl --user disable --now {service.UNIT}",
                                                  "systemctl --user daemon-reload"]
    assert "kept" in report.lines[0]


def report_groups() -> list[str]:
    return [g for g in service.DEVICE_GROUPS if service._group_exists(g)]


def test_lingering_users_are_not_asked_again(home, systemctl):
    import getpass

    (home / "linger").mkdir()
    (home / "linger" / getpass.getuser()).touch()
    service.install(user=True)
    assert not any(c.startswith("loginctl") for c in systemctl.read_text().splitlines())


def test_without_systemctl_the_unit_is_written_and_one_sentence_says_what_to_run(home, no_systemctl):
    report = service.install(user=True)
    assert report.path.exists() and not report.active
    assert len(report.lines) == 2 and "systemctl was not found" in report.lines[1]
    assert f"systemctl --user enable --now {service.UNIT}" in report.lines[1]
    # Enabled by hand (as that sentence says), then removed without systemctl: no dangling link is left.
    wants = report.path.parent / "default.target.wants"
    wants.mkdir()
    (wants / service.UNIT).symlink_to(report.path)
    report = service.remove(user=True)
    assert not report.path.exists() and not (wants / service.UNIT).is_symlink()
    assert any("systemctl was not found" in line for line in report.lines)


def test_no_user_bus_is_one_sentence(home, systemctl, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL", "Failed to connect to bus: No medium found")
    report = service.install(user=True)
    assert report.path.exists() and not report.active
    assert "no user session" in report.lines[1] and "log in" in report.lines[1]


@pytest.mark.skipif(Path("/run/systemd/system").exists() or shutil.which("systemctl") is None,
                    reason="needs a real systemctl that cannot reach a running systemd (as in a container)")
def test_the_real_systemctl_without_a_running_systemd(home):
    report = service.install(user=True)
    assert report.path.exists() and not report.active
    assert report.lines[1].startswith("It is not started: ") and "Traceback" not in report.lines[1]
    assert len(report.lines) == 2


def test_install_and_remove_a_system_service(home, systemctl, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    folder = home / "etc-systemd-system"
    report = service.install(user=False, folder=folder)
    text = report.path.read_text()
    assert report.active and report.path == folder / service.UNIT
    assert "DynamicUser=yes" in text and "StateDirectory=voicecoach" in text
    assert 'Environment="VOICECOACH_HOME=%S/voicecoach"' in text and "WantedBy=multi-user.target" in text
    assert "After=sound.target" in text and "IPAddressDeny=any" in text
    if service._group_exists("audio"):
        assert "SupplementaryGroups=audio" in text
    assert systemctl.read_text().splitlines() == ["systemctl daemon-reload", f"systemctl enable --now {service.UNIT}"]
    service.remove(user=False, folder=folder)
    assert not report.path.exists()


def test_a_missing_group_is_not_named(monkeypatch):
    monkeypatch.setattr(service, "DEVICE_GROUPS", ("audio", "no-such-group-here"))
    assert "no-such-group-here" not in service.render_unit(False, ["/usr/bin/python3"], groups=report_groups())


def test_system_service_needs_root(home, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match="needs root"):
        service.install(user=False, folder=home / "etc")


def test_user_service_under_sudo_is_refused(home, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("SUDO_USER", "pi")
    with pytest.raises(UserError, match="without sudo"):
        service.install(user=True)
    assert not (home / "config" / "systemd").exists()


def test_system_service_refuses_a_program_in_a_home_folder(home, systemctl, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(sys, "executable", "/home/pi/voicecoach/.venv/bin/python")
    with pytest.raises(UserError, match="home folder"):
        service.install(user=False, folder=home / "etc")
    assert systemctl.read_text() == ""


def test_removing_what_is_not_there(home, systemctl):
    report = service.remove(user=True)
    assert "no voicecoach service" in report.lines[0] and systemctl.read_text() == ""


def test_an_unwritable_unit_folder_is_one_sentence(home, systemctl):
    folder = home / "file-not-folder"
    folder.write_text("")
    with pytest.raises(UserError, match="could not be written"):
        service.install(user=True, folder=folder)
