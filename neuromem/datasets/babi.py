"""bAbI question answering (Weston et al. 2015): reader for the standard text format.

Each file holds stories of numbered lines; numbering restarts at 1 with a new story. A
statement line is ``ID sentence``; a question line is
``ID question<TAB>answer<TAB>supporting IDs``. The story of a question is every statement of
the current story before it (earlier questions are not part of it), as in the usual readers.

>>> lines = ["1 Mary moved to the bathroom.", "2 John went to the hallway.",
...          "3 Where is Mary? \\tbathroom\\t1"]
>>> ex = parse_babi_lines(lines, task=1)
>>> ex[0].question, ex[0].answer, ex[0].supporting
(['where', 'is', 'mary'], 'bathroom', [0])

Files are found as ``qa{task}_{split}.txt`` or ``qa{task}_*_{split}.txt`` in a folder given by
the user (``en-valid-10k`` layout); nothing is downloaded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem.errors import DataNotFoundError

from . import require_dir

__all__ = [
    "BabiExample",
    "BabiVocab",
    "tokenize",
    "parse_babi_lines",
    "read_babi_file",
    "babi_file",
    "load_babi",
    "vectorize_babi",
]

PAD, UNK = 0, 1
SPLITS = ("train", "valid", "test")
_WORD = re.compile(r"[A-Za-z0-9']+")


@dataclass
class BabiExample:
    """One question with its story.

    Attributes
    ----------
    story : list of list of str
        Sentences (tokens) before the question, oldest first.
    question : list of str
        Question tokens.
    answer : str
        Answer label (comma-joined for multi-word answers, e.g. ``"n,w"``).
    supporting : list of int
        Indices into ``story`` of the supporting sentences.
    task : int
        bAbI task number (0 if unknown).
    """

    story: list
    question: list
    answer: str
    supporting: list = field(default_factory=list)
    task: int = 0


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (punctuation dropped)."""
    return [w.lower() for w in _WORD.findall(text)]


def parse_babi_lines(lines, task: int = 0, source: str = "<lines>") -> list[BabiExample]:
    """Parse lines of the bAbI text format into examples.

    Parameters
    ----------
    lines : iterable of str
        File lines (with or without trailing newlines).
    task : int
        Task number stored in each example.
    source : str
        Name used in error messages.

    Returns
    -------
    list of BabiExample

    Raises
    ------
    ValueError
        A malformed line (no numeric ID, a question without answer, bad supporting IDs, a
        supporting ID that is not a statement of the current story), naming source and line.
    """
    examples = []
    story: list[list[str]] = []
    line_to_sentence: dict[int, int] = {}
    prev_id = 0
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n").rstrip("\r")
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        head, _, rest = line.lstrip().partition(" ")
        if not head.isdigit():
            raise ValueError(f"{where}: malformed bAbI line (expected 'ID text'): {line!r}")
        nid = int(head)
        if nid == 1:
            story, line_to_sentence = [], {}
        elif nid != prev_id + 1:
            raise ValueError(f"{where}: line ID {nid} does not follow {prev_id}")
        prev_id = nid
        if "\t" in rest:
            parts = rest.split("\t")
            if len(parts) < 2 or not parts[1].strip():
                raise ValueError(f"{where}: question line without an answer: {line!r}")
            q = tokenize(parts[0])
            if not q:
                raise ValueError(f"{where}: empty question: {line!r}")
            sup = []
            if len(parts) > 2 and parts[2].strip():
                for s in parts[2].split():
                    if not s.isdigit():
                        raise ValueError(f"{where}: bad supporting ID {s!r}")
                    if int(s) not in line_to_sentence:
                        raise ValueError(f"{where}: supporting ID {s} is not a statement above")
                    sup.append(line_to_sentence[int(s)])
            examples.append(
                BabiExample([list(s) for s in story], q, parts[1].strip().lower(), sup, task)
            )
        else:
            toks = tokenize(rest)
            if not toks:
                raise ValueError(f"{where}: empty statement: {line!r}")
            line_to_sentence[nid] = len(story)
            story.append(toks)
    return examples


