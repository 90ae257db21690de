"""Find, check and safely install the Vosk speech model voicecoach listens with."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import IO

from tqdm import tqdm

try:
    import fcntl
except ImportError:  # Windows: a leftover work folder is then only removed when old
    fcntl = None  # type: ignore[assignment]

from voicecoach import paths
from voicecoach.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model: where it lives and what its archive must be."""

    name: str
    url: str
    size: int
    sha256: str


DUTCH_NAME = "vosk-model-small-nl-0.22"
DUTCH_URL = "https://alphacephei.com/vosk/models/vosk-model-small-nl-0.22.zip"
DUTCH_SIZE = 40441176
DUTCH_SHA256 = "039811c3b829de64e4f123a9f684a53784005b212a346ac0b899dc7efce2ed0a"
DUTCH = ModelSpec(DUTCH_NAME, DUTCH_URL, DUTCH_SIZE, DUTCH_SHA256)

MAX_UNPACKED, MAX_MEMBERS = 1 << 30, 10_000  # so a hostile or broken archive cannot fill the disk
# Slower than this over a whole window gives up (64 KiB a minute: 40 MB would take ten hours).
SLOW_WINDOW, SLOW_BYTES = 60.0, 64 * 1024
STALE_WORK_SECONDS = 600.0  # a work folder without a lock (an older voicecoach's) this old is a leftover
WORK_LOCK = ".setup.lock"
CHUNK = 1 << 16
# Hidden prefix: a leftover work folder is never mistaken for a model.
TMP_PREFIX = ".voicecoach-tmp-"
SETUP_AGAIN = "Run `voicecoach setup` again when the internet connection works."
SETUP_NEW = "Delete that folder and run `voicecoach setup` again."


def _label(spec: ModelSpec) -> str:
    return "Dutch speech model" if spec.name == DUTCH.name else f"speech model {spec.name}"


def _unreadable(path: Path) -> ModelError:
    return ModelError(f"The speech model at {path} cannot be read (permission denied).",
                      f"Give your user read access to it (e.g. chmod -R u+rX {path}), or pass --model PATH.")


def _nonempty(path: Path, model: Path | None = None) -> bool:
    try:
        found = path.is_file() and path.stat().st_size > 0
    except PermissionError:
        raise _unreadable(model or path) from None
    except OSError:  # a broken link, an I/O error: the message says to set it up again
        return False
    if found and not os.access(path, os.R_OK):
        raise _unreadable(model or path)
    return found


def validate_model_dir(path: Path) -> None:
    """Raise ModelError unless `path` holds a complete small (grammar-capable) Vosk model."""
    path = Path(path)
    try:
        is_dir = path.is_dir()
    except PermissionError:
        raise _unreadable(path) from None
    if is_dir and not os.access(path, os.R_OK | os.X_OK):
        raise _unreadable(path)
    if not is_dir:
        fix = "Run `voicecoach setup` to download the Dutch model, or pass --model PATH."
        raise ModelError(f"No speech model found at {path}.", fix)
    for rel in ("am/final.mdl", "conf/model.conf"):
        if not _nonempty(path / rel, path):
            raise ModelError(f"The speech model at {path} is incomplete (missing {rel}).", SETUP_NEW)
    graph = path / "graph"
    if _nonempty(graph / "HCLr.fst", path) and _nonempty(graph / "Gr.fst", path):
        return
    if _nonempty(graph / "HCLG.fst", path):
        # Large models bake their vocabulary into HCLG.fst, so Vosk cannot hold them to an exercise's word list.
        kind = f"The speech model at {path} is the wrong kind: a large model that cannot use a word list."
        raise ModelError(kind, f"Use a small model such as {DUTCH.name}: run `voicecoach setup`, or pass --model PATH.")
    missing = "graph/Gr.fst" if _nonempty(graph / "HCLr.fst", path) else "graph/HCLr.fst"
    raise ModelError(f"The speech model at {path} is incomplete (missing {missing}).", SETUP_NEW)


def _problem(path: Path) -> ModelError | None:
    try:
        validate_model_dir(path)
    except ModelError as exc:
        return exc
    return None


def _repo_candidates() -> list[Path]:
    repo = paths.REPO_MODELS  # read at call time so tests can redirect it
    found = [repo / DUTCH.name]
    others = sorted(repo.iterdir()) if repo.is_dir() else []
    # Hidden names skip install work folders; they are never a finished model.
    valid = [d for d in others if not d.name.startswith(".") and d.name != DUTCH.name and not _problem(d)]
    # Picking one of several would be a guess, so only a lone model counts.
    return found + valid if len(valid) == 1 else found


