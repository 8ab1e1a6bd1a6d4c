"""``neuromem data list | fetch NAME | path NAME``: the reference data sets in a user cache."""

from __future__ import annotations

import argparse

from neuromem.errors import ConfigError


def cmd_list(args: argparse.Namespace) -> int:
    """Every data set: whether it is in the cache, its folder and its source."""
    from .fetch import DATASETS, _files, cache_dir, dataset_path, is_cached

    root = args.cache or cache_dir()
    print(f"cache: {root}  (pass it as --data; $NEUROMEM_CACHE moves it)")
    for name in DATASETS:
        files = _files(name)
        src = files[0].url.rsplit("/", 1)[0] if files and files[0].url else "official archive"
        state = "cached " if is_cached(name, root) else "missing"
        print(f"  {name:<9} {state}  {len(files):>2} files  {dataset_path(name, root)}  <- {src}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Download one data set (or ``all``) into the cache, checking every file's SHA-256."""
    from .fetch import DATASETS, cache_dir, fetch

    names = list(DATASETS) if args.name == "all" else [args.name]
    if args.name != "all" and args.name not in DATASETS:
        raise ConfigError(
            f"NAME: unknown data set {args.name!r}; known: all, {', '.join(DATASETS)}"
        )
    for n in names:
        path = fetch(n, mirror=args.mirror, cache=args.cache, progress=not args.no_progress)
        print(f"{n}: {path}")
    print(f"use it with: --data {args.cache or cache_dir()}")
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    """Print where a data set lies in the cache (exit 1 when it is not there yet)."""
    from .fetch import dataset_path, is_cached

    print(dataset_path(args.name, args.cache))
    return 0 if is_cached(args.name, args.cache) else 1


def add_commands(subparsers) -> None:
    """Add ``neuromem data list|fetch|path``."""
    p = subparsers.add_parser(
        "data",
        help="download the reference data sets (MNIST, knowledge graphs, bAbI) into a cache",
        description="The reference data sets in a user cache, each file checked by SHA-256.",
    )
    sub = p.add_subparsers(dest="data_command", metavar="COMMAND")
    sub.required = True
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cache", metavar="DIR", help="cache folder (default: $NEUROMEM_CACHE "
                        "or the user cache, ~/.cache/neuromem on Linux)")  # fmt: skip

    sp = sub.add_parser("list", parents=[common], help="data sets, cached or not, and sources")
    sp.set_defaults(func=cmd_list)

    sp = sub.add_parser("fetch", parents=[common], help="download NAME (or all) into the cache")
    sp.add_argument("name", metavar="NAME", help="mnist, kinships, nations, umls, babi or all")
    sp.add_argument("--mirror", metavar="URL",
                    help="a server laid out as the cache (mnist/..., kg/<graph>/..., "
                    "babi/en-valid-10k/...) instead of the official sources")  # fmt: skip
    sp.add_argument("--no-progress", action="store_true", help="no progress bar")
    sp.set_defaults(func=cmd_fetch)

    sp = sub.add_parser("path", parents=[common], help="the folder of NAME in the cache")
    sp.add_argument("name", metavar="NAME")
    sp.set_defaults(func=cmd_path)
