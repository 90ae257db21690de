"""The printable overview: escaped, well-formed, self-contained HTML that a browser really draws."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.errors import UserError
from voicecoach.export import MARKER, export_html, render_html
from voicecoach.journal import Journal

CHROMIUM = "/usr/bin/chromium"
NASTY = '<script>alert("x")</script> & \'rust\''
VOID = {"meta", "br", "img", "hr", "input", "link"}


class Checker(HTMLParser):
    """Fails on unbalanced tags; collects tags and attributes for the other checks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Journal]:
    monkeypatch.setenv("VOICECOACH_HOME", str(tmp_path / "home"))
    with Journal() as j:
        yield j


def fill(j: Journal) -> None:
    s = j.start_session("waardenkaart", ("Anna", "Bram & co"))
    j.set_values(s, "Anna", ["eerlijkheid", "avontuur", "rust", "familie", NASTY])
    j.set_values(s, "Bram & co", ["vertrouwen", "samen koken", "vrijheid", "humor", "groei"])
    j.set_shared_values(s, ["eerlijkheid", "humor", "samen op avontuur", "vertrouwen", NASTY],
                        "Wij kiezen <elke> dag voor elkaar.")
    s2 = j.start_session("dagelijks-gesprek", ("Anna", "Bram & co"))
    j.add_agreement(s2, "Elke zondagavond samen de week doorspreken, zonder telefoon.", None)
    j.add_agreement(s2, None, j.store_recording(s2, b"RIFF...."))
    done = j.add_agreement(s, "Om beurten koken & afwassen", None)
    j.follow_up(done, "goed")
    j.gratitude(s2, "Anna", 7)
    j.gratitude(s2, "Bram & co", 5)
    j.turn(s2, "praten", "Anna", 600)


def test_export_is_escaped_wellformed_and_self_contained(journal: Journal, tmp_path: Path) -> None:
    fill(journal)
    out = export_html(journal, tmp_path / "out" / "overzicht.html")
    assert out == tmp_path / "out" / "overzicht.html"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["overzicht.html"]  # no temp file left
    page = out.read_text(encoding="utf-8")
    checker = check_html(page)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="nl">' in page
    for heading in ("Onze gezamenlijke waarden", "Onze afspraken", "Dankbaarheid"):
        assert f">{heading}</h2>" in page
    assert "<svg" in page and page.count("<circle") >= 5
    # Every user text appears escaped, and never as live markup.
    assert escape(NASTY) in page and NASTY not in page
    assert "script" not in checker.tags
    assert escape("Wij kiezen <elke> dag voor elkaar.") in page
    assert "Bram &amp; co" in page and "Om beurten koken &amp; afwassen" in page
    text = "".join(checker.text)
    for value in ("samen koken", "vrijheid", "groei", "familie", "avontuur"):
        assert value in text
    assert "Elke zondagavond samen de week doorspreken, zonder telefoon." in text
    assert "(ingesproken afspraak, " in text and "ging goed" in text
    assert ">12</p>" in page  # gratitude 7 + 5
    assert ">2</p>" in page and "10 minuten" in text  # sessions and talking time
    # Self-contained: nothing is fetched, nothing runs.
    for name, value in checker.attrs:
        assert name not in {"src", "href"} and not name.startswith("on"), (name, value)
    assert "url(" not in page and "@import" not in page


def test_names_argument_and_empty_journal(journal: Journal, tmp_path: Path) -> None:
    page = export_html(journal, tmp_path / "leeg.html", names=("Zoë", "Lot")).read_text("utf-8")
    check_html(page)
    assert "Zoë &amp; Lot" in page
    assert "Nog geen gezamenlijke waarden" in page and "Nog geen afspraken" in page
    assert "<svg" not in page


@pytest.mark.parametrize("made", ["now", "before the marker"])
def test_export_replaces_an_old_page(journal: Journal, tmp_path: Path, made: str) -> None:
    out = export_html(journal, tmp_path / "overzicht.html")
    old = out.read_text("utf-8")
    if made == "before the marker":  # as pages were exported before they carried it
        out.write_text(old.replace(MARKER + "\n", "").replace("Nog geen afspraken", "Oud"), "utf-8")
    os.chmod(out, 0o644)
    fill(journal)
    export_html(journal, out)
    assert "Om beurten koken" in out.read_text("utf-8") and "Oud" not in out.read_text("utf-8")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


@pytest.mark.parametrize("theirs", ["notes.txt", "script.sh", "pagina.html", "leeg.html"])
def test_export_never_overwrites_a_file_of_theirs(journal: Journal, tmp_path: Path, theirs: str) -> None:
    content = {"notes.txt": "Boodschappen: melk", "script.sh": "#!/bin/sh\necho hoi\n",
               "pagina.html": "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n<title>Mijn</title>",
               "leeg.html": ""}[theirs]
    (tmp_path / "map").mkdir()
    path = tmp_path / "map" / theirs
    path.write_text(content, "utf-8")
    os.chmod(path, 0o755)
    with pytest.raises(UserError) as refused:
        export_html(journal, path)
    assert str(refused.value) == (f"{path} already exists and is not an overview voicecoach wrote, so it was left as "
                                  "it is. Give --export another file name.")
    assert path.read_text("utf-8") == content and stat.S_IMODE(os.stat(path).st_mode) == 0o755
    assert [p.name for p in path.parent.iterdir()] == [theirs]  # and no half page beside it


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.text(max_size=60), min_size=1, max_size=8))
def test_any_text_is_escaped(tmp_path: Path, words: list[str]) -> None:
    with Journal(tmp_path / "prop.sqlite3") as j:
        s = j.start_session("waardenkaart", (words[0], "B"))
        j.set_shared_values(s, words, words[-1])
        j.set_values(s, words[0], words)
        j.add_agreement(s, words[0] or "x", None)
        page = render_html(j)
    check_html(page)
    assert "<script" not in page
    for w in words:
        assert f"<li>{escape(w)}</li>" in page


def colours(png: Path) -> set[tuple[int, ...]]:
    image = pytest.importorskip("PIL.Image")
    with image.open(png) as im:
        return {c for _, c in (im.convert("RGB").getcolors(maxcolors=1 << 24) or [])}


def test_chromium_draws_the_page(journal: Journal, tmp_path: Path) -> None:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip("chromium is not installed (apt-get install -y chromium) so the page cannot be drawn")
    fill(journal)
    html = export_html(journal, tmp_path / "overzicht.html")
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM if os.path.exists(CHROMIUM) else str(shutil.which("chromium")),
           "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1000,1400", f"file://{html}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists(), f"no screenshot; chromium said: {result.stderr[-2000:]}"
    keep = os.environ.get("VOICECOACH_ARTIFACTS")  # a folder to keep the screenshot in, to look at it
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / "export-screenshot.png")
    seen = colours(shot)
    assert len(seen) > 50, "the screenshot is (almost) blank"
    # The heart's red and a petal's orange prove the inline SVG was drawn, not just the text.
    near = lambda rgb, c: all(abs(a - b) <= 6 for a, b in zip(rgb, c, strict=False))  # noqa: E731
    assert any(near(c, (0xD1, 0x49, 0x5B)) for c in seen), "the heart is missing"
    petal = tuple(round(0.88 * f + 0.12 * b) for f, b in zip((0xF4, 0xA2, 0x61), (0xFB, 0xE9, 0xD7), strict=False))
    assert any(near(c, petal) for c in seen), "the first value's circle is missing"
