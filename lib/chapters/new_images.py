"""Companion of ``chapters/new_images.ipynb``: where do new images come from?

Drivers (training split, sampling runs, the three measurements), the chapter's figures and its
explorer, and the chapter's verdict. The mathematics lives in :mod:`lib.core.local_scores`.
"""

from __future__ import annotations

import numpy as np

from lib.core import data as ds
from lib.core import local_scores as ls
from lib.core import reverse as rev
from lib.core import stats as st

from .common import html_table, styled
from .prose import Verdict

__all__ = [
    "VERDICTS",
    "MACHINE_LABELS",
    "split_digits",
    "faces",
    "run_machines",
    "novelty",
    "consistency",
    "Judge",
    "measure",
    "summary",
    "summary_table",
    "patch_size_study",
    "plot_samples",
    "plot_tradeoff",
    "plot_mosaic",
    "patch_size_explorer",
]

#: Display names of the runs, in the order the chapter shows them.
MACHINE_LABELS = {
    "exact": "exact score",
    "smoothed": "smoothed, h = 0.2",
    "es": "ES (shifts)",
    "ls": "LS (local)",
    "els": "ELS (local, equivariant)",
}

VERDICTS = (
    Verdict(
        claim="Sec. 3.2 (new images)",
        paper="The reverse process can sample new images from $p(F)$ that are not part of the "
              "training data.",
        verdict="holds with correction",
        detail="Not with the exact score of a training set: it returns training images, and "
               "smoothing only adds noise. New images need a score that is *not* the exact one, "
               "and locality is what delivers them: the LS and ELS machines sample locally "
               "consistent mosaics of training patches, as far from the training set as real "
               "unseen digits; equivariance alone (ES) only shifts copies. Neither machine "
               "reaches the recognisability of real digits: the claim holds as *new images "
               "with the local statistics of $p(F)$*, not as new draws from $p(F)$.",
        section="sec-new-images-verdict",
    ),
)


# ------------------------------------------------------------------------------ drivers ----

def split_digits(n_train: int = 600, n_reference: int = 200, seed: int = 0) -> dict:
    """Split the 1797 digits into training set, judge set and unseen reference digits.

    The score machines see only ``train``; the quality judge is trained on ``judge`` (never on
    the training set); ``reference`` are real digits that neither has seen.

    Returns
    -------
    dict with arrays "train", "judge", "judge_labels", "reference", "reference_labels".
    """
    from sklearn.datasets import load_digits

    x = ds.digits()
    y = load_digits().target
    if not (1 <= n_train and 1 <= n_reference and n_train + n_reference < x.shape[0]):
        raise ValueError(f"need 1 <= n_train, n_reference and n_train + n_reference < {x.shape[0]}")
    p = np.random.default_rng(seed).permutation(x.shape[0])
    tr, ref, jd = p[:n_train], p[n_train : n_train + n_reference], p[n_train + n_reference :]
    return {"train": x[tr], "judge": x[jd], "judge_labels": y[jd], "reference": x[ref],
            "reference_labels": y[ref]}


def faces(factor: int = 2) -> np.ndarray:
    """The 100 faces of ``skimage.data.lfw_subset()`` (25 × 25, offline) in [−1, 1], downscaled.

    Returns
    -------
    ndarray, shape (100, 25 // factor, 25 // factor)
    """
    from skimage import data as skdata

    imgs = skdata.lfw_subset()[:100] * 2.0 - 1.0  # the first 100 are faces, the rest are not
    return np.stack([ds.block_mean(f, factor) for f in imgs])


def run_machines(train, betas, size: int, seed: int, *, largest: int = 7,
                 machines=("exact", "smoothed", "es", "ls", "els"), bandwidth: float = 0.2,
                 shape=(8, 8)) -> dict:
    """Final samples of each reverse chain from the same noise seed.

    ``"exact"`` and ``"smoothed"`` run the book's sampler (:func:`lib.core.reverse.sample`, h = 0 and
    h = ``bandwidth``); ``"es"`` the shift-equivariant score (circular shifts); ``"ls"`` and
    ``"els"`` the local machines with zero padding and the patch size schedule
    :func:`lib.core.local_scores.patch_size_schedule` from ``largest`` down to 3.

    Returns
    -------
    dict machine -> ndarray (size, H*W)
    """
    flat = np.asarray(train).reshape(len(train), -1)
    sizes = ls.patch_size_schedule(betas, largest)
    out = {}
    for name in machines:
        rng = np.random.default_rng(seed)
        if name in ("exact", "smoothed"):
            h = 0.0 if name == "exact" else bandwidth
            out[name] = rev.sample(flat, betas, size, rng, bandwidth=h)["states"][0]
        elif name == "es":
            out[name] = ls.sample(flat, betas, size, rng, machine="es", boundary="circular",
                                  shape=shape)["states"][0]
        else:
            out[name] = ls.sample(flat, betas, size, rng, machine=name, patch_size=sizes,
                                  shape=shape)["states"][0]
    return out


