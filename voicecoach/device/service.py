"""The systemd service that starts `voicecoach serve` after the sound server, and takes it away again."""

from __future__ import annotations

import getpass
import grp
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach.errors import UserError
from voicecoach.paths import write_atomically

log = logging.getLogger(__name__)

UNIT = "voicecoach.service"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
LINGER_DIR = Path("/var/lib/systemd/linger")
# Groups a dedicated device's service joins when they exist: sound cards, USB buttons, GPIO pins.
DEVICE_GROUPS = ("audio", "input", "gpio")
_SAFE_ARG = re.compile(r"[A-Za-z0-9_@+=:,./-]+")


def _user_errors() -> list[type[UserError]]:
    found, todo = [], [UserError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def no_restart_exit_codes() -> list[int]:
    """The exit codes of voicecoach's one-sentence errors (no model, a broken file, ...): a restart cannot fix them."""
    return sorted({cls.exit_code for cls in _user_errors()})


def serve_command(serve_args: Sequence[str] = ()) -> list[str]:
    """This Python (so the venv it lives in) running `voicecoach serve`."""
    return [sys.executable, "-m", "voicecoach", "serve", *serve_args]


def _exec_arg(arg: str, program: bool = False) -> str:
    """One ExecStart= word, quoted so systemd reads it back exactly (no specifiers, no variables).

    systemd expands $VARIABLES in the arguments but not in the program's own path.
    """
    escaped = arg.replace("%", "%%") if program else arg.replace("%", "%%").replace("$", "$$")
    if _SAFE_ARG.fullmatch(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _environment_line(key: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or "\n" in value:
        raise ValueError(f"not an environment variable for a unit: {key}={value!r}")
    return 'Environment="' + f"{key}={value}".replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unit(user: bool, command: Sequence[str], *, groups: Sequence[str] = (),
                environment: Mapping[str, str] | None = None) -> str:
    """The unit file: restart on failure, not on a one-sentence error; hardened, with audio allowed."""
    # Values are taken literally (no % specifiers); each line printed reaches the journal at once.
    env = {"PYTHONUNBUFFERED": "1", **{k: v.replace("%", "%%") for k, v in (environment or {}).items()}}
    if user:
        after = "pipewire.service pipewire-pulse.service pulseaudio.service"
        wanted_by = "default.target"
    else:
        after = "sound.target"
        wanted_by = "multi-user.target"
        env["VOICECOACH_HOME"] = "%S/voicecoach"  # the journal and settings live in the state directory
    lines = [
        "# Written by voicecoach; `voicecoach service remove` takes it away again.",
        "[Unit]",
        "Description=voicecoach, the kitchen-table voice coach",
        f"After={after}",
        "# A crash restarts it; five within ten minutes mean something is wrong that a restart will not fix.",
        "StartLimitIntervalSec=600",
        "StartLimitBurst=5",
        "",
        "[Service]",
        "Type=exec",
        "ExecStart=" + " ".join([_exec_arg(command[0], program=True), *map(_exec_arg, command[1:])]),
        *(_environment_line(k, v) for k, v in env.items()),
        "Restart=on-failure",
        "RestartSec=10",
        "# voicecoach's one-sentence errors (no speech model, a broken file, ...): restarting cannot fix them.",
        "RestartPreventExitStatus=" + " ".join(map(str, no_restart_exit_codes())),
        "# Stopped with SIGTERM, voicecoach saves what was done and exits with 130.",
        "SuccessExitStatus=130",
        "TimeoutStopSec=30",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "LockPersonality=yes",
        "RestrictSUIDSGID=yes",
        "RestrictNamespaces=yes",
        "SystemCallArchitectures=native",
        "# The calls any ordinary service makes (audio, threads, real-time priority included); others fail.",
        "SystemCallFilter=@system-service",
        "SystemCallErrorNumber=EPERM",
        "# Only local sockets (the sound server, D-Bus): nothing can be sent off the machine.",
        "RestrictAddressFamilies=AF_UNIX AF_NETLINK",
        "# Not set, for audio: RestrictRealtime (sound servers raise their threads' priority),",
        "# PrivateDevices, DevicePolicy and ProtectClock (each hides or limits /dev: sound cards, buttons, GPIO),",
        "# MemoryDenyWriteExecute (the sound library's callbacks may need executable memory).",
    ]
    if not user:  # a dedicated device: its own user, no home folders, nothing but its state directory writable
        lines += [
            "DynamicUser=yes",
            *([f"SupplementaryGroups={' '.join(groups)}"] if groups else []),
            "StateDirectory=voicecoach",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "PrivateMounts=yes",
            "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes",
            "ProtectKernelLogs=yes",
            "ProtectControlGroups=yes",
            "ProtectHostname=yes",
            "ProtectProc=invisible",
            "CapabilityBoundingSet=",
            "IPAddressDeny=any",
        ]
    lines += ["", "[Install]", f"WantedBy={wanted_by}", ""]
    return "\n".join(lines)


def unit_dir(user: bool) -> Path:
    if not user:
        return SYSTEM_UNIT_DIR
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


@dataclass
class ServiceReport:
    """What happened, for the CLI to print: `lines` are one sentence each."""

    path: Path
    active: bool = False
    lines: list[str] = field(default_factory=list)


def _scope(user: bool) -> list[str]:
    return ["--user"] if user else []


def _manual(user: bool, *args: str) -> str:
    return " ".join(["systemctl", *_scope(user), *args])


def _systemctl(user: bool, *args: str) -> str | None:
    """Run systemctl; None when it worked, else the sentence-sized reason it did not."""
    exe = shutil.which("systemctl")
    if exe is None:
        return "systemctl was not found (this system does not run systemd)"
    try:
        done = subprocess.run([exe, *_scope(user), *args], check=False, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"systemctl did not answer ({exc})"
    if done.returncode == 0:
        return None
    first = next((line.strip() for line in done.stderr.splitlines() if line.strip()), f"exit code {done.returncode}")
    log.info("systemctl %s failed: %s", " ".join(args), done.stderr.strip())
    if user and "bus" in first.lower():
        return f"there is no user session to start it in here ({first}); log in on the device as {getpass.getuser()}"
    return f"systemctl said: {first}"


def _check_who(user: bool) -> None:
    if user and os.geteuid() == 0 and os.environ.get("SUDO_USER"):
        raise UserError("The user service is for your own user, not root.",
                        "Run it without sudo, or add --system for a dedicated device.")
    if not user and os.geteuid() != 0:
        raise UserError("Installing the system service needs root.",
                        "Run it with sudo, or leave out --system to install it for your own user.")


def _check_reachable(command: Sequence[str]) -> None:
    """A dedicated device's service user cannot enter home folders (they are private, and ProtectHome hides them)."""
    import voicecoach

    for where in (Path(command[0]), Path(voicecoach.__file__)):
        if where.is_relative_to("/home") or where.is_relative_to("/root"):
            raise UserError(f"The system service cannot run voicecoach from a home folder ({where}).",
                            "Put voicecoach outside it first (for example in /opt/voicecoach), then install from there.")


def install(user: bool = True, *, serve_args: Sequence[str] = (), environment: Mapping[str, str] | None = None,
            folder: Path | None = None) -> ServiceReport:
    """Write the unit, then enable and start it; where systemd cannot do that here, say how to, in one sentence."""
    _check_who(user)
    command = serve_command(serve_args)
    if not user:
        _check_reachable(command)
    groups = [g for g in DEVICE_GROUPS if _group_exists(g)]
    path = (folder or unit_dir(user)) / UNIT
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, render_unit(user, command, groups=groups, environment=environment))
        path.chmod(0o644)  # systemd reads it; it holds no secrets
    except OSError as exc:
        raise UserError(f"The service file {path} could not be written ({exc.strerror or exc}).",
                        "Check that folder's permissions.") from None
    report = ServiceReport(path, lines=[f"Wrote {path}."])
    problem = _systemctl(user, "daemon-reload") or _systemctl(user, "enable", "--now", UNIT)
    if problem:
        report.lines.append(f"It is not started: {problem}; then run `{_manual(user, 'daemon-reload')}` "
                            f"and `{_manual(user, 'enable', '--now', UNIT)}`.")
        return report
    report.active = True
    report.lines.append(f"voicecoach now starts {'when you log in' if user else 'at boot'} "
                        f"and is running; `{_manual(user, 'status', UNIT)}` shows how it is doing.")
    if user:
        report.lines.extend(_linger())
    return report


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _linger() -> list[str]:
    """A user service starts at boot, without anyone logging in, only when the user lingers."""
    me = getpass.getuser()
    if (LINGER_DIR / me).exists():
        return []
    exe = shutil.which("loginctl")
    if exe is not None:
        try:
            done = subprocess.run([exe, "enable-linger", me], check=False, capture_output=True, timeout=60)
            if done.returncode == 0:
                return ["It also starts at boot, before anyone logs in."]
        except (OSError, subprocess.TimeoutExpired):
            pass
    return [f"To start it at boot without logging in, run `sudo loginctl enable-linger {me}`."]


def remove(user: bool = True, *, folder: Path | None = None) -> ServiceReport:
    """Stop and disable the service and delete its unit; the journal and settings stay."""
    _check_who(user)
    folder = folder or unit_dir(user)
    path = folder / UNIT
    if not path.exists():
        return ServiceReport(path, lines=[f"There is no voicecoach service to remove ({path} does not exist)."])
    report = ServiceReport(path)
    problem = _systemctl(user, "disable", "--now", UNIT)
    # Without systemctl, enabling links may still point at the unit: a dangling one would fail at every boot.
    for link in folder.glob(f"*.wants/{UNIT}"):
        if link.is_symlink():
            link.unlink()
    try:
        path.unlink()
    except OSError as exc:
        raise UserError(f"The service file {path} could not be deleted ({exc.strerror or exc}).",
                        "Check that folder's permissions.") from None
    report.lines.append(f"Removed {path}; what you did and agreed is kept.")
    if problem:
        report.lines.append(f"It may still be running until the next restart: {problem}.")
    else:
        _systemctl(user, "daemon-reload")
    return report
