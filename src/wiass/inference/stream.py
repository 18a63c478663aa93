"""Streaming separation: resample, cut into chunks, separate, crossfade, resample back.

For a mixture of any sample rate and channel count, given as consecutive ``(C, n)`` blocks::

    mixture (C, T) at its rate ──soxr──► model rate ──► overlapping chunks
        ──► batches through :class:`~wiass.inference.runner.ChunkRunner` (``workers`` at once,
            in threads) ──► crossfaded vocals at the model rate
    vocals at the model rate ──soxr──► vocals at the input rate; accompaniment = mixture - vocals

Files are read, resampled (``soxr.ResampleStream``, which gives the same samples as
:func:`wiass.audio.resample`), separated and written block by block, so memory stays bounded
whatever the file's length. The accompaniment is the exact complement of the vocals at the
input rate.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from wiass.errors import AudioError
from wiass.inference.chunks import batch_sizes, resampled_length
from wiass.inference.runner import Chunk, ChunkRunner

READ_BLOCK = 65_536
"""Samples per channel read (and written) at a time."""


class Resampler:
    """A soxr stream ``(C, n)`` blocks in, ``(C, k)`` out, giving exactly ``total`` samples."""

    def __init__(self, sr_in: int, sr_out: int, channels: int, total: int) -> None:
        self.stream = None
        if sr_in != sr_out:
            self.stream = soxr.ResampleStream(
                sr_in, sr_out, channels, dtype="float32", quality="HQ"
            )
        self.remaining = total

    def push(self, block: np.ndarray, last: bool) -> np.ndarray:
        out = block
        if self.stream is not None:
            out = self.stream.resample_chunk(np.ascontiguousarray(block.T), last=last).T
        out = out[:, : self.remaining]
        if last and out.shape[1] < self.remaining:
            out = np.pad(out, ((0, 0), (0, self.remaining - out.shape[1])))
        self.remaining -= out.shape[1]
        return np.ascontiguousarray(out, dtype=np.float32)


class _Chunker:
    """Cuts a stream of blocks into the planned ``[start, end)`` chunks (copies), zero-padding
    the stream's end up to the end of the last chunk."""

    def __init__(self, chunks: list[tuple[int, int]]) -> None:
        self.chunks = chunks
        self.next = 0
        self.blocks: list[np.ndarray] = []
        self.start = 0
        self.size = 0

    def push(self, block: np.ndarray, last: bool) -> Iterator[Chunk]:
        if last and self.chunks:
            missing = self.chunks[-1][1] - (self.start + self.size + block.shape[1])
            block = np.pad(block, ((0, 0), (0, max(0, missing))))
        self.blocks.append(block)
        self.size += block.shape[1]
        while self.next < len(self.chunks) and self.start + self.size >= self.chunks[self.next][1]:
            buffer = np.concatenate(self.blocks, axis=1) if len(self.blocks) > 1 else self.blocks[0]
            begin, end = self.chunks[self.next]
            chunk = np.array(buffer[:, begin - self.start : end - self.start])
            self.next += 1
            keep = self.chunks[self.next][0] if self.next < len(self.chunks) else end
            rest = buffer[:, keep - self.start :].copy()
            self.blocks, self.start, self.size = [rest], keep, rest.shape[1]
            yield self.next - 1, begin, chunk


