"""Benchmark of wiass.metrics against museval (BSSEval v4) and against a per-frame loop (PES/EPS).

    .venv/bin/python benchmarks/bench_metrics.py [--seconds 60] [--musdb-seconds 240]
        [--museval-seconds 60] [--out benchmarks/bench_metrics.md]

A generated 44.1 kHz stereo track with 4 sources (coloured noise with envelopes, silent
stretches, references quantised to 16 bit like audio read from a PCM file; estimates are
filtered references with leakage, noise and one silent stretch):

1. ``museval.evaluate(refs, ests, win=44100, hop=44100)`` (mode v4) and
   ``wiass.metrics.bss_eval_v4`` each run once in a fresh child process: wall time, peak memory
   (``ru_maxrss`` of the child, read before and after the call), and the largest absolute
   difference of their results in dB over the frames both call finite (plus equality of the NaN
   pattern).
2. ``wiass.metrics.pes_eps`` (vectorised) against the straightforward per-frame Python loop,
   per source, for 1 s frames with a 1 s hop (60 frames) and with a 10 ms hop (5901 frames).
3. A MUSDB18-sized track: ``--musdb-seconds`` (4 minutes) of 44.1 kHz stereo, 2 sources
   (vocals with silent stretches, accompaniment), scored the way ``wiass experiment`` and
   ``wiass evaluate`` score a track: ``wiass.metrics.evaluate_track`` (BSSEval v4 with its
   conditioning check, PES, EPS) in a fresh child process; goal < 15 s. museval runs on the
   first ``--museval-seconds`` only (it takes minutes on the whole track on this machine), and
   so does wiass a second time, for a like-for-like ratio and the largest difference.

The table is printed and written (atomically) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.signal

SAMPLE_RATE = 44100
N_SOURCES = 4
CHANNELS = 2
WIN = HOP = SAMPLE_RATE
FAST_HOP = SAMPLE_RATE // 100
GOALS = {"speedup": 10.0, "max_diff_db": 0.01, "pes_eps_speedup": 100.0, "musdb_seconds": 15.0}


def make_musdb_track(seconds: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Vocals and accompaniment ``(2, samples, 2)`` float32 (museval layout): the vocals band-
    passed noise with a syllable-rate envelope and silent stretches (intro, two breaks), the
    accompaniment broadband noise with a beat; 16-bit references; estimates = filtered
    references + 15 % of the other source + noise, with one silent stretch."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    b, a = scipy.signal.butter(2, [200 / 22050, 8000 / 22050], btype="band")
    vocals = scipy.signal.lfilter(b, a, rng.standard_normal((n, CHANNELS)), axis=0)
    vocals *= (0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t))[:, None]
    beat = 0.5 + 0.5 * (np.sin(2 * np.pi * 2.0 * t) > 0.6)
    accompaniment = rng.standard_normal((n, CHANNELS)) * beat[:, None]
    refs = 0.1 * np.stack([vocals, 0.7 * accompaniment])
    for start, stop in ((0.0, 6.0), (0.4 * seconds, 0.4 * seconds + 6.5), (seconds - 9.0, seconds)):
        refs[0, int(start * SAMPLE_RATE) : int(stop * SAMPLE_RATE)] = 0.0
    refs = np.round(refs * 32767) / 32767
    smeared = scipy.signal.lfilter([0.8, 0.3, -0.1], [1.0], refs, axis=1)
    ests = smeared + 0.15 * refs[::-1] + 0.003 * rng.standard_normal(refs.shape)
    ests[0, int(0.7 * seconds * SAMPLE_RATE) : int((0.7 * seconds + 2.2) * SAMPLE_RATE)] = 0.0
    return refs.astype(np.float32), ests.astype(np.float32)


def make_track(seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """References and estimates ``(sources, samples, channels)`` float32 (museval layout)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    refs = np.empty((N_SOURCES, n, CHANNELS))
    for j, cutoff in enumerate((0.5, 0.9, 0.05, 0.3)):
        b, a = scipy.signal.butter(2, cutoff) if cutoff < 0.9 else ([1.0], [1.0])
        noise = rng.standard_normal((n, CHANNELS))
        envelope = 0.55 + 0.45 * np.sin(2 * np.pi * (0.2 + 0.3 * j) * t + j)
        refs[j] = 0.1 * scipy.signal.lfilter(b, a, noise, axis=0) * envelope[:, None]
    silences = {0: [(0.0, 8.0), (25.0, 28.5)], 2: [(40.0, 42.0)], 3: [(50.5, 53.0)]}
    for j, spans in silences.items():
        for start, stop in spans:
            refs[j, int(start * SAMPLE_RATE) : int(stop * SAMPLE_RATE)] = 0.0
    refs = np.round(refs * 32767) / 32767
    smeared = scipy.signal.lfilter([0.8, 0.3, -0.1], [1.0], refs, axis=1)
    ests = smeared + 0.15 * np.roll(refs, 1, axis=0) + 0.003 * rng.standard_normal(refs.shape)
    ests[1, int(30.2 * SAMPLE_RATE) : int(33.0 * SAMPLE_RATE)] = 0.0
    ests[0, int(2.0 * SAMPLE_RATE) : int(6.0 * SAMPLE_RATE)] = 0.0
    return refs.astype(np.float32), ests.astype(np.float32)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    ``VmHWM`` from ``/proc/self/status`` (the high-water mark of this process's own memory,
    reset by exec) where available; ``ru_maxrss`` otherwise, which on Linux can start at the
    parent's peak because it survives exec.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _track_call(refs: np.ndarray, ests: np.ndarray):
    """``wiass.metrics.evaluate_track`` of 2 sources, results as ``(4, sources, frames)``; the
    number of conditioning warnings is printed."""
    import warnings

    from wiass.metrics import evaluate_track

    names = ("vocals", "accompaniment")

    def call():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scores = evaluate_track(
                {n: refs[j].T for j, n in enumerate(names)},
                {n: ests[j].T for j, n in enumerate(names)},
                SAMPLE_RATE,
            )
        print(json.dumps({"warnings": len(caught)}))
        targets = [scores.targets[n] for n in names]
        return [[getattr(t, m) for t in targets] for m in ("sdr", "isr", "sir", "sar")]

    return call