def find_model(explicit: str | None = None) -> Path:
    """The model to listen with: --model, $VOICECOACH_MODEL, models/, then the user data folder."""
    for given, source in ((explicit, "--model"), (os.environ.get("VOICECOACH_MODEL"), "VOICECOACH_MODEL")):
        if given:
            # A path the user named must work; falling back would hide their mistake.
            path = Path(given).expanduser()
            validate_model_dir(path)
            log.info("Using the speech model from %s: %s", source, path)
            return path
    broken: list[ModelError] = []
    for path in [*_repo_candidates(), paths.data_dir() / "models" / DUTCH.name]:
        problem = _problem(path)
        if problem is None:
            log.info("Using the speech model at %s", path)
            return path
        if path.exists():  # keep the specific reason in case nothing else works
            log.warning("Skipping the speech model at %s: %s", path, problem)
            broken.append(problem)
    if broken:
        raise broken[0]
    fix = "Run `voicecoach setup` to download it (40 MB, once), or pass --model PATH."
    raise ModelError("No Dutch speech model found.", fix)


def default_install_dir() -> Path:
    """Where `voicecoach setup` puts models: the checkout's models/ if writable, else user data."""
    repo = paths.REPO_MODELS
    if repo.is_dir() and os.access(repo, os.W_OK | os.X_OK):
        return repo
    return paths.data_dir() / "models"


def _manual(spec: ModelSpec) -> str:
    return f"Run `voicecoach setup` again, or download {spec.url} yourself, unzip it and pass --model PATH."


def _disk_error(label: str, folder: Path, exc: OSError) -> ModelError:
    fix = "Free some disk space or make that folder writable, then run `voicecoach setup` again."
    return ModelError(f"Could not save the {label} in {folder} ({exc.strerror or exc}).", fix)


def _download(spec: ModelSpec, dest: Path, *, progress: bool, timeout: float) -> None:
    """Fetch spec.url into `dest`, checking size and SHA-256 as the bytes arrive."""
    label = _label(spec)
    too_big = _not_the_model(spec, f"more than the model's {spec.size:,} bytes")
    digest, got, whole = hashlib.sha256(), 0, False
    window_start, window_got = time.monotonic(), 0
    log.info("Downloading %s from %s", spec.name, spec.url)
    try:
        out = open(dest, "wb")
    except OSError as exc:
        raise _disk_error(label, dest.parent, exc) from exc
    with out:
        try:
            with urllib.request.urlopen(spec.url, timeout=timeout) as resp:
                bar_off = not (progress and sys.stderr.isatty())
                with tqdm(total=spec.size, unit="B", unit_scale=True, desc=spec.name, disable=bar_off) as bar:
                    while chunk := resp.read1(CHUNK):  # read1: bytes already here count, even if the link then stalls
                        got += len(chunk)
                        if got > spec.size:
                            raise too_big
                        digest.update(chunk)
                        try:
                            out.write(chunk)
                        except OSError as exc:  # caught here so a full disk is not blamed on the network
                            raise _disk_error(label, dest.parent, exc) from exc
                        bar.update(len(chunk))
                        # A server that trickles a byte now and then never times out: judge its speed.
                        window_got += len(chunk)
                        now = time.monotonic()
                        if now - window_start >= SLOW_WINDOW:
                            if window_got < SLOW_BYTES:
                                raise ModelError(
                                    f"The download of the {label} is far too slow ({window_got:,} bytes in the "
                                    f"last {now - window_start:.0f} seconds; {got:,} of {spec.size:,} so far).",
                                    SETUP_AGAIN)
                            window_start, window_got = now, 0
                # The server said it sent all: a dropped connection ends a body short without an error.
                whole = bool(getattr(resp, "chunked", False)) or getattr(resp, "length", None) == 0
        except urllib.error.HTTPError as exc:
            refused = f"The server refused the download of the {label} (HTTP {exc.code})."
            raise ModelError(refused, _manual(spec)) from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, TLS
            if not got:
                reason = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
                raise ModelError(f"The download of the {label} failed ({reason}).", SETUP_AGAIN) from exc
            log.debug("Download of %s broke off: %r", spec.name, exc)  # reported as a short download below
    if got < spec.size and whole:
        raise _not_the_model(spec, f"{got:,} bytes instead of {spec.size:,}")
    if got < spec.size:
        raise ModelError(f"The download of the {label} stopped early ({got:,} of {spec.size:,} bytes).", SETUP_AGAIN)
    if digest.hexdigest() != spec.sha256.lower():
        raise _not_the_model(spec, "it does not match the model's checksum")


