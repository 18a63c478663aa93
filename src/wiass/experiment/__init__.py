"""The paper's experiment (Table 1) for every side-information kind, with alignment and oracles.

``wiass experiment`` trains ``BL1``, ``BL2``, ``A1``, ``A2``, ``A3.1``, ``A3.2``, ``M1`` and ``M2``
with the same config (budget) and seeds on one dataset, evaluates each on the dataset's test
tracks, and adds reference rows computed from the true stems with the model's STFT: the ideal
ratio mask (``IRM1``: |V| / (|V| + |A|)), the ideal binary mask (``IBM1``: |V| > |A|) and the
mixture as estimate (``Mix``).

Per test track every system gets side information of its kind generated from the true vocals of
the whole track (as in training, minus the random padding, which is not needed on whole tracks)
and is scored the SiSEC / MUSDB18 way (:mod:`wiass.scoring`): at the track's own sample rate
and channels, against its untouched stems (vocals, and the accompaniment as the sum of the
other stems), vocals and accompaniment together, museval v4, 1 s frames: SDR, SIR, SAR (median
over frames), PES and EPS (mean over frames; EPS both over every frame with a silent estimate
and, as in the paper, only where the target is not silent). Over tracks: median and mean; over
seeds: mean and standard deviation of those. The model runs at its own rate: the mixture goes
through :func:`wiass.inference.separate`, which resamples it to the model's rate and the vocals
back to the track's rate and channels (scoring after resampling the references to the model's
rate would leave their top band empty and SIR/SAR meaningless). The oracles are computed at the
track's rate and channels too, with the model's STFT durations (:func:`native_stft`). A track
on which BSSEval is ill-conditioned (:class:`wiass.metrics.IllConditionedWarning`) is marked in
its scores, in ``tracks.csv`` and in the note of Table 1.

Alignment accuracy (generated kinds with a true alignment): for every mixture frame n the true
step is the real (non-padding) step whose described frame is nearest to n; the accuracy is the
share of frames whose attention argmax lies within +-1 step of it, and the attention mass is the
mean over frames of the attention on the steps within +-1 step of it. A step of coarse side
information spans ``frames_per_step`` mixture frames (2 to 6 by default), so +-1 step is a
tighter tolerance in time for fine side information; the alignment table therefore also breaks
the accuracy down by frames per step.

A test track's side information is drawn from the track's index, the same for every training
seed, and the frames per step of the coarse kinds cycle through ``side_info.rate_range`` over
the test tracks so that every rate is tested equally often
(:func:`wiass.sideinfo.whole_track_side_info`).

Run folder::

    OUT/runs/<system>/seed<k>/        a wiass train run (resumable; skipped when finished)
    OUT/scores/<system>-seed<k>.json  per-track scores and alignment figures (skipped when there)
    OUT/museval/<system>-seed<k>/test/<track>.json  museval's per-track JSON (oracles: <oracle>/;
                                      a '.' in a system name becomes '_', so that museval's
                                      MethodStore, which names a method by the folder's stem,
                                      keeps it whole)
    OUT/estimates/<system>-seed<k>/<track>/vocals.wav, accompaniment.wav  with keep_estimates
                                      (32-bit float at the track's rate and channels)
    OUT/attention/<system>.png        attention of one test track per informed system
    OUT/table1.md, table1.csv         Table 1 (one row per system)
    OUT/tracks.csv                    every system's, seed's and track's scores, marks included
    OUT/alignment.md, alignment.csv   the alignment table
    OUT/alignment_by_rate.csv         accuracy and mass per system and frames per step

One module per part: :mod:`~wiass.experiment.systems` (the systems of Table 1),
:mod:`~wiass.experiment.oracles` (IRM1, IBM1, Mix), :mod:`~wiass.experiment.alignment`
(accuracy and mass of an attention), :mod:`~wiass.experiment.evaluation` (scoring a system on
the test tracks), :mod:`~wiass.experiment.figures` (the attention figure),
:mod:`~wiass.experiment.tables` (Table 1, the alignment tables, ``tracks.csv``) and
:mod:`~wiass.experiment.run` (training, evaluating and tabulating, resumably).
"""

from wiass.experiment.alignment import Results, alignment_by_rate, alignment_scores, true_steps
from wiass.experiment.evaluation import (
    EvaluationTracks,
    ScoreFiles,
    evaluate_system,
    model_rate_vocals,
    score_system,
    test_tracks,
)
from wiass.experiment.figures import ZOOM_SECONDS, plot_attention
from wiass.experiment.oracles import ORACLES, evaluate_oracle, native_stft, oracle_vocals
from wiass.experiment.run import (
    ExperimentOptions,
    cached_scores,
    dataset_root,
    load_experiment_config,
    run_experiment,
    train_system,
)
from wiass.experiment.systems import SYSTEMS, System, select_systems
from wiass.experiment.tables import write_tables

__all__ = [
    "ORACLES",
    "SYSTEMS",
    "ZOOM_SECONDS",
    "EvaluationTracks",
    "ExperimentOptions",
    "Results",
    "ScoreFiles",
    "System",
    "alignment_by_rate",
    "alignment_scores",
    "cached_scores",
    "dataset_root",
    "evaluate_oracle",
    "evaluate_system",
    "load_experiment_config",
    "model_rate_vocals",
    "native_stft",
    "oracle_vocals",
    "plot_attention",
    "run_experiment",
    "score_system",
    "select_systems",
    "test_tracks",
    "train_system",
    "true_steps",
    "write_tables",
]