def run_child(method: str, data: Path) -> None:
    """Child process: load the track, run one implementation once, report time and memory."""
    refs = np.load(data / "refs.npy")
    ests = np.load(data / "ests.npy")
    if method == "museval":
        import museval

        def call():
            return museval.evaluate(refs, ests, win=WIN, hop=HOP, mode="v4")
    elif method == "wiass-track":
        call = _track_call(refs, ests)
    else:
        from wiass.metrics import bss_eval_v4

        def call():
            return bss_eval_v4(refs, ests, WIN, HOP)

    baseline = peak_rss_mib()
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    peak = peak_rss_mib()
    np.save(data / f"{method}.npy", np.array(result, dtype=np.float64))
    print(json.dumps({"seconds": elapsed, "baseline_mib": baseline, "peak_mib": peak}))


def _spawn(method: str, data: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", method, "--data", str(data)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{method} child failed:\n{done.stderr}")
    result = {}
    for line in done.stdout.strip().splitlines():
        if line.startswith("{"):
            result.update(json.loads(line))
    return result


def bench_musdb(seconds: float, museval_seconds: float) -> dict:
    """Section 3: wiass on the whole MUSDB18-sized track, museval and wiass on its start."""
    refs, ests = make_musdb_track(seconds)
    n_short = int(museval_seconds * SAMPLE_RATE)
    out: dict = {"seconds": seconds, "museval_seconds": museval_seconds}
    with tempfile.TemporaryDirectory(prefix="bench_metrics.") as tmp:
        data = Path(tmp)
        np.save(data / "refs.npy", refs)
        np.save(data / "ests.npy", ests)
        out["wiass_full"] = _spawn("wiass-track", data)
        np.save(data / "refs.npy", refs[:, :n_short])
        np.save(data / "ests.npy", ests[:, :n_short])
        out["wiass_short"] = _spawn("wiass-track", data)
        (data / "wiass.npy").write_bytes((data / "wiass-track.npy").read_bytes())
        out["museval_short"] = _spawn("museval", data)
        out["compare"] = compare(data)
    return out


def musdb_report(result: dict) -> list[str]:
    """The lines of section 3."""
    full, short, mus = result["wiass_full"], result["wiass_short"], result["museval_short"]
    met = full["seconds"] < GOALS["musdb_seconds"]
    cmp = result["compare"]
    return [
        "## A MUSDB18-sized track: wiass.metrics.evaluate_track (BSSEval v4 + PES/EPS)",
        "",
        f"{result['seconds']:g} s of 44.1 kHz stereo, 2 sources (vocals with silent "
        "stretches, accompaniment), 16-bit references, 1 s frames; scored as `wiass "
        "experiment` and `wiass evaluate` score a track (BSSEval with its conditioning check, "
        "PES, EPS). Each run once in a fresh child process.",
        "",
        "| run | audio (s) | wall time (s) | peak RSS added (MiB) | goal | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        f"| wiass, whole track | {result['seconds']:g} | {full['seconds']:.2f} | "
        f"{full['peak_mib'] - full['baseline_mib']:.0f} | < {GOALS['musdb_seconds']:g} s | "
        f"{_check(met)} |",
        f"| wiass, first {result['museval_seconds']:g} s | {result['museval_seconds']:g} | "
        f"{short['seconds']:.2f} | {short['peak_mib'] - short['baseline_mib']:.0f} | | |",
        f"| museval, first {result['museval_seconds']:g} s | {result['museval_seconds']:g} | "
        f"{mus['seconds']:.2f} | {mus['peak_mib'] - mus['baseline_mib']:.0f} | | |",
        "",
        f"On the same {result['museval_seconds']:g} s excerpt museval takes "
        f"{mus['seconds'] / short['seconds']:.1f}x as long as wiass; largest difference "
        f"{cmp['max_diff_db']:.1e} dB, same NaN frames: {_check(cmp['same_nan_pattern'])}. "
        "museval did not run on the whole track, to keep the run short on this shared machine. "
        f"Conditioning warnings: {full['warnings']} (whole track), "
        f"{short['warnings']} (excerpt).",
        "",
    ]


