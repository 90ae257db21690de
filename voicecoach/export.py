"""A printable one-page overview of the journal for the fridge, as self-contained HTML."""

from __future__ import annotations

import logging
import math
from datetime import date, datetime
from html import escape
from pathlib import Path

from voicecoach.errors import StorageError, UserError
from voicecoach.journal import FOLLOW_UP_WORDS, GOAL_WORDS, Agreement, Journal, Speaking
from voicecoach.paths import write_atomically

log = logging.getLogger(__name__)

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")
PETALS = ("#f4a261", "#e9c46a", "#e76f51", "#f6bd60", "#95b8a2", "#f28482", "#cdb4db", "#a3c4bc")
SPEAKERS = ("#e76f51", "#2a9d8f")  # the first and the second partner's bars
CHART_WEEKS = 8  # "wie kwam aan het woord": the newest weeks with turns
MAX_AGREEMENTS = 10  # one A4 page; the newest matter most on the fridge
DEFAULT_NAME = "voicecoach-overzicht.html"  # when --export names a folder
# How our page begins. An existing file is replaced only if it begins so (a page exported before): --export
# names any file, and a notes.txt or a script given by mistake is theirs.
OPENING = '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
MARKER = '<meta name="generator" content="voicecoach journal --export">'
# Pages exported before the marker: their head, which only voicecoach writes.
UNMARKED = (OPENING + '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>Ons overzicht</title>\n<style>\n@page { size: A4; margin: 14mm; }")

CSS = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #fdf6ec; color: #4a3b32;
  font: 15px/1.5 Georgia, "DejaVu Serif", "Times New Roman", serif; }
