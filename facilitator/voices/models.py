"""Session models: a background model (UBM) and one MAP-adapted GMM per enrolled voice.

With a stored background model (many other voices) each person's model is the background adapted
towards their profile. Without one, the background is fitted to the enrolled profiles themselves,
which separates the people present but judges ``unknown`` less reliably. Profiles are mixtures,
not audio, so adaptation statistics come from a fixed-seed sample of each profile's mixture.
"""

from __future__ import annotations

import numpy as np

from facilitator.voices.gmm import GMM, map_adapt, stats, train_gmm
from facilitator.voices.profile import VoiceProfile

RELEVANCE = 16.0


def sample(gmm: GMM, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = rng.choice(gmm.n_components, size=n, p=gmm.weights / gmm.weights.sum())
    return gmm.means[k] + np.sqrt(gmm.variances[k]) * rng.standard_normal((n, gmm.means.shape[1]))


class SessionModels:
    """UBM + per-speaker models; speakers without a profile start as the UBM itself."""

    def __init__(self, speakers: list[str], profiles: dict[str, VoiceProfile],
                 background: VoiceProfile | None = None, relevance: float = RELEVANCE):
        self.speakers = list(speakers)
        self.relevance = relevance
        pseudo = {s: sample(profiles[s].gmm, min(profiles[s].n_frames, 4000), seed=i)
                  for i, s in enumerate(self.speakers) if s in profiles}
        if background is not None:
            self.ubm = background.gmm
        elif pseudo:
            self.ubm = train_gmm(np.concatenate(list(pseudo.values())), n_components=64, iterations=10)
        else:
            raise ValueError("need a background model or at least one profile")
        dim = self.ubm.means.shape
        self.prior_n = {s: np.zeros(dim[0]) for s in self.speakers}
        self.prior_f = {s: np.zeros(dim) for s in self.speakers}
        for s, x in pseudo.items():
            self.prior_n[s], self.prior_f[s] = stats(self.ubm, x)
        self.sess_n = {s: np.zeros(dim[0]) for s in self.speakers}
        self.sess_f = {s: np.zeros(dim) for s in self.speakers}
        self.models: dict[str, GMM] = {}
        for s in self.speakers:
            self.readapt(s)

    def readapt(self, speaker: str, session_weight: float = 1.0) -> None:
        n = self.prior_n[speaker] + session_weight * self.sess_n[speaker]
        f = self.prior_f[speaker] + session_weight * self.sess_f[speaker]
        self.models[speaker] = map_adapt(self.ubm, n, f, self.relevance)

    def learn(self, speaker: str, x: np.ndarray) -> None:
        if len(x):
            n, f = stats(self.ubm, x)
            self.sess_n[speaker] += n
            self.sess_f[speaker] += f

    def llr(self, x: np.ndarray) -> np.ndarray:
        """(N, speakers) per-frame log-likelihood ratio of each speaker against the UBM."""
        u = self.ubm.loglik(x)
        return np.stack([self.models[s].loglik(x) - u for s in self.speakers], axis=1)
