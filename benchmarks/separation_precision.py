"""Does separating in bfloat16 change the scores? The shipped models in float32 and in bf16.

``wiass separate --precision auto`` (the default) runs the network in bfloat16 where the device
runs a bf16 LSTM (the experiment scores in float32). This script scores the shipped models on
the test songs of a stems folder twice, in float32 and in bfloat16 (the experiment's
``SCORING_PRECISION`` set to each), through its scoring
(:func:`wiass.experiment.evaluation.score_system`: whole-song side information given
without its alignment, placed by the whole-song alignment, scored with museval-compatible
BSSEval v4, PES, and the placement accuracy), and prints the differences and the CPU time.

Run: ``wiass make-synthetic /tmp/syn200 --train 200 --test 10`` then
``python benchmarks/separation_precision.py --data /tmp/syn200`` (writes
``benchmarks/separation_precision.md``). Needs a CPU or GPU that runs a bf16 LSTM.
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import numpy as np
import torch
from bench_separate import cpu_model

from wiass.experiment import evaluation
from wiass.experiment.evaluation import score_system, test_tracks
from wiass.files import write_text
from wiass.precision import bf16_support
from wiass.separator import load_separator

HERE = Path(__file__).resolve().parent
MODELS = ("BL1", "A3.1", "M2")
PRECISIONS = ("32-true", "bf16-mixed")


def score_model(name: str, data: Path, precision: str) -> dict[str, float]:
    """Median SDR, mean PES, mean placement and drift accuracy over the test songs, and the
    CPU seconds the scoring took (separation, alignment and metrics)."""
    separator = load_separator(name)
    tracks = test_tracks(data)
    evaluation.SCORING_PRECISION = precision
    began = time.process_time()
    scores = [score_system(separator, tracks[k], k)[0] for k in range(len(tracks))]
    cpu = time.process_time() - began

    def pooled(key: str, how) -> float:
        values = [s[key] for s in scores if key in s]
        return float(how(values)) if values else float("nan")

    return {
        "SDR": pooled("SDR", np.median),
        "PES": pooled("PES", np.mean),
        "accuracy": pooled("accuracy", np.mean),
        "drift_accuracy": pooled("drift_accuracy", np.mean),
        "cpu_s": cpu,
        "tracks": len(tracks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="stems folder with test/")
    args = parser.parse_args()
    support = bf16_support("cpu")
    if not support.ok:
        raise SystemExit(f"bf16 cannot run here: {support.reason}")
    torch.set_num_threads(1)
    began = time.perf_counter()
    lines = [
        "| model | precision | SDR (median) | PES (mean) | placement acc. | drift acc. | CPU s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    deltas = []
    for name in MODELS:
        rows = {p: score_model(name, args.data, p) for p in PRECISIONS}
        for precision, row in rows.items():
            line = (
                f"| {name} | {precision} | {row['SDR']:.3f} | {row['PES']:.2f} "
                f"| {row['accuracy']:.3f} | {row['drift_accuracy']:.3f} | {row['cpu_s']:.1f} |"
            )
            print(line, flush=True)
            lines.append(line)
        fp32, bf16 = rows["32-true"], rows["bf16-mixed"]
        deltas.append(
            f"{name}: SDR {bf16['SDR'] - fp32['SDR']:+.3f} dB, PES {bf16['PES'] - fp32['PES']:+.2f}"
            f" dB, placement {bf16['accuracy'] - fp32['accuracy']:+.3f}, CPU time "
            f"x{bf16['cpu_s'] / fp32['cpu_s']:.2f}"
        )
    tracks = rows["32-true"]["tracks"]
    text = "\n".join(
        [
            "# Separation in float32 and in bfloat16: the shipped models' scores",
            "",
            f"`python benchmarks/separation_precision.py --data {args.data}` on "
            f"{cpu_model()}, torch {torch.__version__}, one torch "
            f"thread, {datetime.date.today().isoformat()}; {tracks} test songs; the run took "
            f"{(time.perf_counter() - began) / 60:.1f} min. bf16 here: {support.reason}.",
            "",
            "Each model scores the test songs twice through the experiment's scoring "
            "(whole-song side information without its alignment, placed by the whole-song "
            "alignment; BSSEval v4 SDR median over 1 s frames, then median over songs; PES "
            "mean; placement accuracy within +-1 step and under drift, mean over songs). CPU s: "
            "the whole scoring (separation, the drift placement and metrics), not the network "
            "alone: for these small models the network is a small part of it, so the ratio "
            "says little about the `paper` preset (see `bench_separate.md`).",
            "",
            *lines,
            "",
            "bf16-mixed minus 32-true: " + "; ".join(deltas) + ".",
            "",
        ]
    )
    print(text)
    write_text(HERE / "separation_precision.md", text)


if __name__ == "__main__":
    main()
