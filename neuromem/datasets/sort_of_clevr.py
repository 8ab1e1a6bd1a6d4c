"""Sort-of-CLEVR (Santoro et al. 2017, "A simple neural network module for relational
reasoning"): a NumPy generator.

Each image (``image_size`` square, white background) holds 6 objects, one of each colour
(red, green, blue, orange, gray, yellow), each a square or a circle of half-size
``object_size``, placed uniformly so that no two objects touch. Each question names one
object by its colour and is encoded as an 11-vector: colour one-hot (6), question kind
one-hot (non-relational, relational) (2), subtype one-hot (3). Answers are 10 classes:
``yes, no, rectangle, circle, 1, 2, 3, 4, 5, 6``.

Non-relational subtypes: 0 shape of the object; 1 is it on the left (``x < image_size / 2``);
2 is it on the top (``y < image_size / 2``). Relational subtypes: 0 shape of the object
nearest to it; 1 shape of the object farthest from it; 2 how many objects have its shape
(itself included).
"""

from __future__ import annotations

import numpy as np

from neuromem.rng import as_generator

__all__ = [
    "COLORS",
    "COLOR_NAMES",
    "ANSWERS",
    "QUESTION_DIM",
    "generate_sort_of_clevr",
    "answer_question",
]

COLOR_NAMES = ("red", "green", "blue", "orange", "gray", "yellow")
COLORS = np.array(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 156, 0], [128, 128, 128], [255, 255, 0]],
    dtype=np.uint8,
)
ANSWERS = ("yes", "no", "rectangle", "circle", "1", "2", "3", "4", "5", "6")
QUESTION_DIM = 11
N_OBJECTS = 6


def _check_pos_int(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {v!r}")


def answer_question(objects: np.ndarray, color: int, relational: bool, subtype: int, size: int):
    """Answer class of a question about an object layout.

    Parameters
    ----------
    objects : ndarray, shape (6, 3)
        ``x, y, shape`` per colour (shape 0 = rectangle, 1 = circle).
    color : int
        Colour index of the object asked about.
    relational : bool
        Relational question.
    subtype : int
        0, 1 or 2 (see module docstring).
    size : int
        Image side.

    Returns
    -------
    int
        Index into :data:`ANSWERS`.
    """
    x, y, shape = objects[color]
    if not relational:
        if subtype == 0:
            return 2 + int(shape)
        if subtype == 1:
            return 0 if x < size / 2 else 1
        return 0 if y < size / 2 else 1
    if subtype == 2:
        return 3 + int(np.sum(objects[:, 2] == shape))
    d = (objects[:, 0] - x) ** 2 + (objects[:, 1] - y) ** 2
    d = d.astype(float)
    if subtype == 0:
        d[color] = np.inf
        return 2 + int(objects[int(np.argmin(d)), 2])
    d[color] = -np.inf
    return 2 + int(objects[int(np.argmax(d)), 2])


def generate_sort_of_clevr(
    n_images: int,
    rng: np.random.Generator,
    image_size: int = 75,
    object_size: int = 5,
    questions_per_kind: int = 10,
) -> dict:
    """Draw a Sort-of-CLEVR data set.

    Parameters
    ----------
    n_images : int
        Images to draw.
    rng : numpy.random.Generator
        Source of every random choice.
    image_size : int
        Image side in pixels (75 in the original).
    object_size : int
        Half side of squares / radius of circles (5 in the original).
    questions_per_kind : int
        Relational and non-relational questions per image (10 each in the original).

    Returns
    -------
    dict
        ``images`` (n, S, S, 3) uint8; ``objects`` (n, 6, 3) int (x, y, shape);
        ``image_index``, ``question`` (m, 11) float32, ``answer``, ``relational`` (bool),
        ``subtype``: one row per question, ``m = 2 * questions_per_kind * n``.

    Raises
    ------
    ValueError
        Non-positive sizes, or objects that cannot fit without overlap.
    """
    for n, v in (
        ("n_images", n_images),
        ("image_size", image_size),
        ("object_size", object_size),
        ("questions_per_kind", questions_per_kind),
    ):
        _check_pos_int(n, v)
    rng = as_generator(rng, "rng")
    free = image_size - 2 * object_size
    if free < 1 or (free / (2 * object_size)) ** 2 < 2 * N_OBJECTS:
        raise ValueError(
            f"object_size={object_size} is too large for image_size={image_size}: "
            "6 objects cannot be placed without overlap"
        )
    S = image_size
    yy, xx = np.mgrid[0:S, 0:S]
    images = np.full((n_images, S, S, 3), 255, dtype=np.uint8)
    objects = np.zeros((n_images, N_OBJECTS, 3), dtype=np.int64)
    m = 2 * questions_per_kind * n_images
    image_index = np.repeat(np.arange(n_images), 2 * questions_per_kind)
    question = np.zeros((m, QUESTION_DIM), dtype=np.float32)
    answer = np.zeros(m, dtype=np.int64)
    relational = np.zeros(m, dtype=bool)
    subtype = np.zeros(m, dtype=np.int64)
    r = object_size
    for i in range(n_images):
        centers = []
        for c in range(N_OBJECTS):
            for _ in range(10000):
                p = rng.integers(r, S - r, size=2)
                if all(np.abs(p - q).max() >= 2 * r + 2 for q in centers):
                    break
            else:  # pragma: no cover - guarded by the size check above
                raise ValueError("could not place objects without overlap")
            centers.append(p)
            shape = int(rng.integers(0, 2))
            objects[i, c] = (p[0], p[1], shape)
            if shape == 0:
                sel = (np.abs(xx - p[0]) <= r) & (np.abs(yy - p[1]) <= r)
            else:
                sel = (xx - p[0]) ** 2 + (yy - p[1]) ** 2 <= r * r
            images[i][sel] = COLORS[c]
        for k in range(2 * questions_per_kind):
            row = i * 2 * questions_per_kind + k
            rel = k >= questions_per_kind
            color = int(rng.integers(0, N_OBJECTS))
            st = int(rng.integers(0, 3))
            question[row, color] = 1
            question[row, 6 + int(rel)] = 1
            question[row, 8 + st] = 1
            answer[row] = answer_question(objects[i], color, rel, st, S)
            relational[row] = rel
            subtype[row] = st
    return {
        "images": images,
        "objects": objects,
        "image_index": image_index,
        "question": question,
        "answer": answer,
        "relational": relational,
        "subtype": subtype,
    }
