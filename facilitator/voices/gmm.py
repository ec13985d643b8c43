"""Diagonal-covariance Gaussian mixtures in numpy: EM training, MAP mean adaptation, fast scoring.

Scoring expands ``(x - μ)² / σ²`` into two matrix products, so a block of frames against every
component of every model costs a couple of BLAS calls, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VAR_FLOOR = 1e-3


@dataclass
class GMM:
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    variances: np.ndarray  # (K, D)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, np.float64)
        self.means = np.asarray(self.means, np.float64)
        self.variances = np.maximum(np.asarray(self.variances, np.float64), VAR_FLOOR)
        self._prep()

    def _prep(self) -> None:
        prec = 1.0 / self.variances
        self._prec = prec.T.astype(np.float32)  # (D, K)
        self._mprec = (self.means * prec).T.astype(np.float32)
        self._const = (
            np.log(np.maximum(self.weights, 1e-300))
            - 0.5 * np.sum(np.log(2 * np.pi * self.variances), axis=1)
            - 0.5 * np.sum(self.means**2 * prec, axis=1)
        ).astype(np.float32)

    @property
    def n_components(self) -> int:
        return len(self.weights)

    def component_loglik(self, x: np.ndarray) -> np.ndarray:
        """(N, K) log w_k N(x | μ_k, σ_k²)."""
        x = np.asarray(x, np.float32)
        return self._const[None, :] - 0.5 * ((x * x) @ self._prec) + x @ self._mprec

    def loglik(self, x: np.ndarray) -> np.ndarray:
        """(N,) log p(x) per frame."""
        return logsumexp(self.component_loglik(x), axis=1)

    def to_arrays(self) -> dict:
        return {"weights": self.weights, "means": self.means, "variances": self.variances}


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))).squeeze(axis)


def train_gmm(x: np.ndarray, n_components: int = 64, iterations: int = 10, seed: int = 0) -> GMM:
    """EM from a k-means++-style seeding; deterministic for a given seed."""
    x = np.asarray(x, np.float64)
    rng = np.random.default_rng(seed)
    k = int(min(n_components, max(1, len(x) // 20)))
    # seeding: farthest-first on a subsample
    sub = x[rng.choice(len(x), size=min(len(x), 4000), replace=False)]
    centers = [sub[rng.integers(len(sub))]]
    d2 = np.sum((sub - centers[0]) ** 2, axis=1)
    for _ in range(1, k):
        p = d2 / d2.sum()
        c = sub[rng.choice(len(sub), p=p)]
        centers.append(c)
        d2 = np.minimum(d2, np.sum((sub - c) ** 2, axis=1))
    var0 = np.var(x, axis=0) + VAR_FLOOR
    gmm = GMM(np.full(k, 1.0 / k), np.array(centers), np.tile(var0, (k, 1)))
    for _ in range(iterations):
        gmm = _em_step(gmm, x)
    return gmm


def _posteriors(gmm: GMM, x: np.ndarray) -> np.ndarray:
    cl = gmm.component_loglik(x).astype(np.float64)
    cl -= cl.max(axis=1, keepdims=True)
    p = np.exp(cl)
    return p / p.sum(axis=1, keepdims=True)


def _em_step(gmm: GMM, x: np.ndarray) -> GMM:
    post = _posteriors(gmm, x)
    n = post.sum(axis=0) + 1e-10
    f = post.T @ x
    s = post.T @ (x * x)
    means = f / n[:, None]
    var = s / n[:, None] - means**2
    var = np.maximum(var, 0.01 * np.var(x, axis=0)[None, :] + VAR_FLOOR)
    keep = n > 2.0
    if not keep.all():  # dead components: re-seed from the previous model
        means[~keep] = gmm.means[~keep]
        var[~keep] = gmm.variances[~keep]
    w = n / n.sum()
    return GMM(w, means, var)


def stats(gmm: GMM, x: np.ndarray, frame_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Zeroth and first order Baum-Welch statistics of ``x`` against ``gmm``."""
    post = _posteriors(gmm, x)
    if frame_weights is not None:
        post = post * frame_weights[:, None]
    return post.sum(axis=0), post.T @ np.asarray(x, np.float64)


def map_adapt(ubm: GMM, n: np.ndarray, f: np.ndarray, relevance: float = 16.0) -> GMM:
    """Means-only MAP adaptation (Reynolds et al. 2000) from statistics ``n``, ``f``."""
    alpha = (n / (n + relevance))[:, None]
    mean_data = f / np.maximum(n, 1e-10)[:, None]
    means = alpha * mean_data + (1 - alpha) * ubm.means
    return GMM(ubm.weights, means, ubm.variances)
