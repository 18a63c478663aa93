"""The least-squares systems of BSSEval v4: block-Toeplitz Gram matrices and their solution."""

from __future__ import annotations

import numpy as np

_GRAM_EPS = np.finfo(float).eps
_CONDITIONING_LIMIT = 1e-12
"""Below this (see :func:`_solve_block_toeplitz`) the Gram matrix counts as singular."""


def _solve_block_toeplitz(lags: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve the symmetric block-Toeplitz system ``sum_b R(a - b) c_b = d_a`` (``0 <= a < L``).

    ``R(k) = lags[..., k, :, :]`` for ``k >= 0`` and ``R(-k) = R(k)^T``; ``lags`` is
    ``(..., L, n, n)``, ``rhs`` is ``(..., L, n, m)``; leading axes are a batch. Block Levinson
    recursion (Whittle / Wiggins-Robinson): ``O(L^2 n^3)`` instead of ``O(L^3 n^3)`` for a dense
    factorisation. Returns ``(c (..., L, n, m), conditioning)`` where ``conditioning`` is the
    smallest eigenvalue of the final forward and backward prediction-error matrices scaled by
    ``diag(R(0))^(-1/2)`` on both sides (so independent of the signals' levels; the smallest
    over the batch): between 0 and 1 for a well-posed system, negative, tiny or NaN where the
    matrix is numerically singular.
    """
    *batch, length, n, _ = lags.shape
    m = rhs.shape[-1]
    # reversed[..., a, i, b] = R(L-1-i)[a, b]; transposed[..., a, k, b] = R(k)[b, a]
    reversed_rows = np.ascontiguousarray(np.swapaxes(lags[..., ::-1, :, :], -3, -2))
    transposed_rows = np.ascontiguousarray(np.moveaxis(lags, -3, -2).swapaxes(-3, -1))
    forward = np.zeros((*batch, length, n, n))
    backward = np.zeros((*batch, length + 1, n, n))  # block 0 stays zero: [0; B_p]
    solution = np.zeros((*batch, length, n, m))
    forward[..., 0, :, :] = np.eye(n)
    backward[..., 1, :, :] = np.eye(n)
    error_f = lags[..., 0, :, :].copy()
    error_b = error_f.copy()
    solution[..., 0, :, :] = np.linalg.solve(error_f, rhs[..., 0, :, :])
    for order in range(1, length):
        lag_row = reversed_rows[..., length - 1 - order : length - 1, :]
        lag_row = lag_row.reshape(*batch, n, order * n)
        delta_f = lag_row @ forward[..., :order, :, :].reshape(*batch, order * n, n)
        theta = lag_row @ solution[..., :order, :, :].reshape(*batch, order * n, m)
        delta_b = transposed_rows[..., 1 : order + 1, :].reshape(*batch, n, order * n) @ (
            backward[..., 1 : order + 1, :, :].reshape(*batch, order * n, n)
        )
        gain_f = np.linalg.solve(error_b, delta_f)
        gain_b = np.linalg.solve(error_f, delta_b)
        fwd_ext = forward[..., : order + 1, :, :]
        bwd_ext = backward[..., : order + 1, :, :]
        new_forward = fwd_ext - bwd_ext @ gain_f[..., None, :, :]
        new_backward = bwd_ext - fwd_ext @ gain_b[..., None, :, :]
        forward[..., : order + 1, :, :] = new_forward
        backward[..., 1 : order + 2, :, :] = new_backward
        error_f = error_f - delta_b @ gain_f
        error_b = error_b - delta_f @ gain_b
        step = np.linalg.solve(error_b, rhs[..., order, :, :] - theta)
        solution[..., : order + 1, :, :] += (
            backward[..., 1 : order + 2, :, :] @ step[..., None, :, :]
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = 1.0 / np.sqrt(np.diagonal(lags[..., 0, :, :], axis1=-2, axis2=-1))
        norm = norm[..., :, None] * norm[..., None, :]
        smallest = np.minimum(
            np.linalg.eigvalsh(error_f * norm)[..., 0], np.linalg.eigvalsh(error_b * norm)[..., 0]
        )
    return solution, float(np.min(np.nan_to_num(smallest, nan=-1.0)))


def _dense_gram(lags: np.ndarray) -> np.ndarray:
    """The ``(L * n, L * n)`` matrix of :func:`_solve_block_toeplitz` from ``lags (L, n, n)``."""
    length, n, _ = lags.shape
    both = np.concatenate([np.swapaxes(lags[:0:-1], -1, -2), lags])  # R(-(L-1)) .. R(L-1)
    index = np.arange(length)[:, None] - np.arange(length)[None, :] + length - 1
    return both[index].transpose(0, 2, 1, 3).reshape(length * n, length * n)


def _levinson_or_none(lags: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """:func:`_solve_block_toeplitz`'s solution, or None where the system is singular."""
    with np.errstate(all="ignore"):
        try:
            solution, conditioning = _solve_block_toeplitz(lags, rhs)
        except np.linalg.LinAlgError:
            return None
    if conditioning > _CONDITIONING_LIMIT and np.all(np.isfinite(solution)):
        return solution
    return None


def _solve_gram(lags: np.ndarray, rhs: np.ndarray, floor: float = 0.0) -> tuple[np.ndarray, bool]:
    """Least-squares filters: solve ``(G + eps I + floor D) c = d`` for block-Toeplitz Gram
    matrices ``G`` (``D``: the diagonal of ``G``).

    ``lags (..., L, n, n)`` and ``rhs (..., L, n, m)`` as in :func:`_solve_block_toeplitz`
    (``eps`` is museval's); ``floor`` > 0 gives the filters as if every reference had an
    independent white noise floor ``floor`` times its power. Returns ``(c, singular)``: where
    ``G`` is numerically singular, ``c`` comes from museval's route on the dense matrix (LU,
    then least squares), whose result is as arbitrary there as museval's.
    """
    lags = lags.copy()
    diagonal = np.diagonal(lags[..., 0, :, :], axis1=-2, axis2=-1)
    lags[..., 0, :, :] += _GRAM_EPS * np.eye(lags.shape[-1])
    lags[..., 0, :, :] += floor * diagonal[..., None, :] * np.eye(lags.shape[-1])
    solution = _levinson_or_none(lags, rhs)
    if solution is not None:
        return solution, False
    flat_lags = lags.reshape(-1, *lags.shape[-3:])
    flat_rhs = rhs.reshape(-1, *rhs.shape[-3:])
    out = np.empty(flat_rhs.shape)
    for index, (one_lags, one_rhs) in enumerate(zip(flat_lags, flat_rhs, strict=True)):
        gram = _dense_gram(one_lags)
        column = one_rhs.reshape(gram.shape[0], -1)
        try:
            out[index] = np.linalg.solve(gram, column).reshape(one_rhs.shape)
        except np.linalg.LinAlgError:
            out[index] = np.linalg.lstsq(gram, column, rcond=None)[0].reshape(one_rhs.shape)
    return out.reshape(rhs.shape), True