def _not_the_model(spec: ModelSpec, why: str) -> ModelError:
    """The server sent a whole file, but another one (a network's login page, a changed or wrong address):
    trying again on a better connection would not help."""
    if spec.url != DUTCH.url:  # `setup --url`: the address is the likely mistake
        fix = "Check that address, or run `voicecoach setup` without --url."
    else:
        fix = ("If this network first shows a login page, log in there and run `voicecoach setup` again; "
               f"else download {spec.url} yourself, unzip it and pass --model PATH.")
    return ModelError(f"The file that came from {spec.url} is not the {_label(spec)} ({why}), "
                      "so nothing was installed.", fix)


def _safe_parts(name: str) -> tuple[str, ...] | None:
    """A member's path parts, or None when it could land outside the target folder."""
    norm = name.replace("\\", "/")  # Windows-made zips may use backslashes
    if norm.startswith("/") or PureWindowsPath(norm).drive:
        return None
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    return None if not parts or ".." in parts else parts


def _extract(spec: ModelSpec, archive: Path, into: Path) -> Path:
    """Unpack `archive` into the new folder `into`; return the model's root in it."""
    label, fix = _label(spec), _manual(spec)
    bomb = ModelError(f"The {label} archive unpacks to more than {MAX_UNPACKED:,} bytes.", fix)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise ModelError(f"The {label} archive has too many files ({len(members):,}).", fix)
            plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
            total = 0
            for info in members:  # check everything before writing anything
                parts = _safe_parts(info.filename)
                kind = stat.S_IFMT(info.external_attr >> 16)
                if parts is None or kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                    # Links and special files are refused wherever they point: a model never needs one.
                    what = "path" if parts is None else "link or special file"
                    raise ModelError(f"The model archive contains an unsafe {what} ({info.filename!r}).", fix)
                total += info.file_size
                if total > MAX_UNPACKED:
                    raise bomb
                plan.append((info, parts))
            into.mkdir()
            written = 0
            for info, parts in plan:
                target = into.joinpath(*parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as out:  # "x": duplicates never overwrite
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > MAX_UNPACKED:  # headers can lie; count real bytes
                            raise bomb
                        out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise ModelError(f"The {label} archive could not be unpacked ({exc}).", fix) from exc
    tops = list(into.iterdir())
    # Vosk zips hold one folder named like the model; a flat zip is the model itself.
    return tops[0] if len(tops) == 1 and tops[0].is_dir() else into


def install_model(spec: ModelSpec, dest_dir: Path, *, progress: bool = True, timeout: float = 30.0) -> Path:
    """Download, verify and unpack `spec` into `dest_dir/spec.name`; a no-op when already there."""
    dest_dir = Path(dest_dir)
    final = dest_dir / spec.name
    if dest_dir.is_dir():
        _remove_stale_work(dest_dir)  # a setup killed earlier left its work (a partial download)
    if final.exists():
        validate_model_dir(final)  # a broken folder raises with the fix, never gets silently deleted
        log.info("The speech model is already installed at %s", final)
        return final
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        # Work inside dest_dir so the final rename stays on one filesystem (atomic).
        work = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=dest_dir))
        lock = _hold(work / WORK_LOCK)  # while held, no other setup takes this folder for a leftover
    except OSError as exc:
        raise _disk_error(_label(spec), dest_dir, exc) from exc
    try:
        archive = work / "download.zip"
        _download(spec, archive, progress=progress, timeout=timeout)
        root = _extract(spec, archive, work / "unpacked")
        problem = _problem(root)
        if problem:  # its message names a temp folder that is about to vanish, so only log it
            log.warning("Unpacked archive of %s is unusable: %s", spec.name, problem)
            unusable = f"The downloaded {_label(spec)} archive does not hold a complete small Vosk model."
            raise ModelError(unusable, "Pass --model PATH to a model you unpacked yourself.")
        try:
            os.replace(root, final)
        except OSError as exc:
            if not _problem(final):  # another setup finished first; its model is as good
                return final
            raise ModelError(f"Could not move the {_label(spec)} into {final} ({exc}).", SETUP_NEW) from exc
        log.info("Installed the %s at %s", _label(spec), final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.close()


def _hold(path: Path) -> IO[bytes]:
    f = open(path, "wb")
    if fcntl is not None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
    return f


def _remove_stale_work(dest_dir: Path) -> None:
    """Work folders of a setup that was killed (its lock is free) are removed; a running setup's are not."""
    for work in dest_dir.glob(f"{TMP_PREFIX}*"):
        lock = work / WORK_LOCK
        try:
            if lock.exists() and fcntl is not None:
                with open(lock, "rb") as f:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            elif time.time() - work.stat().st_mtime < STALE_WORK_SECONDS:
                continue  # just made by another setup, or an older voicecoach's: not yet known to be left over
        except (BlockingIOError, FileNotFoundError):
            continue
        log.info("Removing the work folder %s of a setup that did not finish", work)
        shutil.rmtree(work, ignore_errors=True)
