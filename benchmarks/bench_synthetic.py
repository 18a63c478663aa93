"""Speed of the synthetic song generator, and a picture of its vocals.

Times :func:`wiass.data.synthetic.generate_song` (30 s songs at 16 and 44.1 kHz, in this
process) and :func:`wiass.data.synthetic.write_dataset` (the default dataset: 40 + 10 tracks of
30 s at 16 kHz, 32-bit float WAV, written to a temporary folder that is deleted afterwards) with
2 worker processes and, unless ``--skip-serial``, with 1. Writes the table to
``benchmarks/bench_synthetic.md`` and a spectrogram of one song's vocals to
``benchmarks/synthetic_vocals.png``: the whole song (phrases, the exactly silent stretches
between them) and a zoom on one phrase with the score's notes and syllables drawn over it
(harmonics, glides, vibrato, vowel formants, consonant noise).

On a shared machine the times move with the load of other processes; each row is measured once.

Run: ``python benchmarks/bench_synthetic.py`` (``--quick`` for 10 tracks of 10 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np
from scipy import signal

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from wiass.data.synthetic import generate_song, write_dataset  # noqa: E402
from wiass.files import atomic_path, write_text  # noqa: E402

HERE = Path(__file__).resolve().parent


def time_songs(seeds: range, seconds: float, sample_rate: int) -> float:
    """Mean seconds to generate one song."""
    begin = time.perf_counter()
    for seed in seeds:
        generate_song(seed, seconds, sample_rate)
    return (time.perf_counter() - begin) / len(seeds)


def time_dataset(n_train: int, n_test: int, seconds: float, sample_rate: int, jobs: int):
    """``(seconds, megabytes on disk)`` to write a dataset in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bench-synthetic-") as tmp:
        begin = time.perf_counter()
        out = write_dataset(
            Path(tmp) / "synthetic", n_train, n_test, seconds, sample_rate, 0, jobs=jobs
        )
        elapsed = time.perf_counter() - begin
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return elapsed, size / 1e6


def spectrogram_db(x: np.ndarray, sample_rate: int, size: int, hop: int):
    freqs, times, spec = signal.stft(x, sample_rate, nperseg=size, noverlap=size - hop)
    return freqs, times, 20 * np.log10(np.abs(spec) + 1e-10)


def zoom_phrase(notes: list[dict]) -> list[dict]:
    """The phrase holding the longest note (the clearest vibrato)."""
    longest = max(notes, key=lambda n: n["end"] - n["vowel_start"])
    return [n for n in notes if n["phrase"] == longest["phrase"]]


def plot_vocals(seed: int, path: Path) -> str:
    """Save the vocals spectrogram figure; return a one-line description of the song."""
    sample_rate = 16000
    song = generate_song(seed, 30.0, sample_rate)
    vocals = song.stems["vocals"].mean(axis=0)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(13, 9), height_ratios=(1, 1.3))
    freqs, times, db = spectrogram_db(vocals, sample_rate, 1024, 256)
    peak = db.max()
    image = top.pcolormesh(
        times, freqs, db, vmin=peak - 80, vmax=peak, shading="auto", cmap="magma"
    )
    top.set_ylim(0, 5000)
    for section in song.sections:
        top.axvline(section["start"], color="w", lw=0.8, ls="--")
        label = section["name"] + ("" if section["vocals"] else "\n(no vocals)")
        top.text(section["start"] + 0.15, 4850, label, color="w", fontsize=8, va="top")
    top.set_title(
        f"Synthetic vocals, seed {seed}: {song.voice}, {song.key}, {song.tempo:g} BPM "
        "(black = exact digital silence)"
    )
    top.set_xlabel("time (s)")
    top.set_ylabel("frequency (Hz)")
    fig.colorbar(image, ax=top, label="dB")

    phrase = zoom_phrase(song.notes)
    first, last = phrase[0]["start"] - 0.15, phrase[-1]["end"] + 0.15
    excerpt = vocals[int(first * sample_rate) : int(last * sample_rate)]
    freqs, times, db = spectrogram_db(excerpt, sample_rate, 2048, 64)
    peak = db.max()
    image = bottom.pcolormesh(
        times + first, freqs, db, vmin=peak - 70, vmax=peak, shading="auto", cmap="magma"
    )
    bottom.set_ylim(0, 4000)
    for note in phrase:
        f0 = 440.0 * 2 ** ((note["pitch"] - 69) / 12)
        bottom.hlines(f0, note["vowel_start"], note["end"], color="c", lw=1, ls=":")
        bottom.axvline(note["start"], color="w", lw=0.5, alpha=0.5)
        bottom.text(note["start"] + 0.01, 3850, note["syllable"], color="w", fontsize=11)
    bottom.set_title(
        f"Phrase {phrase[0]['phrase']}: harmonics with glides and delayed vibrato, vowel "
        "formants, consonant noise (dotted: score f0)"
    )
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("frequency (Hz)")
    fig.colorbar(image, ax=bottom, label="dB")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return f"seed {seed}: {song.voice}, {song.key}, {song.tempo:g} BPM, {len(song.notes)} notes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 tracks of 10 s")
    parser.add_argument("--skip-serial", action="store_true", help="no jobs=1 dataset run")
    parser.add_argument("--seed", type=int, default=2, help="song of the picture")
    args = parser.parse_args()
    n_train, n_test, seconds = (8, 2, 10.0) if args.quick else (40, 10, 30.0)

    rows = []
    for sample_rate, count in ((16000, 5), (44100, 2)):
        mean = time_songs(range(count), seconds, sample_rate)
        what = f"generate_song, {seconds:g} s at {sample_rate / 1000:g} kHz (mean of {count})"
        rows.append((what, mean, seconds / mean, ""))
        print(f"{what}: {mean:.2f} s")
    for jobs in (2,) if args.skip_serial else (2, 1):
        elapsed, megabytes = time_dataset(n_train, n_test, seconds, 16000, jobs)
        tracks = n_train + n_test
        what = f"write_dataset, {tracks} x {seconds:g} s at 16 kHz, jobs={jobs}"
        rows.append((what, elapsed, tracks * seconds / elapsed, f"{megabytes:.0f} MB"))
        print(f"{what}: {elapsed:.1f} s")
    picture = plot_vocals(args.seed, HERE / "synthetic_vocals.png")

    lines = [
        "# Synthetic song generator",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared), "
        f"load average {os.getloadavg()[0]:.1f} at the end (other processes), "
        f"Python {platform.python_version()}, numpy {np.__version__}. "
        "Run: `python benchmarks/bench_synthetic.py`"
        + (" --quick" if args.quick else "")
        + ". Wall-clock times, one measurement per row.",
        "",
        "| what | seconds | audio seconds per second | on disk |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {w} | {t:.2f} | {r:.0f} | {d} |" for w, t, r, d in rows),
        "",
        f"`synthetic_vocals.png`: the vocals of the song with {picture}.",
        "",
    ]
    write_text(HERE / "bench_synthetic.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
