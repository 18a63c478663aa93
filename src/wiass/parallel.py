"""Running independent tasks in worker processes, with a progress bar.

:func:`run_tasks` runs a function on every task, here (one job) or in spawned worker processes,
and returns the results in the order of the tasks. Workers are spawned, not forked: a fork
after BLAS/FFT thread pools have run in this process can deadlock the child. The first failure
cancels the tasks not started yet; a worker process that dies (out of memory, killed) becomes
the caller's one-line :class:`~wiass.errors.WiassError`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from tqdm import tqdm

from wiass.errors import WiassError

Task = TypeVar("Task")
Result = TypeVar("Result")


def run_tasks(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    jobs: int,
    bar: tqdm,
    name: Callable[[Task], str],
    died: Callable[[Task], WiassError],
) -> list[Result]:
    """``[function(task) for task in tasks]``, in ``jobs`` processes when ``jobs > 1`` and
    there is more than one task (``function`` and the tasks must then be picklable).

    ``bar`` advances by one per finished task and shows its ``name``; ``died(task)`` is the
    error raised when the worker process running ``task`` dies. An exception raised by
    ``function`` reaches the caller as it is.
    """
    if jobs == 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            bar.set_postfix_str(name(task), refresh=False)
            results.append(function(task))
            bar.update()
        return results
    return _run_parallel(function, tasks, jobs, bar, name, died)


def _run_parallel(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    jobs: int,
    bar: tqdm,
    name: Callable[[Task], str],
    died: Callable[[Task], WiassError],
) -> list[Result]:
    """:func:`run_tasks` in spawned worker processes; the first failure cancels the rest."""
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context)
    results: dict[int, Result] = {}
    try:
        futures = {executor.submit(function, task): index for index, task in enumerate(tasks)}
        for future in as_completed(futures):
            task = tasks[futures[future]]
            try:
                results[futures[future]] = future.result()
            except BrokenProcessPool as exc:
                raise died(task) from exc
            bar.set_postfix_str(name(task), refresh=False)
            bar.update()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return [results[index] for index in range(len(tasks))]