def novelty(x, train) -> np.ndarray:
    """Distance of each image to its nearest training image over the training set's spacing.

    The spacing is the median leave-one-out nearest-neighbour distance within ``train``: a
    ratio 0 is a copy, about 1 is as far as training images are from each other.
    """
    train = np.asarray(train).reshape(len(train), -1)
    spacing = np.median(st.nearest_neighbour_distances(train, train, exclude_self=True))
    return st.nearest_neighbour_distances(np.asarray(x).reshape(len(x), -1), train) / spacing


def consistency(x, train, patch_size: int = 3, shape=(8, 8)) -> np.ndarray:
    """Median over pixels of the distance of each P × P window to its nearest training patch.

    The ELS dictionary with zero padding (:func:`lib.core.local_scores.patch_match`): 0 for a
    perfect patch mosaic, about the noise norm for noisy images. One number per image.
    """
    d = ls.patch_match(x, np.asarray(train).reshape(-1, *shape), patch_size)["distance"]
    return np.median(d, axis=1)


def measure(groups: dict, train, judge) -> dict:
    """Novelty, consistency and quality of each group of images (name -> (m, 64) array).

    Returns
    -------
    dict name -> {"novelty": per-image ratios, "consistency": per-image median patch
    distances, "quality": per-image booleans (recognised by ``judge``)}
    """
    return {k: {"novelty": novelty(x, train), "consistency": consistency(x, train),
                "quality": judge.confident(x)} for k, x in groups.items()}


def summary(stats: dict) -> dict:
    """Medians of novelty and consistency, recognised fraction and its binomial SE."""
    out = {}
    for k, s in stats.items():
        q = float(np.mean(s["quality"]))
        out[k] = {"novelty": float(np.median(s["novelty"])),
                  "consistency": float(np.median(s["consistency"])),
                  "quality": q, "quality_se": float(np.sqrt(q * (1 - q) / len(s["quality"])))}
    return out


def summary_table(summ: dict, names: dict) -> str:
    """HTML table of :func:`summary` with display names."""
    head = ["samples", "novelty (median)", "patch distance (median)", "recognised (± SE)"]
    rows = [[names.get(k, k), f"{s['novelty']:.2f}", f"{s['consistency']:.3f}",
             f"{s['quality']:.2f} ± {s['quality_se']:.2f}"] for k, s in summ.items()]
    return html_table(head, rows)


def patch_size_study(train, betas, size: int, seed: int, largest, judge,
                     machines=("ls", "els")) -> tuple[dict, dict]:
    """Samples and summary curves of the local machines for several largest patch sizes.

    Returns
    -------
    samples : dict machine -> list of (size, 64) arrays, one per entry of ``largest``
    curves : dict machine -> {"novelty", "consistency", "quality"} lists over ``largest``
    """
    samples = {name: [run_machines(train, betas, size, seed, largest=P, machines=(name,))[name]
                      for P in largest] for name in machines}
    curves = {}
    for name, xs in samples.items():
        summ = [summary(measure({"x": x}, train, judge))["x"] for x in xs]
        curves[name] = {key: [s[key] for s in summ]
                        for key in ("novelty", "consistency", "quality")}
    return samples, curves


