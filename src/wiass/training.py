"""Training on Lightning: the LightningModule, the DataModule and the ``wiass train`` run.

A run folder (``--out``) holds::

    config.yaml               the full config of the run (read back by --resume)
    data.txt                  the dataset folder it trains on (read back by --resume)
    checkpoints/last.ckpt     Lightning checkpoint after every epoch (resume from here)
    checkpoints/best.ckpt     the epoch with the lowest validation loss
    separator.pt              the best weights as a slim wiass checkpoint (wiass.load_separator)
    logs/csv/version_K/       metrics.csv, hparams.yaml
    logs/tensorboard/version_K/

Data: the DataModule builds its datasets in the main process, which decodes the stems into
memory once (``data.cache_mb``) before the DataLoader workers fork and share them; examples are
waveforms, and the STFT runs batched in the training step.

Scaling: with ``devices * num_nodes > 1`` the run uses Lightning's DDP strategy; under torchrun
or SLURM Lightning reads the ranks from the environment, and started by hand it launches one
process per device itself (re-running the same ``wiass train`` command). Every process draws its
own share of the epoch's examples through the distributed sampler.

Precision: ``train.precision: auto`` (the presets' choice) trains in ``bf16-mixed`` where the
device really runs the model in bfloat16 (a CUDA GPU with bf16; a CPU whose oneDNN runs a
bfloat16 LSTM, found once by a tiny training step: :func:`bf16_support`) and in ``32-true``
elsewhere; the run logs one line saying which and why. An explicit ``bf16-mixed`` that the device
cannot run is a :class:`~wiass.errors.ConfigError` before anything is written.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_info
from torch.nn import functional
from torch.utils.data import DataLoader

from wiass.config import Config, check_values, load_config
from wiass.data.dataset import SeparationDataset, batch_magnitudes, collate
from wiass.data.tracks import TrackSource, open_source
from wiass.errors import CheckpointError, ConfigError, OutputError
from wiass.files import write_text
from wiass.precision import bf16_support
from wiass.separator import build_model, load_separator, save_separator, separator_payload
from wiass.sideinfo import check_params, get_kind
from wiass.transforms import magnitude

LOSSES = {"l1": functional.l1_loss, "mse": functional.mse_loss}
PRECISIONS = ("auto", "32-true", "bf16-mixed", "16-mixed")
"""What ``train.precision`` accepts: ``auto`` (:func:`resolve_precision`) or a Lightning
precision (``16-mixed`` needs a CUDA GPU)."""
SYNTHETIC_SECONDS = 30.0
"""Length of the songs of the synthetic default dataset."""
NORMALIZATION_EXAMPLES = 32
"""Excerpts of the training tracks (fixed by the seed) whose mixture magnitudes give the
model's per-bin input mean and standard deviation."""


def check_config(config: Config, accelerator: str = "auto") -> None:
    """Raise :class:`ConfigError` for a config that cannot be trained on ``accelerator``: an
    unknown loss or precision, an impossible value (:func:`wiass.config.check_values`), a
    precision the device cannot run."""
    if config.train.loss not in LOSSES:
        raise ConfigError(
            f"train.loss: expected one of {sorted(LOSSES)}, got {config.train.loss!r}"
        )
    check_values(config)
    get_kind(config.side_info.kind)
    check_params(config.side_info)
    resolve_precision(config.train.precision, accelerator)


