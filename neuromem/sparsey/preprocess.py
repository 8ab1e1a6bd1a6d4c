r"""Preprocessing of grey-level images into binary Sparsey inputs.

:func:`deskew` straightens slanted digits; :func:`binarize` thresholds (optionally blurred)
grey levels. :func:`edge_features` turns
images into binary maps of oriented edges:

1. scale to ``[0, 1]`` and blur with a Gaussian of width ``blur`` (pixels);
2. Sobel gradients :math:`g_x, g_y`, magnitude :math:`m = \sqrt{g_x^2 + g_y^2}` and orientation
   :math:`\theta = \operatorname{atan2}(g_y, g_x) \bmod \pi`;
3. soft orientation channels: channel :math:`o` (angle :math:`\theta_o = o \pi / n_o`) gets
   :math:`m \cos^2(\theta - \theta_o)^{p}` with ``p = sharpness``;
4. binarise: a channel is on where its value exceeds ``threshold`` times the image's largest
   magnitude;
5. spatial pooling: logical OR over ``pool x pool`` blocks (with ``pool_stride``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["edge_features", "binarize", "deskew"]


def _check_images(images) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"images must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"images must have shape (n, rows, cols), got {arr.shape}")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        raise ValueError("images contain NaN")
    if arr.min() < 0:
        raise ValueError("images must be non-negative")
    mx = arr.max()
    return arr / mx if mx > 1 else arr


def deskew(images) -> np.ndarray:
    r"""Straighten slanted images with a shear that removes their pixel covariance.

    For an image with intensity-weighted pixel moments about its centre of mass,
    :math:`\alpha = \mathrm{cov}(r, c) / \mathrm{var}(r)` is its slant; the output pixel
    :math:`(r, c)` takes the input at :math:`(r, c + \alpha (r - \bar r))`, with the centre of
    mass moved to the image centre (bilinear interpolation). The classic MNIST deskewing.

    Parameters
    ----------
    images : array_like, shape (n, rows, cols) or (rows, cols)
        Non-negative grey levels.

    Returns
    -------
    numpy.ndarray of float, shape (n, rows, cols)
        Deskewed grey levels in ``[0, 1]``.
    """
    x = _check_images(images)
    n, H, W = x.shape
    rr, cc = np.mgrid[:H, :W].astype(float)
    out = np.empty_like(x)
    centre = np.array([(H - 1) / 2.0, (W - 1) / 2.0])
    for i in range(n):
        img = x[i]
        tot = img.sum()
        if tot <= 0:
            out[i] = img
            continue
        mr = (rr * img).sum() / tot
        mc = (cc * img).sum() / tot
        var_r = (((rr - mr) ** 2) * img).sum() / tot
        cov = ((rr - mr) * (cc - mc) * img).sum() / tot
        alpha = cov / var_r if var_r > 0 else 0.0
        matrix = np.array([[1.0, 0.0], [alpha, 1.0]])
        offset = np.array([mr, mc]) - matrix @ centre
        out[i] = ndimage.affine_transform(img, matrix, offset=offset, order=1)
    return np.clip(out, 0.0, 1.0)


def binarize(
    images, threshold: float = 0.35, blur: float = 0.0, pool: int = 1, per_image: bool = True
) -> np.ndarray:
    """Binary images: grey levels above a threshold, optionally blurred first and OR-pooled.

    Parameters
    ----------
    images : array_like, shape (n, rows, cols) or (rows, cols)
        Non-negative grey levels (``uint8`` 0-255 or floats in [0, 1]).
    threshold : float or sequence of float
        Fraction of each image's maximum (``per_image``) or of 1 above which a pixel is on.
        Several thresholds give one channel each (a thermometer code of the grey level).
    blur : float
        Width of a Gaussian blur applied before the threshold (0: none).
    pool : int
        Side of non-overlapping OR-pooling blocks (1: none).
    per_image : bool
        Scale each image to its own maximum before the threshold.

    Returns
    -------
    numpy.ndarray of bool, shape (n, rows // pool, cols // pool)
        With several thresholds: ``(n, rows // pool, cols // pool, n_thresholds)``.
    """
    x = _check_images(images)
    ths = np.atleast_1d(np.asarray(threshold, dtype=float))
    if ths.ndim != 1 or ths.size == 0 or not ((ths >= 0) & (ths < 1)).all():
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    if not blur >= 0:
        raise ValueError(f"blur must be >= 0, got {blur}")
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool must be an integer >= 1, got {pool!r}")
    if blur > 0:
        x = ndimage.gaussian_filter(x, sigma=(0, blur, blur))
    if per_image:
        peak = x.reshape(x.shape[0], -1).max(axis=1)[:, None, None]
        x = x / np.where(peak > 0, peak, 1.0)
    out = x[..., None] > ths
    if pool > 1:
        out = _pool(out, pool, pool)
    return out[..., 0] if np.ndim(threshold) == 0 else out


def _pool(x: np.ndarray, pool: int, stride: int) -> np.ndarray:
    n, H, W, C = x.shape
    rows = range(0, H - pool + 1, stride)
    cols = range(0, W - pool + 1, stride)
    out = np.zeros((n, len(rows), len(cols), C), dtype=bool)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            out[:, i, j] = x[:, r : r + pool, c : c + pool].any(axis=(1, 2))
    return out


def edge_features(
    images,
    n_orient: int = 4,
    blur: float = 1.0,
    threshold: float = 0.25,
    sharpness: float = 4.0,
    pool: int = 2,
    pool_stride: int | None = None,
) -> np.ndarray:
    """Binary oriented-edge maps of grey-level images.

    Parameters
    ----------
    images : array_like, shape (n, rows, cols) or (rows, cols)
        Non-negative grey levels (``uint8`` 0-255 or floats in [0, 1]).
    n_orient : int
        Number of orientation channels (``>= 1``).
    blur : float
        Gaussian blur width in pixels before the gradients (0: none).
    threshold : float
        Fraction of each image's largest gradient magnitude above which an edge is on.
    sharpness : float
        Exponent of the orientation tuning :math:`\\cos^2(\\theta - \\theta_o)^{p}`.
    pool : int
        Side of the OR-pooling block (1: no pooling).
    pool_stride : int, optional
        Stride of the pooling blocks (default ``pool``: no overlap).

    Returns
    -------
    numpy.ndarray of bool, shape (n, rows', cols', n_orient)

    Raises
    ------
    TypeError, ValueError
        For non-numeric, NaN, negative or wrong-shape images and bad parameters.
    """
    x = _check_images(images)
    if isinstance(n_orient, bool) or not isinstance(n_orient, (int, np.integer)) or n_orient < 1:
        raise ValueError(f"n_orient must be an integer >= 1, got {n_orient!r}")
    if not blur >= 0:
        raise ValueError(f"blur must be >= 0, got {blur}")
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    if not sharpness > 0:
        raise ValueError(f"sharpness must be > 0, got {sharpness}")
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool must be an integer >= 1, got {pool!r}")
    stride = pool if pool_stride is None else pool_stride
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"pool_stride must be an integer >= 1, got {pool_stride!r}")
    if blur > 0:
        x = ndimage.gaussian_filter(x, sigma=(0, blur, blur))
    gx = ndimage.sobel(x, axis=2)
    gy = ndimage.sobel(x, axis=1)
    mag = np.hypot(gx, gy)
    theta = np.arctan2(gy, gx)
    peak = mag.reshape(mag.shape[0], -1).max(axis=1)[:, None, None]
    peak[peak == 0] = 1.0
    out = np.empty(x.shape + (n_orient,), dtype=bool)
    for o in range(n_orient):
        tuning = np.cos(theta - o * np.pi / n_orient) ** 2
        out[..., o] = mag * tuning**sharpness > threshold * peak
    if pool > 1 or stride > 1:
        out = _pool(out, pool, stride)
    return out