class Judge:
    """A digit classifier trained on the judge set: how many samples it recognises confidently.

    Multinomial logistic regression on the 64 grey values (scikit-learn) with an eleventh
    class, "not a digit", trained on pixel-shuffled judge digits (the same grey values without
    spatial structure) and on clipped standard normal noise, a tenth of the judge set each. A
    sample counts as a recognisable digit if one of the ten digit classes has probability
    >= ``level``. Without the rejection class a linear classifier accepted up to a sixth of
    pure noise images and half of the shuffled digits; an RBF support vector classifier with
    calibrated probabilities accepted most noise images.

    Parameters
    ----------
    x, y : arrays (n, 64), (n,)
        Judge digits and their labels 0…9.
    rng : numpy.random.Generator
        Draws the shuffles and the noise of the rejection class.
    level : float in (0, 1)
    """

    def __init__(self, x, y, rng, level: float = 0.9):
        from sklearn.linear_model import LogisticRegression

        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must lie in (0, 1), got {level!r}")
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        k = max(1, len(x) // 10)
        shuffled = rng.permuted(x[rng.choice(len(x), k)], axis=1)
        noise = np.clip(rng.standard_normal((k, x.shape[1])), -1.0, 1.0)
        self.level = float(level)
        self.model = LogisticRegression(C=1.0, max_iter=5000).fit(
            np.vstack([x, shuffled, noise]), np.r_[np.asarray(y), np.full(2 * k, 10)])

    def _digit_proba(self, x):
        p = self.model.predict_proba(np.asarray(x).reshape(len(x), -1))
        return p[:, list(self.model.classes_).index(0) : list(self.model.classes_).index(9) + 1]

    def confident(self, x) -> np.ndarray:
        """Boolean per image: recognised as some digit with probability >= level."""
        return self._digit_proba(x).max(axis=1) >= self.level

    def labels(self, x) -> np.ndarray:
        """Most probable digit 0…9 (ignoring the rejection class)."""
        return self._digit_proba(x).argmax(axis=1)


# ------------------------------------------------------------------------------ figures ----

def _tile(imgs, shape):
    """Images side by side with one-pixel gaps (NaN, drawn white)."""
    H, W = shape
    out = np.full((H, len(imgs) * (W + 1) - 1), np.nan)
    for j, im in enumerate(imgs):
        out[:, j * (W + 1) : j * (W + 1) + W] = np.asarray(im).reshape(H, W)
    return out


@styled
def plot_samples(rows: dict, n: int = 12, shape=(8, 8), width: float = 7.0):
    """One row of ``n`` images per entry of ``rows`` (label -> (m, H*W) array).

    Each row is one tiled image (one axes per row keeps the figure cheap to draw).
    """
    import matplotlib.pyplot as plt

    H, W = shape
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    row_h = width * 0.74 / n * H / W
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, row_h * len(rows) * 1.12 + 0.1),
                             squeeze=False)
    for ax, (label, imgs) in zip(axes[:, 0], rows.items()):
        ax.imshow(_tile(imgs[:n], shape), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    fig.subplots_adjust(left=0.25, right=0.99, top=0.98, bottom=0.02, hspace=0.12)
    return fig


@styled
def plot_tradeoff(largest, curves: dict, reference: dict):
    """Novelty, consistency and quality against the largest patch size of the schedule.

    ``curves``: machine -> dict of "novelty", "consistency", "quality" arrays over ``largest``;
    ``reference``: the same three numbers for unseen real digits (dashed lines).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(7.2, 2.7))
    titles = {"novelty": "novelty (NN ratio)", "consistency": "patch distance",
              "quality": "recognised digits"}
    for ax, key in zip(axes, titles):
        for name, cur in curves.items():
            ax.plot(largest, cur[key], "o-", label=MACHINE_LABELS.get(name, name))
        ax.axhline(reference[key], color="k", ls="--", lw=1, label="unseen real digits")
        ax.set_title(titles[key])
        ax.set_xlabel("largest patch size $P$")
        ax.set_xticks(list(largest))
    axes[2].set_ylim(-0.03, 1.03)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


@styled
def plot_mosaic(sample, match, train, shape=(8, 8), n_sources: int = 4):
    """The mechanism: a sample, which training image each pixel's patch came from, and where.

    ``match`` is :func:`lib.core.local_scores.patch_match` of the single ``sample``. Pixels
    whose nearest patch occurs more than once in the training set (mostly plain background)
    have no single source and are shown in grey.
    """
    import matplotlib.pyplot as plt

    from matplotlib import colors

    H, W = shape
    img = match["image"].reshape(H, W)
    unique = match["count"].reshape(H, W) == 1
    ids, counts = np.unique(img[unique], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    k = min(n_sources, ids.size)
    rank = {int(ids[o]): j for j, o in enumerate(order)}
    lab = np.full((H, W), k + 1)
    for (r, c), i in np.ndenumerate(img):
        if unique[r, c]:
            lab[r, c] = min(rank[int(i)], k)
    rows = np.arange(H)[:, None] * np.ones((1, W))
    cols = np.ones((H, 1)) * np.arange(W)[None, :]
    shift = np.hypot(match["row"].reshape(H, W) - rows, match["col"].reshape(H, W) - cols)
    shift = np.where(unique, shift, np.nan)
    fig, axes = plt.subplots(1, 3 + k, figsize=(7.4, 2.3),
                             gridspec_kw={"width_ratios": [1, 1, 1.25] + [0.8] * k})
    axes[0].imshow(np.asarray(sample).reshape(H, W), cmap="gray", vmin=-1, vmax=1)
    axes[0].set_title("ELS sample")
    palette = plt.get_cmap("tab10").colors[:k] + ((0.55, 0.55, 0.55), (0.88, 0.88, 0.88))
    axes[1].imshow(lab, cmap=colors.ListedColormap(palette), vmin=-0.5, vmax=k + 1.5)
    axes[1].set_title("source image")
    cm = plt.get_cmap("viridis").with_extremes(bad=(0.88, 0.88, 0.88))
    im = axes[2].imshow(shift, cmap=cm, vmin=0)
    axes[2].set_title("offset (px)")
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
    for j in range(k):
        ax = axes[3 + j]
        ax.imshow(np.asarray(train[ids[order[j]]]).reshape(H, W), cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{counts[order[j]]} px", color=palette[j])
        for sp in ax.spines.values():
            sp.set_edgecolor(palette[j]), sp.set_linewidth(2.5)
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def patch_size_explorer(train, betas, size: int = 12):
    """Jupyter-only sliders (largest patch size, seed) over ELS and LS samples."""
    import ipywidgets as widgets

    def show(largest, seed):
        runs = run_machines(train, betas, size, seed, largest=largest, machines=("ls", "els"))
        fig = plot_samples({MACHINE_LABELS[k]: v for k, v in runs.items()}, n=size)
        import matplotlib.pyplot as plt
        plt.show(fig)

    return widgets.interact(show, largest=widgets.IntSlider(7, 3, 15, 2, description="largest P"),
                            seed=widgets.IntSlider(0, 0, 20, 1, description="seed"))