class _Fifo:
    """A queue of ``(C, n)`` blocks read back by sample count."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []

    def push(self, block: np.ndarray) -> None:
        self.blocks.append(block)

    def pop(self, count: int) -> np.ndarray:
        taken, have = [], 0
        while have < count:
            block = self.blocks.pop(0)
            need = count - have
            if block.shape[1] > need:
                self.blocks.insert(0, block[:, need:])
                block = block[:, :need]
            taken.append(block)
            have += block.shape[1]
        return np.concatenate(taken, axis=1) if len(taken) > 1 else taken[0]


class _Joiner:
    """Overlap-adds the weighted chunks in order, resamples the finished part back to the
    mixture's rate and pairs it with the mixture: ``(vocals, accompaniment)`` blocks."""

    def __init__(self, runner: ChunkRunner, down: Resampler, total: int) -> None:
        self.overlap = runner.overlap
        self.chunks = runner.chunks
        self.total = total
        self.down = down
        self.mixture = _Fifo()
        self.pending: np.ndarray | None = None

    def add(self, index: int, vocals: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Take chunk ``index``'s weighted vocals ``(C, L)`` (chunks come in order)."""
        start, end = self.chunks[index]
        first = 0
        if self.pending is not None:
            first = self.chunks[index - 1][1] - self.overlap - start
            vocals[:, first : first + self.overlap] += self.pending
        last = index == len(self.chunks) - 1
        stop = min(end if last else end - self.overlap, self.total) - start
        self.pending = None if last else vocals[:, end - start - self.overlap :]
        out = self.down.push(vocals[:, first:stop], last)
        if not out.shape[1]:
            return None
        return out, self.mixture.pop(out.shape[1]) - out


def stream_separation(
    blocks: Iterable[np.ndarray],
    n_samples: int,
    sample_rate: int,
    channels: int,
    runner: ChunkRunner,
    progress: Any = None,
    name: str = "mixture",
    workers: int = 1,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Separate a mixture given as consecutive ``(C, n)`` blocks at ``sample_rate`` (``n_samples``
    in all); yields ``(vocals, accompaniment)`` blocks at the same rate, ``n_samples`` in all.
    Chunks run through the model ``runner.batch_chunks`` at a time, ``workers`` batches at
    once in threads. ``progress``: a tqdm bar advanced once per chunk, or None; ``name``
    names the mixture in errors."""
    n_model = resampled_length(n_samples, sample_rate, runner.sample_rate)
    down = Resampler(runner.sample_rate, sample_rate, channels, n_samples)
    joiner = _Joiner(runner, down, n_model)
    batches = _batches(blocks, n_samples, sample_rate, channels, runner, joiner, name)
    for results in ordered_map(runner, batches, workers):
        for result in results:
            runner.record(result)
            if progress is not None:
                progress.update(1)
            output = joiner.add(result.index, result.vocals)
            if output is not None:
                yield output


def _batches(
    blocks: Iterable[np.ndarray],
    n_samples: int,
    sample_rate: int,
    channels: int,
    runner: ChunkRunner,
    joiner: _Joiner,
    name: str,
) -> Iterator[list[Chunk]]:
    """Batches of chunks at the model's rate from the mixture's blocks (which also go to the
    joiner, to be paired with the vocals)."""
    n_model = resampled_length(n_samples, sample_rate, runner.sample_rate)
    up = Resampler(sample_rate, runner.sample_rate, channels, n_model)
    chunker = _Chunker(runner.chunks)
    n_chunks = len(runner.chunks)
    ends = {int(end) - 1 for end in np.cumsum(batch_sizes(n_chunks, runner.batch_chunks))}
    batch: list[Chunk] = []
    read = 0
    for block in blocks:
        read += block.shape[1]
        joiner.mixture.push(block)
        for chunk in chunker.push(up.push(block, read >= n_samples), read >= n_samples):
            batch.append(chunk)
            if chunk[0] in ends:
                yield batch
                batch = []
    if read != n_samples or chunker.next != n_chunks:
        raise AudioError(f"{name}: ended after {read} of {n_samples} samples")


def ordered_map(
    function: Callable[[Any], Any], items: Iterable[Any], workers: int
) -> Iterator[Any]:
    """``map(function, items)`` with up to ``workers`` calls running at once in threads
    (torch releases the GIL), results in order; items are drawn only as workers free up."""
    if workers <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: deque[Future[Any]] = deque()
        for item in items:
            running.append(pool.submit(function, item))
            if len(running) >= workers:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()


def array_blocks(audio: np.ndarray) -> Iterator[np.ndarray]:
    """``audio (C, T)`` as consecutive ``(C, READ_BLOCK)`` views (the last one shorter)."""
    for begin in range(0, audio.shape[1], READ_BLOCK):
        yield audio[:, begin : begin + READ_BLOCK]


def file_blocks(path: Path) -> Iterator[np.ndarray]:
    """An audio file as consecutive float32 ``(C, READ_BLOCK)`` blocks; AudioError when it
    cannot be read."""
    try:
        with sf.SoundFile(str(path)) as file:
            while True:
                data = file.read(READ_BLOCK, dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    return
                yield np.ascontiguousarray(data.T)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: cannot be read ({exc})") from exc


def progress_bar(total: int, description: str, enabled: bool) -> Any:
    """A tqdm bar of ``total`` chunks on stderr (disabled unless ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit="chunk",
        disable=None if enabled else True,
        leave=False,
        file=sys.stderr,
    )


__all__ = [
    "READ_BLOCK",
    "Resampler",
    "array_blocks",
    "file_blocks",
    "ordered_map",
    "progress_bar",
    "stream_separation",
]
