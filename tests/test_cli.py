"""The command line as a user meets it: clear sentences, right exit codes, no tracebacks."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading

from voicecoach import cli, paths


def run_cli(args: list[str], env_extra: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    import os

    env = {k: v for k, v in os.environ.items() if k != "VOICECOACH_MODEL"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True,
                          timeout=120, env=env, **kw)


def test_missing_model_is_one_sentence_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VOICECOACH_MODEL", raising=False)
    monkeypatch.setattr(paths, "REPO_MODELS", tmp_path / "models")
    code = cli.main(["listen", "--seconds", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert err.count("\n") == 0 and "voicecoach setup" in err


def test_model_path_that_is_not_a_model(tmp_path):
    (tmp_path / "notamodel").mkdir()
    out = run_cli(["listen", "--model", str(tmp_path / "notamodel"), "--seconds", "1"])
    assert out.returncode == 3
    assert "Traceback" not in out.stderr and "voicecoach setup" in out.stderr


def test_setup_with_a_broken_download_says_what_to_do(tmp_path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "model.zip").write_bytes(b"PK\x03\x04 this is not the model")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(tmp_path / "www"), **k)

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/model.zip"
        out = run_cli(["setup", "--url", url, "--dest", str(tmp_path / "models")])
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 3
    assert "Traceback" not in out.stderr
    assert "voicecoach setup" in out.stderr
    leftovers = list((tmp_path / "models").iterdir()) if (tmp_path / "models").exists() else []
    assert leftovers == []  # no half model that looks whole


def test_names_must_be_two(capsys):
    code = cli.main(["run", "herstelgesprek", "--text", "--names", "Sanne"])
    assert code == 2
    assert "--names" in capsys.readouterr().err


def test_unknown_exercise_lists_the_real_ones(capsys):
    code = cli.main(["run", "geen-oefening", "--text"])
    err = capsys.readouterr().err
    assert code == 5 and "herstelgesprek" in err


def test_list_and_diagram(tmp_path, capsys):
    assert cli.main(["list"]) == 0
    assert "herstelgesprek" in capsys.readouterr().out
    out = tmp_path / "h.svg"
    assert cli.main(["diagram", "herstelgesprek", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "spiegel_een__check" in svg and "rounds_left" in svg


def test_diagram_leaves_a_file_named_like_it_alone(tmp_path, capsys):
    # graphviz's render() wrote its source to `notes` for notes.svg and then deleted it.
    (tmp_path / "notes").write_text("keep", encoding="utf-8")
    assert cli.main(["diagram", "herstelgesprek", "-o", str(tmp_path / "notes.svg")]) == 0
    assert (tmp_path / "notes").read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "notes.svg"]


def test_diagram_onto_a_folder_says_so(tmp_path, capsys):
    (tmp_path / "h.svg").mkdir()
    assert cli.main(["diagram", "herstelgesprek", "-o", str(tmp_path / "h.svg")]) == 2
    err = capsys.readouterr().err
    assert "is not a file the diagram can replace" in err and "install" not in err.lower()


def test_a_terminal_that_is_not_utf8_shows_plain_letters_and_reads_typed_ones(tmp_path):
    """PYTHONIOENCODING=ascii (or an ISO-8859 locale): the first "één" stopped the session, and every resume."""
    import json

    events = tmp_path / "events.jsonl"
    typed = "ja\n" * 6 + "Ik voel me één\nstop\nja\n"
    proc = run_cli(["run", "herstelgesprek", "--text", "--fast", "--names", "Zoë,Joël", "--events-words",
                    "--events", str(events)], {"PYTHONIOENCODING": "ascii"}, input=typed, encoding="utf-8")
    out, err = proc.stdout, proc.stderr
    assert out.isascii() and err.isascii()
    assert proc.returncode == 0, err
    assert "Welkom, Zoe en Joel." in out and "Een: geen verwijten." in out and "unexpected" not in err
    heard = [json.loads(line)["phrase"] for line in events.read_text(encoding="utf-8").splitlines()
             if json.loads(line)["event"] == "heard"]
    assert "ik voel me één" in heard  # what they typed, every letter of it


def test_help_runs_without_a_model():
    out = run_cli(["--help"])
    assert out.returncode == 0 and "voicecoach" in out.stdout


def test_sigterm_ends_kindly(tmp_path, ko_model_path):
    import os
    import signal
    import time

    from tests.conftest import KO_VOCAB

    env = {**os.environ, "VOICECOACH_MODEL": str(ko_model_path)}
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", "herstelgesprek", "--vocab", str(KO_VOCAB), "--text",
         "--events", str(events)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not events.exists() or '"listening"' not in events.read_text(encoding="utf-8"):  # waits for typing
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err and "bewaard" in err


def test_event_log_and_prompt_cache_are_owner_only(tmp_path, ko_model_path, say, capsys):
    import stat

    from tests.conftest import KO_VOCAB

    events = tmp_path / "events.jsonl"
    script = tmp_path / "couple.txt"
    script.write_text(f"{say('네')}\nsilence 2.0\n", encoding="utf-8")  # yes to "samen", then nobody answers
    code = cli.main(["run", "herstelgesprek", "--fast", "--model", str(ko_model_path), "--vocab", str(KO_VOCAB),
                     "--answers", str(script), "--speaker-file", str(tmp_path / "o.wav"), "--names", "Sanne,Joris",
                     "--events-words", "--events", str(events)])
    assert code == 0, capsys.readouterr().err  # the pause nobody ended stops it kindly
    assert stat.S_IMODE(events.stat().st_mode) == 0o600  # it can hold typed turn words
    assert '"event": "prompt"' in events.read_text(encoding="utf-8")
    folder = paths.cache_dir() / "prompts"
    cached = list(folder.glob("*.wav"))
    assert cached, "no prompt was cached"  # they hold the couple's names
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in cached} == {oct(0o600)}


def test_prompt_cache_folder_is_owner_only():
    import stat

    from voicecoach.speech.synth import Pyttsx3Synth

    folder = paths.cache_dir() / "prompts"
    Pyttsx3Synth(cache_dir=folder).render("Hallo Sanne.")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.glob("*.wav"))) == 1


def test_broken_exercise_file_is_refused_before_anything_is_spoken(tmp_path, monkeypatch, capsys):
    import io

    broken = tmp_path / "mine.toml"
    broken.write_text('[[steps]]\nid = "hallo"\nkind = "zingen"\ntext = "Hoi"\n', encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = cli.main(["run", str(broken), "--text", "--fast"])
    captured = capsys.readouterr()
    assert code == 5
    assert captured.out == ""  # not even the safety note of a first session
    assert "mine.toml" in captured.err and "zingen" in captured.err


def test_main_with_no_arguments_is_the_spoken_menu_not_the_hosts_argv(tmp_path, monkeypatch, capsys):
    """main([]) is `voicecoach` alone (the menu), whatever arguments the process that calls it got."""
    monkeypatch.delenv("VOICECOACH_MODEL", raising=False)
    monkeypatch.setattr(paths, "REPO_MODELS", tmp_path / "models")
    monkeypatch.setattr("sys.argv", ["pytest", "list"])
    code = cli.main([])
    out, err = capsys.readouterr()
    assert code == 3 and "voicecoach setup" in err  # the menu needs the speech model...
    assert "herstelgesprek" not in out  # ...and `list` (the host's argv) was not run


def test_an_environment_swaps_the_terminal(tmp_path):
    import io

    from voicecoach.environment import Environment

    env = Environment(io.StringIO(""), io.StringIO(), io.StringIO())
    assert cli.main(["list"], env) == 0
    assert "herstelgesprek" in env.stdout.getvalue()  # type: ignore[attr-defined]
    assert cli.main(["run", "geen-oefening", "--text"], env) == 5
    assert "geen-oefening" in env.stderr.getvalue()  # type: ignore[attr-defined]
    assert cli.main(["--no-such-option"], env) == 2
    assert "usage: voicecoach" in env.stderr.getvalue()  # type: ignore[attr-defined]


def test_a_closed_pipe_ends_quietly():
    """`voicecoach list | head -0`: the reader is gone before anything is written."""
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "voicecoach", "list"], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr  # as a shell reports a program ended by SIGPIPE
    assert proc.stderr == ""  # no traceback, no "something unexpected"
    assert not (paths.data_dir() / "crash.log").exists()


class FakeSoundDevice:
    """sounddevice's `query_devices` with the devices given (none: no sound card, no sound server)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def query_devices(self) -> str:  # its DeviceList prints as this table
        return self.table


def test_list_devices_without_any_says_so(monkeypatch, capsys):
    from voicecoach.audio import live

    monkeypatch.setattr(live, "_sounddevice", lambda: FakeSoundDevice(""))
    code = cli.main(["--list-devices"])
    out, err = capsys.readouterr()
    assert code == 4 and out == ""
    assert err.count("\n") == 1 and "No microphone or speaker was found" in err and "sound server" in err


def test_list_devices_after_a_command_too(monkeypatch, capsys):
    from voicecoach.audio import live

    monkeypatch.setattr(live, "_sounddevice", lambda: FakeSoundDevice("  0 Jabra Speak 510, ALSA (1 in, 2 out)"))
    for args in (["run", "--list-devices"], ["--list-devices", "run"], ["serve", "--list-devices"]):
        assert cli.main(args) == 0, args
        assert "Jabra Speak 510" in capsys.readouterr().out, args