def pes_eps_loop(ref: np.ndarray, est: np.ndarray, win: int, hop: int) -> tuple[np.ndarray, ...]:
    """PES/EPS by the definition, one frame at a time (complete frames, EPS on every frame).

    A fair numpy loop: the silence tests stop at the first non-zero sample and energies are
    computed (in float64) only on the frames that need them.
    """
    n_frames = int(np.ceil((ref.shape[0] - win) / hop)) + 1
    pes, eps, pes_frames, eps_frames = [], [], [], []
    for k in range(n_frames):
        start, stop = k * hop, k * hop + win
        if stop > ref.shape[0]:
            continue
        r, e = ref[start:stop], est[start:stop]
        if not np.any(r):
            pes.append(10 * np.log10(np.sum(e.astype(np.float64) ** 2) + 1e-12))
            pes_frames.append(k)
        if not np.any(e):
            eps.append(10 * np.log10(np.sum(r.astype(np.float64) ** 2) + 1e-12))
            eps_frames.append(k)
    return np.array(pes), np.array(eps), np.array(pes_frames), np.array(eps_frames)


def _best_time(function, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_pes_eps(refs: np.ndarray, ests: np.ndarray, hop: int, loop_repeats: int) -> dict:
    from wiass.metrics import pes_eps

    def vectorised():
        return [pes_eps(refs[j], ests[j], WIN, hop) for j in range(N_SOURCES)]

    def loop():
        return [pes_eps_loop(refs[j], ests[j], WIN, hop) for j in range(N_SOURCES)]

    t_vec, fast = _best_time(vectorised, 5)
    t_loop, slow = _best_time(loop, loop_repeats)
    same_frames = all(
        np.array_equal(a.pes_frames, b[2]) and np.array_equal(a.eps_frames, b[3])
        for a, b in zip(fast, slow, strict=True)
    )
    diffs = [np.abs(a.pes - b[0]).max(initial=0.0) for a, b in zip(fast, slow, strict=True)]
    diffs += [np.abs(a.eps - b[1]).max(initial=0.0) for a, b in zip(fast, slow, strict=True)]
    return {
        "hop": hop,
        "frames": (refs.shape[1] - WIN) // hop + 1,
        "pes_values": int(sum(a.pes.size for a in fast)),
        "eps_values": int(sum(a.eps.size for a in fast)),
        "vectorised_s": t_vec,
        "loop_s": t_loop,
        "loop_repeats": loop_repeats,
        "same_frames": same_frames,
        "max_diff_db": float(max(diffs)),
    }


def compare(data: Path) -> dict[str, float]:
    expected = np.load(data / "museval.npy")
    got = np.load(data / "wiass.npy")
    finite = np.isfinite(expected) & np.isfinite(got)
    return {
        "same_nan_pattern": bool(np.array_equal(np.isnan(expected), np.isnan(got))),
        "same_inf_pattern": bool(np.array_equal(np.isinf(expected), np.isinf(got))),
        "max_diff_db": float(np.max(np.abs(expected[finite] - got[finite]))),
        "nan_frames": int(np.isnan(expected[0, 0]).sum()),
        "frames": int(expected.shape[-1]),
    }


def _check(ok: bool) -> str:
    return "yes" if ok else "NO"


def report(seconds: float, bss: dict, runs: dict, pes: list[dict]) -> str:
    mus, wia = runs["museval"], runs["wiass"]
    speedup = mus["seconds"] / wia["seconds"]
    mus_extra = mus["peak_mib"] - mus["baseline_mib"]
    wia_extra = wia["peak_mib"] - wia["baseline_mib"]
    load = os.getloadavg()
    lines = [
        "# wiass.metrics benchmark",
        "",
        f"Track: {seconds:g} s, {SAMPLE_RATE} Hz, {CHANNELS} channels, {N_SOURCES} sources "
        f"(generated, float32); frames win = hop = {WIN} samples "
        f"({bss['frames']} frames, {bss['nan_frames']} NaN because a source is silent).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs; "
        f"load average at the end {load[0]:.1f}), Python {platform.python_version()}, "
        f"numpy {np.__version__}.",
        "",
        "## BSSEval v4: museval.evaluate vs wiass.metrics.bss_eval_v4",
        "",
        "| | museval | wiass | ratio | goal | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        f"| wall time (s) | {mus['seconds']:.2f} | {wia['seconds']:.2f} | {speedup:.1f}x faster"
        f" | >= {GOALS['speedup']:g}x | {_check(speedup >= GOALS['speedup'])} |",
        f"| peak RSS of the process (MiB) | {mus['peak_mib']:.0f} | {wia['peak_mib']:.0f} | "
        f"{mus['peak_mib'] / wia['peak_mib']:.1f}x less | <= museval | "
        f"{_check(wia['peak_mib'] <= mus['peak_mib'])} |",
        f"| peak RSS added by the call (MiB) | {mus_extra:.0f} | {wia_extra:.0f} | "
        f"{mus_extra / max(wia_extra, 1.0):.1f}x less | <= museval | "
        f"{_check(wia_extra <= mus_extra)} |",
        f"| largest abs. difference (dB) | | {bss['max_diff_db']:.2e} | | <= "
        f"{GOALS['max_diff_db']} | {_check(bss['max_diff_db'] <= GOALS['max_diff_db'])} |",
        f"| same NaN / inf frames | | {_check(bss['same_nan_pattern'])} / "
        f"{_check(bss['same_inf_pattern'])} | | identical | "
        f"{_check(bss['same_nan_pattern'] and bss['same_inf_pattern'])} |",
        "",
        "Each implementation runs once in its own fresh child process (same data loaded from "
        ".npy files). Memory is the child's peak resident set size (`VmHWM` of "
        "/proc/self/status, which catches every allocation, FFT and LAPACK work space "
        "included): 'of the process' is the peak over the child's life (interpreter, imports "
        "- museval pulls in musdb and pandas - and the 2 x "
        f"{bss['input_mib']:.0f} MiB of input), 'added by the call' is that peak minus the peak "
        "reached before the call.",
        "",
        "## PES / EPS: wiass.metrics.pes_eps (vectorised) vs a per-frame Python loop",
        "",
        "| hop | frames per source | PES / EPS values | vectorised (s) | loop (s) | ratio | "
        "same frames | max abs. diff (dB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for row in pes:
        lines.append(
            f"| {row['hop']} | {row['frames']} | {row['pes_values']} / {row['eps_values']} | "
            f"{row['vectorised_s']:.4f} | {row['loop_s']:.4f} | "
            f"{row['loop_s'] / row['vectorised_s']:.1f}x | {_check(row['same_frames'])} | "
            f"{row['max_diff_db']:.1e} |"
        )
    lines += [
        "",
        f"All {N_SOURCES} sources, win = {WIN}; times are the best of 5 runs (the loop with the "
        "10 ms hop: best of "
        f"{pes[-1]['loop_repeats']}). Goal: >= {GOALS['pes_eps_speedup']:g}x faster, identical. "
        "The loop is a fair numpy loop (its silence tests stop at the first non-zero sample, "
        "energies only where needed). Both versions must read every sample of the silent "
        "frames and compute the other signal's energy there; with a 1 s hop the loop has only "
        "one iteration per second of audio, so that shared work dominates and the ratio "
        "measures mostly the loop's per-frame Python overhead. With a 10 ms hop (overlapping "
        "frames) the loop re-reads every silent sample win/hop times while the vectorised "
        "version reads it once (blocks of gcd(win, hop) samples). Values differ only by the "
        "order of the floating-point sums.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--musdb-seconds", type=float, default=240.0)
    parser.add_argument("--museval-seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".md"))
    parser.add_argument(
        "--child", choices=["museval", "wiass", "wiass-track"], help=argparse.SUPPRESS
    )
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.data)
        return

    refs, ests = make_track(args.seconds)
    with tempfile.TemporaryDirectory(prefix="bench_metrics.") as tmp:
        data = Path(tmp)
        np.save(data / "refs.npy", refs)
        np.save(data / "ests.npy", ests)
        runs = {method: _spawn(method, data) for method in ("museval", "wiass")}
        bss = compare(data)
    bss["input_mib"] = refs.nbytes / 2**20
    pes = [
        bench_pes_eps(refs, ests, HOP, loop_repeats=5),
        bench_pes_eps(refs, ests, FAST_HOP, loop_repeats=1),
    ]
    musdb = bench_musdb(args.musdb_seconds, args.museval_seconds)
    text = report(args.seconds, bss, runs, pes) + "\n" + "\n".join(musdb_report(musdb))
    print(text)
    print(json.dumps({"bss": bss, "runs": runs, "pes_eps": pes, "musdb": musdb}, indent=1))

    from wiass.files import write_text

    write_text(args.out, text)


if __name__ == "__main__":
    main()