def training_device(accelerator: str = "auto") -> str:
    """The device kind (``cuda``, ``mps`` or ``cpu``) that Lightning picks for ``accelerator``."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if accelerator == "cuda" or (accelerator in ("gpu", "auto") and cuda):
        return "cuda"
    if accelerator == "mps" or (accelerator in ("gpu", "auto") and mps):
        return "mps"
    return "cpu"


def resolve_precision(requested: str, accelerator: str = "auto") -> tuple[str, str]:
    """The Lightning precision for ``train.precision = requested`` on ``accelerator``, and one
    line saying which and why; :class:`ConfigError` when the device cannot run it."""
    if requested not in PRECISIONS:
        raise ConfigError(f"train.precision: expected one of {PRECISIONS}, got {requested!r}")
    device = training_device(accelerator)
    if requested == "16-mixed" and device != "cuda":
        raise ConfigError(f"train.precision: 16-mixed needs a CUDA GPU; training runs on {device}")
    if requested not in ("auto", "bf16-mixed"):
        return requested, f"precision: {requested} (as configured)"
    support = bf16_support(device)
    if requested == "bf16-mixed" and not support.ok:
        raise ConfigError(
            f"train.precision: bf16-mixed cannot run here: {support.reason}; "
            "use auto or 32-true (e.g. --precision 32-true)"
        )
    chosen = "bf16-mixed" if support.ok else "32-true"
    how = "auto" if requested == "auto" else "as configured"
    return chosen, f"precision: {chosen} ({how}: {support.reason})"


def check_training_data(config: Config, root: Path | None) -> None:
    """Checks that need the data: the excerpt is no longer than the longest training track of
    ``root`` (None: of the synthetic default songs)."""
    if root is None:
        _check_excerpt(config, SYNTHETIC_SECONDS, "the synthetic default songs")
        return
    source = open_source(
        root,
        "train",
        "train",
        validation_fraction=config.data.validation_fraction,
        sample_rate=config.audio.sample_rate,
    )
    _check_excerpt(config, _longest_seconds(source), source.description)


def _longest_seconds(source: TrackSource) -> float:
    return max((source.length(i) / source.rate(i) for i in range(len(source))), default=0.0)


def _check_excerpt(config: Config, longest: float, description: str) -> None:
    seconds = config.data.excerpt_seconds
    if seconds > longest:
        raise ConfigError(
            f"data.excerpt_seconds: {seconds:g} s is longer than every training track of "
            f"{description} (the longest lasts {longest:.1f} s)"
        )


def symbol_loss(log_probs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
    """Cross-entropy of the recogniser's symbol log-probabilities ``(B, N, V)`` against the
    symbol sung at every frame (``batch["frame_symbols"]``, from the timed lyrics of the
    training songs), mean over frames."""
    labels = batch["frame_symbols"].to(log_probs.device)
    return functional.nll_loss(log_probs.transpose(1, 2), labels)


class SeparatorModule(L.LightningModule):
    """The separator with its loss and optimiser. ``config``: a :meth:`Config.to_dict` dict.

    Batches hold waveforms (:func:`wiass.data.dataset.collate`); every step computes their
    magnitudes in one batched STFT on the training device (:meth:`batch_loss`).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config = Config.from_dict(config)
        self.model = build_model(self.config)
        self.loss_fn = LOSSES[self.config.train.loss]

    def forward(
        self,
        mix: torch.Tensor,
        side_info: torch.Tensor | None = None,
        side_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The model on mixture magnitudes ``(B, N, F)`` and padded side information."""
        if not self.model.informed:
            return self.model(mix)
        return self.model(mix, side_info, side_mask)

    def batch_loss(self, batch: dict[str, Any], stage: str = "train") -> torch.Tensor:
        """The loss of a collated batch: its magnitudes (:func:`batch_magnitudes`, one STFT
        on the batch's device), the model, the loss against the target magnitudes; for a
        symbolic model (lyrics) plus ``train.symbol_weight`` times the loss of its symbol
        recogniser against the symbol sung at every frame (:func:`symbol_loss`)."""
        mix, target = batch_magnitudes(batch, self.config.audio.stft)
        if not self.model.side_symbols:
            estimate, _ = self(mix, batch["side_info"], batch["side_mask"])
            return self.loss_fn(estimate, target)
        estimate, _ = self(mix, batch["side_info"], batch["side_mask"])
        separation = self.loss_fn(estimate, target)
        recognition = symbol_loss(self.model.symbol_log_probs(mix), batch)
        size = len(batch["track"])
        self.log(f"{stage}_separation", separation, on_epoch=True, batch_size=size)
        self.log(f"{stage}_symbols", recognition, on_epoch=True, batch_size=size)
        return separation + self.config.train.symbol_weight * recognition

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss = self.batch_loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_epoch=True, batch_size=len(batch["track"]))
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        loss = self.batch_loss(batch, "val")
        self.log("val_loss", loss, prog_bar=True, sync_dist=True, batch_size=len(batch["track"]))

    def configure_optimizers(self) -> dict[str, Any]:
        train = self.config.train
        optimizer = torch.optim.Adam(
            self.parameters(), lr=train.learning_rate, weight_decay=train.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=train.lr_factor, patience=train.lr_patience
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["wiass"] = separator_payload(self.model, self.config)


class SeparationDataModule(L.LightningDataModule):
    """Training and validation examples of one dataset root (stems folder or MUSDB18)."""

    def __init__(
        self, root: str | os.PathLike[str], config: Config, *, progress: bool = False
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.config = config
        self.progress = progress
        self.train_source = self._source("train")
        self.valid_source = self._source("valid")

    def _source(self, split: str) -> TrackSource:
        return open_source(
            self.root,
            "train",
            split,
            validation_fraction=self.config.data.validation_fraction,
            sample_rate=self.config.audio.sample_rate,
        )

    def train_dataloader(self) -> DataLoader:
        dataset = SeparationDataset(
            self.train_source,
            self.config,
            train=True,
            seed=self.config.train.seed,
            progress=self.progress,
        )
        return self._loader(dataset, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        dataset = SeparationDataset(
            self.valid_source,
            self.config,
            train=False,
            seed=self.config.train.seed,
            progress=self.progress,
        )
        return self._loader(dataset, shuffle=False)

    def _loader(self, dataset: SeparationDataset, shuffle: bool) -> DataLoader:
        """A loader of collated batches; the dataset's stems, loaded here in the main process,
        are shared with the (forked) workers."""
        workers = self.config.data.num_workers
        return DataLoader(
            dataset,
            batch_size=self.config.data.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            persistent_workers=workers > 0,
            collate_fn=collate,
        )

    def normalization(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-bin mean and standard deviation ``(F,)`` of training mixture magnitudes, from
        :data:`NORMALIZATION_EXAMPLES` fixed excerpts (the same in every process), read from
        the files."""
        dataset = SeparationDataset(
            self.train_source,
            self.config,
            train=False,
            kind="none",
            length=NORMALIZATION_EXAMPLES,
            seed=self.config.train.seed,
            cache_mb=0,
        )
        audio = torch.stack([dataset[i]["mix_audio"] for i in range(len(dataset))])
        frames = magnitude(audio, self.config.audio.stft).reshape(-1, self.config.audio.stft.n_bins)
        return frames.mean(dim=0), frames.std(dim=0)


@dataclass
class TrainOptions:
    """What ``wiass train`` asks for beside the config."""

    out: Path
    data: Path | None = None
    devices: int | str = 1
    num_nodes: int = 1
    accelerator: str = "auto"
    resume: bool = False
    progress: bool = True


def prepare_config(
    config_path: str | None,
    out: Path,
    resume: bool,
    *,
    side_info: str | None = None,
    max_epochs: int | None = None,
    seed: int | None = None,
    precision: str | None = None,
    accelerator: str = "auto",
) -> Config:
    """The run's config: the saved one when resuming, else ``config_path``; then the overrides,
    checked (:func:`check_config`) before anything is written."""
    saved = out / "config.yaml"
    if resume:
        if not saved.is_file():
            raise CheckpointError(f"{out}: nothing to resume (no config.yaml from an earlier run)")
        config = load_config(saved)
    else:
        if (out / "checkpoints").exists():
            raise OutputError(
                f"{out}: already holds a training run; use --resume to continue it, "
                "or choose another --out"
            )
        config = load_config(config_path or "small")
    if side_info is not None:
        config.side_info = replace(config.side_info, kind=get_kind(side_info).name)
    overrides = {"max_epochs": max_epochs, "seed": seed, "precision": precision}
    changes = {key: value for key, value in overrides.items() if value is not None}
    config.train = replace(config.train, **changes)
    check_config(config, accelerator)
    return config


def synthetic_default(folder: Path, sample_rate: int, *, n_test: int = 10) -> Path:
    """The embedded default dataset of a run without ``--data``: 40 training and ``n_test``
    test songs of :data:`SYNTHETIC_SECONDS`, synthetic, at ``sample_rate``, written into
    ``folder`` once (kept when its splits are there already); returns ``folder``."""
    from wiass.data.synthetic import write_dataset

    splits = ("train", "test") if n_test else ("train",)
    if not all((folder / split).is_dir() for split in splits):
        write_dataset(
            folder,
            n_train=40,
            n_test=n_test,
            seconds=SYNTHETIC_SECONDS,
            sample_rate=sample_rate,
        )
    return folder


def _data_root(options: TrainOptions, config: Config) -> Path:
    """``--data``; else, when resuming, the run's own dataset; else the synthetic default."""
    if options.data is not None:
        return options.data
    saved = options.out / "data.txt"
    if options.resume and saved.is_file():
        return Path(saved.read_text(encoding="utf-8").strip())
    return synthetic_default(options.out / "data", config.audio.sample_rate)


def check_resume_checkpoint(last: Path, module: SeparatorModule) -> None:
    """Raise :class:`CheckpointError` unless ``last`` is a training checkpoint of ``module``'s
    model that loads with ``weights_only=True`` (no pickled objects: a file never runs code)."""
    if not last.is_file():
        raise CheckpointError(f"{last.parent.parent}: nothing to resume (no checkpoints/last.ckpt)")
    try:
        checkpoint = torch.load(last, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only load failed" not in str(exc).lower():
            raise CheckpointError(f"{last}: damaged, torch cannot read it ({exc})") from None
        raise CheckpointError(
            f"{last}: holds pickled Python objects, which a weights-only load refuses; "
            "wiass resumes only from its own training checkpoints"
        ) from None
    except Exception as exc:
        reason = str(exc).split(". ")[0] or type(exc).__name__
        raise CheckpointError(f"{last}: damaged, torch cannot read it ({reason})") from None
    if not (
        isinstance(checkpoint, dict)
        and isinstance(checkpoint.get("wiass"), dict)
        and isinstance(checkpoint.get("state_dict"), dict)
        and "loops" in checkpoint
    ):
        raise CheckpointError(f"{last}: not a wiass training checkpoint")
    _check_same_model(last, checkpoint["state_dict"], module.state_dict())


def _check_same_model(path: Path, saved: dict[str, Any], expected: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) ^ set(saved))
    if missing:
        raise CheckpointError(
            f"{path}: holds another model than the run's config.yaml (parameter {missing[0]})"
        )
    for key, value in expected.items():
        other = saved[key]
        if not isinstance(other, torch.Tensor) or other.shape != value.shape:
            shape = tuple(other.shape) if isinstance(other, torch.Tensor) else type(other).__name__
            raise CheckpointError(
                f"{path}: holds another model than the run's config.yaml ({key}: "
                f"{shape} instead of {tuple(value.shape)})"
            )


def _trainer(config: Config, options: TrainOptions, precision: str) -> L.Trainer:
    train = config.train
    checkpoints = options.out / "checkpoints"
    callbacks = [
        ModelCheckpoint(
            dirpath=checkpoints, filename="best", monitor="val_loss", save_top_k=1, save_last=True
        ),
        EarlyStopping(monitor="val_loss", patience=train.early_stopping_patience),
        LearningRateMonitor(logging_interval="epoch"),
    ]
    loggers = [
        CSVLogger(options.out / "logs", name="csv"),
        TensorBoardLogger(options.out / "logs", name="tensorboard", default_hp_metric=False),
    ]
    distributed = options.num_nodes > 1 or (
        isinstance(options.devices, int) and options.devices > 1
    )
    return L.Trainer(
        accelerator=options.accelerator,
        devices=options.devices,
        num_nodes=options.num_nodes,
        strategy="ddp" if distributed else "auto",
        max_epochs=train.max_epochs,
        precision=precision,
        max_time={"minutes": train.max_minutes} if train.max_minutes else None,
        gradient_clip_val=train.gradient_clip,
        callbacks=callbacks,
        logger=loggers,
        default_root_dir=options.out,
        enable_progress_bar=options.progress,
        enable_model_summary=options.progress,
        log_every_n_steps=1,
    )


def train(config: Config, options: TrainOptions) -> Path:
    """Train a separator; returns the path of the exported ``separator.pt``.

    Everything that can be checked is checked before the run folder is created or changed: the
    precision, the checkpoint to resume from, the excerpt against the training tracks."""
    out = options.out
    precision, why = resolve_precision(config.train.precision, options.accelerator)
    L.seed_everything(config.train.seed, workers=True, verbose=False)
    module = SeparatorModule(config.to_dict())
    last = out / "checkpoints" / "last.ckpt"
    if options.resume:
        check_resume_checkpoint(last, module)
    else:
        check_training_data(config, options.data)
    data_root = _data_root(options, config)
    datamodule = SeparationDataModule(data_root, config, progress=options.progress)
    out.mkdir(parents=True, exist_ok=True)
    if not options.resume:
        module.model.set_normalization(*datamodule.normalization())
    rank_zero_info(why)
    trainer = _trainer(config, options, precision)
    if trainer.is_global_zero:
        write_text(out / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
        write_text(out / "data.txt", f"{data_root.resolve()}\n")
    trainer.fit(module, datamodule=datamodule, ckpt_path=last if options.resume else None)
    return export_best(out) if trainer.is_global_zero else out / "separator.pt"


def export_best(out: Path) -> Path:
    """Write the best epoch's weights as ``out/separator.pt`` (slim wiass checkpoint)."""
    checkpoints = out / "checkpoints"
    best = checkpoints / "best.ckpt"
    source = best if best.is_file() else checkpoints / "last.ckpt"
    separator = load_separator(source)
    target = out / "separator.pt"
    save_separator(target, separator.model, separator.config)
    return target