main { max-width: 182mm; margin: 0 auto; padding: 10mm 8mm; }
header { text-align: center; margin-bottom: 4mm; }
h1 { font-size: 30px; font-weight: normal; margin: 0; color: #b5473a; letter-spacing: .5px; }
.names { font-size: 19px; margin: 2px 0 0; }
.date { font-size: 13px; color: #8a7466; margin: 2px 0 0; }
section { background: #fffaf3; border: 1px solid #f0dcc4; border-radius: 14px;
  padding: 4mm 6mm; margin: 0 0 4mm; break-inside: avoid; }
h2 { font-size: 19px; font-weight: normal; color: #b5473a; margin: 0 0 2mm;
  border-bottom: 1px dotted #e7c9a9; padding-bottom: 1mm; }
.map { display: block; width: 108mm; height: auto; margin: 0 auto; }
.sentence { text-align: center; font-style: italic; font-size: 17px; margin: 1mm 6mm 0; }
.partners { display: flex; gap: 6mm; }
.partner { flex: 1; }
.partner h3 { font-size: 16px; margin: 0 0 1mm; color: #7a5c4d; }
.partner ol { margin: 0; padding-left: 6mm; }
ul.agreements { list-style: none; margin: 0; padding: 0; }
ul.agreements li { padding: 1.5mm 0 1.5mm 7mm; position: relative; border-bottom: 1px solid #f5e6d6; }
ul.agreements li:last-child { border-bottom: none; }
ul.agreements li::before { content: "\\2665"; color: #e76f51; position: absolute; left: 0; }
.spoken { font-style: italic; color: #7a5c4d; }
.status { font-size: 12px; color: #8a7466; margin-left: 2mm; white-space: nowrap; }
.row { display: flex; gap: 4mm; }
.row section { flex: 1; text-align: center; }
.big { font-size: 34px; color: #e76f51; line-height: 1.1; margin: 1mm 0 0; }
.empty { color: #8a7466; font-style: italic; margin: 0; }
.chart { display: block; width: 100%; height: auto; }
.legend { text-align: center; font-size: 13px; margin: 1mm 0 0; }
.legend span { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 1mm 0 4mm; }
footer { text-align: center; font-size: 12px; color: #a08b7d; }
"""


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def spoken_in(kind: str, made: datetime | None) -> str:
    """"ingesproken afspraak, 3 maart 2025": what stands for words kept only as a recording (its date if known)."""
    return f"({kind}, {dutch_date(made.date())})" if made is not None else f"({kind})"


def _wrap(text: str, width: int = 12) -> list[str]:
    """Break a value into short lines so it fits inside its circle."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:3] if len(lines) <= 3 else [*lines[:2], lines[2] + "…"]


def values_svg(values: list[str] | tuple[str, ...]) -> str:
    """The shared values as circles around a heart that says "wij"."""
    size, centre = 460, 230
    n = len(values)
    ring = 0 if n <= 1 else 140
    radius = 78 if n <= 5 else 62
    parts = [f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}"'
             ' role="img" aria-label="Onze gezamenlijke waarden">']
    parts.append(f'<circle cx="{centre}" cy="{centre}" r="{ring + radius - 4}" fill="#fbe9d7"/>'
                 if n > 1 else "")
    for i, value in enumerate(values):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        x, y = centre + ring * math.cos(angle), centre + ring * math.sin(angle)
        lines = _wrap(value) or [""]
        longest = max(len(line) for line in lines)
        # Rough glyph width of a serif font is 0.55em; keep the text inside the circle.
        font = min(19.0, 1.6 * radius / max(1, 0.55 * longest), 2.4 * radius / (1.2 * len(lines) + 1))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{PETALS[i % len(PETALS)]}"'
                     ' fill-opacity="0.88" stroke="#fffaf3" stroke-width="4"/>')
        top = y - (len(lines) - 1) * font * 0.6
        tspans = "".join(f'<tspan x="{x:.1f}" y="{top + k * font * 1.2:.1f}">{escape(line)}</tspan>'
                         for k, line in enumerate(lines))
        parts.append(f'<text font-size="{font:.1f}" text-anchor="middle" dominant-baseline="middle"'
                     f' fill="#3d2c24" font-family="Georgia, serif">{tspans}</text>')
    if n != 1:
        # The heart, drawn last so it sits on top of the ring of values.
        parts.append(f'<path transform="translate({centre} {centre + 6}) scale(1.25)"'
                     ' d="M0 38 C-12 26 -52 4 -52 -20 C-52 -40 -34 -50 -20 -50 C-9 -50 -3 -43 0 -36'
                     ' C3 -43 9 -50 20 -50 C34 -50 52 -40 52 -20 C52 4 12 26 0 38 Z"'
                     ' fill="#d1495b" stroke="#fffaf3" stroke-width="3"/>')
        parts.append(f'<text x="{centre}" y="{centre - 8}" font-size="30" text-anchor="middle"'
                     ' dominant-baseline="middle" fill="#fffaf3" font-family="Georgia, serif"'
                     ' font-style="italic">wij</text>')
    parts.append("</svg>")
    return "".join(parts)


def weekly_speaking(kept: list[Speaking], weeks: int = CHART_WEEKS) -> list[tuple[date, tuple[float, float]]]:
    """Minutes the first and the second partner spoke, per week (its Monday), the newest `weeks` weeks with turns."""
    by_week: dict[date, list[float]] = {}
    for s in kept:
        if s.started_at is None:
            continue  # a date that cannot be read belongs to no week
        day = s.started_at.date()
        monday = date.fromordinal(day.toordinal() - day.weekday())
        seconds = list(s.seconds.values()) + [0.0, 0.0]
        week = by_week.setdefault(monday, [0.0, 0.0])
        week[0] += seconds[0] / 60
        week[1] += seconds[1] / 60
    return [(monday, (m[0], m[1])) for monday, m in sorted(by_week.items())[-weeks:]]


def speaking_svg(weeks: list[tuple[date, tuple[float, float]]]) -> str:
    """Two bars a week, one per partner: how many minutes each was heard in the turns."""
    width, height, base, top = 640, 190, 160, 22
    most = max([max(m) for _, m in weeks] + [1.0])
    slot = width / max(len(weeks), 1)
    bar = min(26.0, slot / 3)
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"'
             ' aria-label="Minuten aan het woord per week">',
             f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#e7c9a9"/>']
    for i, (monday, pair) in enumerate(weeks):
        centre = slot * (i + 0.5)
        for k, value in enumerate(pair):
            h = (base - top) * value / most
            x = centre - bar + k * bar
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" rx="3"'
                         f' fill="{SPEAKERS[k]}"><title>{value:.1f} min</title></rect>')
            parts.append(f'<text x="{x + bar / 2 - 1:.1f}" y="{base - h - 4:.1f}" font-size="11" text-anchor="middle"'
                         f' fill="#4a3b32">{value:.1f}</text>'.replace(".0<", "<"))
        parts.append(f'<text x="{centre:.1f}" y="{base + 18}" font-size="12" text-anchor="middle" fill="#8a7466">'
                     f'{monday.day} {MONTHS[monday.month - 1][:3]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _speaking_section(journal: Journal, names: tuple[str, str] | None) -> str:
    kept = journal.speaking_times()
    if not kept:
        return ""
    weeks = weekly_speaking(kept)
    who = names or tuple(kept[-1].seconds)[:2]
    legend = "".join(f'<span style="background:{colour}"></span>{escape(name)}'
                     for colour, name in zip(SPEAKERS, who, strict=False))
    return (f'<section><h2>Wie kwam aan het woord</h2>{speaking_svg(weeks)}'
            f'<p class="legend">{legend} &nbsp;(minuten per week, gemeten in de beurten)</p></section>')


def _agreement_item(a: Agreement) -> str:
    if a.text:
        body = escape(a.text)
    else:
        body = f'<span class="spoken">{spoken_in("ingesproken afspraak", a.created_at)}</span>'
    status = FOLLOW_UP_WORDS.get(a.follow_up or "", "")
    return f"<li>{body}" + (f'<span class="status">{status}</span>' if status else "") + "</li>"


def _goals_section(journal: Journal) -> str:
    """The toekomstbeeld's newest goals: for this year, and for the long term."""
    goals = journal.latest_goals()
    if not goals:
        return ""
    items = "".join(
        f"<li><b>{escape(GOAL_WORDS[g.term])}:</b> "
        + (escape(g.text) if g.text else f'<span class="spoken">{spoken_in("ingesproken", g.created_at)}</span>')
        + "</li>" for g in goals)
    return f'<section><h2>Onze doelen</h2><ul class="agreements">{items}</ul></section>'


def render_html(journal: Journal, names: tuple[str, str] | None = None) -> str:
    names = names or journal.last_names()
    summary = journal.summary()
    value_map = journal.latest_value_map()
    title = "Ons overzicht"
    who = f'<p class="names">{escape(names[0])} &amp; {escape(names[1])}</p>' if names else ""

    if value_map.shared:
        shared = values_svg(value_map.shared)
        if value_map.sentence:
            shared += f'<p class="sentence">“{escape(value_map.sentence)}”</p>'
        elif value_map.recording is not None:
            shared += '<p class="sentence">(jullie ingesproken zin: voicecoach journal laat hem horen)</p>'
    else:
        shared = '<p class="empty">Nog geen gezamenlijke waarden. Doe samen de waardenkaart.</p>'

    own = ""
    if value_map.partners:
        columns = "".join(
            f'<div class="partner"><h3>Waarden van {escape(partner)}</h3><ol>'
            + "".join(f"<li>{escape(v)}</li>" for v in values) + "</ol></div>"
            for partner, values in value_map.partners.items())
        own = f'<section><h2>Ieders eigen waarden</h2><div class="partners">{columns}</div></section>'

    agreements = journal.agreements()[:MAX_AGREEMENTS]
    if agreements:
        listed = '<ul class="agreements">' + "".join(map(_agreement_item, agreements)) + "</ul>"
    else:
        listed = '<p class="empty">Nog geen afspraken gemaakt.</p>'

    minutes = round(summary.turn_minutes)
    sessions = summary.sessions
    return f"""{OPENING}{MARKER}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header><h1>{title}</h1>{who}<p class="date">{dutch_date(datetime.now().date())}</p></header>
<section><h2>Onze gezamenlijke waarden</h2>{shared}</section>
{own}
{_goals_section(journal)}
<section><h2>Onze afspraken</h2>{listed}</section>
{_speaking_section(journal, names)}
<div class="row">
<section><h2>Dankbaarheid</h2><p class="big">{summary.gratitude_total}</p>
<p class="empty">keer iets gezegd waar we dankbaar voor zijn</p></section>
<section><h2>Samen geoefend</h2><p class="big">{sessions}</p>
<p class="empty">{"sessie" if sessions == 1 else "sessies"}, {minutes} {"minuut" if minutes == 1 else "minuten"} aan het woord</p></section>
</div>
<footer>Gemaakt met voicecoach, alleen voor jullie twee.</footer>
</main>
</body>
</html>
"""


def _exported(path: Path) -> bool:
    """Whether the file at `path` is a page exported before (of this version or an older one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(UNMARKED.encode()) + len(MARKER.encode())).decode("utf-8", errors="replace")
    except OSError:
        return False  # unreadable: it cannot be told to be ours
    return head.startswith((OPENING + MARKER, UNMARKED))


def export_html(journal: Journal, path: Path, names: tuple[str, str] | None = None) -> Path:
    """Write the overview to `path` (owner-only, atomically: never a half page)."""
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_NAME  # a folder was named: the page goes in it
    if path.exists() and not path.is_file():  # the page replaces a file; never a device or a socket
        raise UserError(f"{path} is not a file the overview can replace.",
                           "Give a file name ending in .html, or a folder, with --export.")
    if path.exists() and not _exported(path):
        raise UserError(f"{path} already exists and is not an overview voicecoach wrote, so it was left as it is.",
                        "Give --export another file name.")
    page = render_html(journal, names)
    try:
        write_atomically(path, page)
    except OSError as exc:
        raise StorageError(f"Could not write the overview to {path} ({exc.strerror or exc}).",
                           "Choose another place with --export, or free some disk space; the journal is "
                           "unchanged.") from exc
    log.info("overview written to %s (%d bytes)", path, len(page.encode()))
    return path
