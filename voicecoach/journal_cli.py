"""The journal commands: `journal` (told and printed, or exported as a page) and `forget`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecoach import paths, stopping
from voicecoach.cli import speaker_options
from voicecoach.errors import UserError

log = logging.getLogger(__name__)

FOLLOW_UP_WORDS = {"goed": "ging goed", "matig": "ging matig", "niet": "lukte niet", "overgeslagen": "overgeslagen",
                   None: "nog open"}
SPOKEN_AGREEMENTS = 3  # told by voice: the newest few; all of them are printed


@dataclass
class Overview:
    """What the journal holds, as printed lines and as spoken parts (text, or a recording to play)."""

    lines: list[str] = field(default_factory=list)
    spoken: list[str | Path] = field(default_factory=list)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("journal", help="hear and see what you did and agreed (or --export a page)")
    p.add_argument("--export", metavar="FILE.html", help="write a printable overview page instead")
    g = p.add_argument_group("sound")
    g.add_argument("--mute", action="store_true", help="only print, do not speak")
    speaker_options(g)
    p = sub.add_parser("forget", help="delete the journal, recordings and spoken-prompt cache (asks first)")
    p.add_argument("--yes", action="store_true", help="do not ask; delete at once")


def overview(journal: Any) -> Overview:
    from voicecoach.engine.texts import join, spoken_parts
    from voicecoach.export import dutch_date

    out = Overview()
    summary = journal.summary()
    if summary.sessions == 0:
        out.lines.append("Er staat nog niets in jullie dagboek.")
        out.spoken.append("Er staat nog niets in jullie dagboek. Doe samen een oefening, dan bewaar ik wat jullie deden.")
        return out
    done = ", ".join(f"{name} {n}x" for name, n in summary.sessions_by_exercise.items())
    last = f"; laatste keer {dutch_date(summary.last_session.date())}" if summary.last_session else ""
    out.lines.append(f"Sessies: {summary.sessions} ({done}){last}.")
    out.spoken.append(f"Jullie hebben {summary.sessions} keer samen geoefend.")
    values = journal.latest_value_map()
    if values.shared:
        out.lines.append(f"Gezamenlijke waarden: {', '.join(values.shared)}.")
        out.spoken.append(f"Jullie gezamenlijke waarden zijn: {join(values.shared)}.")
        if values.sentence or values.recording:
            out.lines.append(f"Jullie zin: {values.sentence or '(ingesproken)'}")
            out.spoken.append("Jullie zin is:")
            out.spoken += [values.recording] if values.recording else spoken_parts(values.sentence or "")
    for partner, own in values.partners.items():
        out.lines.append(f"Waarden van {partner}: {', '.join(own)}.")
    agreements = journal.agreements()
    if agreements:
        out.lines.append("Afspraken:")
        for a in agreements:
            what = a.text or f"(ingesproken afspraak, {dutch_date(a.created_at.date())})"
            out.lines.append(f"  - {what} ({FOLLOW_UP_WORDS.get(a.follow_up, a.follow_up)})")
        out.spoken.append("Jullie nieuwste afspraken:" if len(agreements) > 1 else "Jullie afspraak:")
        for a in agreements[:SPOKEN_AGREEMENTS]:
            if a.recording is not None and a.recording.exists():
                out.spoken.append(a.recording)
            else:
                out.spoken += spoken_parts(a.text or "")
    else:
        out.lines.append("Afspraken: nog geen.")
    out.lines.append(f"Dankbaarheid: {summary.gratitude_total} keer iets genoemd waar jullie dankbaar voor zijn.")
    out.lines.append(f"Samen aan het woord: {round(summary.turn_minutes)} minuten.")
    if summary.gratitude_total:
        out.spoken.append(f"Jullie noemden {summary.gratitude_total} keer iets waarvoor jullie dankbaar zijn.")
    out.spoken.append("Mooi dat jullie dit samen doen. Zie ook de kleine successen.")
    return out


def journal(args: argparse.Namespace) -> int:
    from voicecoach.export import export_html
    from voicecoach.journal import Journal

    from voicecoach import running

    with Journal() as j:
        # No session runs: one that never ended was interrupted, and a recording without its row is a leftover.
        with contextlib.suppress(running.AlreadyRunning), running.session():
            j.mark_interrupted()
            j.remove_orphan_recordings()
        if j.recovered_from is not None:
            print(f"The journal was damaged; it was set aside as {j.recovered_from} and a new one started.")
        if args.export:
            out = export_html(j, Path(args.export))
            print(f"Wrote {out}.")
            return 0
        view = overview(j)
    for line in view.lines:
        print(line)
    if not args.mute:
        _tell(args, [p for p in view.spoken if p])
    return 0


def _tell(args: argparse.Namespace, parts: list[str | Path]) -> None:
    """Speak the overview and play their recordings, where there is a voice and a speaker."""
    from voicecoach.audio.pcm import read_wav
    from voicecoach.clock import RealClock, SimClock
    from voicecoach.speech.synth import Pyttsx3Synth, VoiceSettings
    from voicecoach.wiring import make_speaker

    clock = SimClock() if args.fast else RealClock()
    notices: list[str] = []
    speaker, no_sound = make_speaker(args, clock, notices)
    synth = Pyttsx3Synth(VoiceSettings(language="nl", voice=args.voice, rate=args.rate or 150),
                         cache_dir=paths.cache_dir() / "prompts")
    try:
        if no_sound:
            for notice in notices:
                print(notice, file=sys.stderr)
            return  # printed already: that is all we can do
        render: Callable[[str | Path], Any] = lambda p: read_wav(p) if isinstance(p, Path) else synth.render(p)
        for part in parts:
            speaker.play(render(part))
    except UserError as exc:
        print(f"voicecoach: could not speak ({exc.message}); the overview above is all of it.", file=sys.stderr)
    finally:
        speaker.close()
        close = getattr(synth, "close", None)
        if close is not None:
            close()


def forget(args: argparse.Namespace) -> int:
    """Deletes everything voicecoach wrote about them, whatever state the journal is in.

    Refused while voicecoach runs, so nothing is written after "Alles is gewist".
    Their own config.toml is theirs: it is kept, and they are told where it is.
    """
    from voicecoach import running
    from voicecoach.journal import forget_everything

    if not args.yes:
        print("Dit wist alles wat voicecoach over jullie bewaarde: sessies, waarden, afspraken en opnames.")
        print("Typ ja om alles te wissen: ", end="", flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer != "ja":
            print("Niets gewist.")
            return 1
    # Ctrl-C waits the moment deleting takes: never half-forgotten.
    with running.alone(), stopping.deferred():
        failed = forget_everything()
        for lock in running.lock_paths():
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
    with contextlib.suppress(OSError):
        paths.data_dir().rmdir()  # only if empty: the speech model may live there
    if failed:
        raise UserError(f"Could not delete {', '.join(map(str, failed))}.",
                        "Check its permissions, then run `voicecoach forget` again.")
    log.info("everything voicecoach kept was deleted")
    print("Alles is gewist.")
    config = paths.config_dir() / "config.toml"
    if config.exists():
        print(f"Your own settings file {config} was kept (you wrote it); delete it yourself if you want.")
    return 0


HANDLERS = {"journal": journal, "forget": forget}
