"""The turn-awareness benchmark runs end to end (--quick, on the tuning voices) and writes complete results.

No target is asserted here (and no held-out number): the script measures and reports them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_voice_split_is_fixed_and_disjoint() -> None:
    split = tomllib.loads((ROOT / "scripts" / "bench_turns_split.toml").read_text(encoding="utf-8"))
    tuning, held_out = set(split["tuning"]["variants"]), set(split["held_out"]["variants"])
    assert tuning and held_out and not tuning & held_out


@pytest.mark.slow
def test_quick_run_measures_every_section(tmp_path: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/system-packages --test)")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_turns.py"), "--quick", "--split", "tuning",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
                          env={**os.environ, "VOICECOACH_BENCH_TURNS_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "bench_turns.json").read_text(encoding="utf-8"))
    assert results["split"] == "tuning" and results["quick"] is True
    for name, a in results["attribution"].items():
        assert a["stretches"] > 0, name
        assert abs(a["right_pct"] + a["wrong_pct"] + a["unsure_pct"] - 100) < 1e-6, name
    for kind in ("listener_quiet", "listener_interrupts", "hard_pairs_interrupt"):
        s = results["sessions"][kind]
        assert s["turns"] > 0 and s["audio_s"] > 0 and 0 <= s["noticed"] <= s["real"]
    assert results["sessions"]["listener_quiet"]["real"] == 0
    assert results["sessions"]["listener_interrupts"]["real"] > 0
    assert results["cpu"]["turnwatch_pct_core"] > 0 and results["cpu"]["energy_vad_baseline_pct_core"] > 0
    table = (tmp_path / "bench_turns.md").read_text(encoding="utf-8")
    assert "| measure | value | target | result |" in table and ("PASS" in table or "MISS" in table)