def babi_file(data_dir: str | os.PathLike, task: int, split: str) -> Path:
    """Path of the file of ``task`` and ``split`` in ``data_dir``.

    Raises
    ------
    ValueError
        ``task`` not in 1..20 or unknown ``split``.
    DataNotFoundError
        Folder or file absent.
    """
    if isinstance(task, bool) or not isinstance(task, (int, np.integer)) or not 1 <= task <= 20:
        raise ValueError(f"task must be an integer in 1..20, got {task!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    d = require_dir(data_dir, what="bAbI folder")
    cands = [d / f"qa{task}_{split}.txt", *sorted(d.glob(f"qa{task}_*_{split}.txt"))]
    for c in cands:
        if c.is_file():
            return c
    raise DataNotFoundError(
        f"bAbI task {task} {split} file not found in {d} (qa{task}_{split}.txt)"
    )


def read_babi_file(path: str | os.PathLike, task: int = 0) -> list[BabiExample]:
    """Read one bAbI file (see :func:`parse_babi_lines`)."""
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"bAbI file not found: {p}")
    try:
        with open(p, encoding="utf-8") as f:
            examples = parse_babi_lines(f, task=task, source=str(p))
    except UnicodeDecodeError as e:
        raise ValueError(f"bAbI file {p}: not UTF-8 text ({e.reason})") from None
    if not examples:
        raise ValueError(f"bAbI file {p}: no question in the file (empty or truncated)")
    return examples


def load_babi(data_dir, tasks, split: str) -> list[BabiExample]:
    """Examples of several tasks of one split, in task order.

    Parameters
    ----------
    data_dir : path
        Folder with ``qaN_split.txt`` files (e.g. ``en-valid-10k``).
    tasks : iterable of int
        Task numbers in 1..20.
    split : {"train", "valid", "test"}

    Returns
    -------
    list of BabiExample
    """
    tasks = list(tasks)
    if not tasks:
        raise ValueError("tasks must name at least one task")
    out = []
    for t in tasks:
        out.extend(read_babi_file(babi_file(data_dir, t, split), task=int(t)))
    return out


class BabiVocab:
    """Word and answer vocabularies (word 0 = padding, 1 = unknown).

    Parameters
    ----------
    examples : list of BabiExample
        Examples whose words and answers are indexed (sorted, so the indices do not depend on
        the order of examples).
    """

    def __init__(self, examples):
        if not examples:
            raise ValueError("examples must not be empty")
        words = set()
        answers = set()
        for ex in examples:
            for s in ex.story:
                words.update(s)
            words.update(ex.question)
            answers.add(ex.answer)
        self.words = ["<pad>", "<unk>", *sorted(words)]
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.answers = sorted(answers)
        self.answer_index = {a: i for i, a in enumerate(self.answers)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens) -> list[int]:
        """Word indices (unknown words -> 1)."""
        return [self.word_index.get(t, UNK) for t in tokens]


def vectorize_babi(examples, vocab: BabiVocab, max_sentences: int = 50, max_words=None) -> dict:
    """Padded integer arrays for a list of examples.

    Stories longer than ``max_sentences`` keep their most recent sentences (the usual
    MemN2N-style cap); examples whose answer is not in ``vocab`` get label -1.

    Parameters
    ----------
    examples : list of BabiExample
    vocab : BabiVocab
    max_sentences : int
        Sentences kept per story.
    max_words : int, optional
        Words per sentence/question (default: the longest present).

    Returns
    -------
    dict
        ``story`` (n, S, W) int64, ``story_mask`` (n, S) bool (at least one True per row; an
        empty story gets one all-padding sentence), ``question`` (n, W) int64, ``answer`` (n,)
        int64, ``task`` (n,) int64, ``n_truncated`` int.
    """
    if not examples:
        raise ValueError("examples must not be empty")
    if isinstance(max_sentences, bool) or not isinstance(max_sentences, int) or max_sentences < 1:
        raise ValueError(f"max_sentences must be an integer >= 1, got {max_sentences!r}")
    if max_words is None:
        max_words = max(
            max((len(s) for ex in examples for s in ex.story), default=1),
            max(len(ex.question) for ex in examples),
        )
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
        raise ValueError(f"max_words must be an integer >= 1, got {max_words!r}")
    n = len(examples)
    S = min(max_sentences, max(max(len(ex.story) for ex in examples), 1))
    story = np.zeros((n, S, max_words), dtype=np.int64)
    mask = np.zeros((n, S), dtype=bool)
    question = np.zeros((n, max_words), dtype=np.int64)
    answer = np.empty(n, dtype=np.int64)
    task = np.empty(n, dtype=np.int64)
    truncated = 0
    for i, ex in enumerate(examples):
        sents = ex.story[-S:]
        truncated += len(ex.story) > S
        for j, s in enumerate(sents):
            ids = vocab.encode(s)[:max_words]
            story[i, j, : len(ids)] = ids
            mask[i, j] = True
        if not sents:
            mask[i, 0] = True
        q = vocab.encode(ex.question)[:max_words]
        question[i, : len(q)] = q
        answer[i] = vocab.answer_index.get(ex.answer, -1)
        task[i] = ex.task
    return {
        "story": story,
        "story_mask": mask,
        "question": question,
        "answer": answer,
        "task": task,
        "n_truncated": int(truncated),
    }
