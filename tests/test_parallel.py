"""wiass.parallel.run_tasks: results in the order of the tasks, here or in worker processes, a
progress bar that counts them, and a worker that dies as the caller's one-line error."""

from __future__ import annotations

import io
import math
import os

import pytest
from tqdm import tqdm

from wiass.errors import OutputError
from wiass.parallel import run_tasks


def died(task: object) -> OutputError:
    return OutputError(f"task {task}: its worker died")


@pytest.mark.parametrize("jobs", [1, 2])
def test_results_come_in_the_order_of_the_tasks(jobs):
    tasks = [9.0, 1.0, 16.0, 4.0, 25.0]
    with tqdm(total=len(tasks), file=io.StringIO()) as bar:
        results = run_tasks(math.sqrt, tasks, jobs, bar, str, died)
        assert bar.n == len(tasks) and bar.postfix in {str(task) for task in tasks}
    assert results == [3.0, 1.0, 4.0, 2.0, 5.0]


def test_an_error_of_the_function_reaches_the_caller_as_it_is():
    with tqdm(total=2, disable=True) as bar, pytest.raises(ValueError, match="math domain"):
        run_tasks(math.sqrt, [4.0, -1.0], 2, bar, str, died)


def test_a_worker_that_dies_is_the_callers_error():
    with tqdm(total=2, disable=True) as bar, pytest.raises(OutputError, match="its worker died"):
        run_tasks(os._exit, [3, 3], 2, bar, str, died)
