"""Sphinx configuration for the neuromem documentation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import neuromem  # noqa: E402

project = "neuromem"
author = "neuromem developers"
copyright = "2026, neuromem developers"
release = neuromem.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
# myst-nb reads Markdown pages and notebooks; the four notebooks of notebooks/ are copied into
# docs/notebooks/ at each build and executed there (cached in _build/.jupyter_cache: a notebook
# runs again only when it changed), so the pages show their outputs; an error fails the build
nb_execution_mode = "cache"
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
exclude_patterns = ["_build", "generated/*.txt"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
html_theme = "sphinx_rtd_theme"
html_static_path: list[str] = []
nitpicky = False
# progress-bar widgets have no static rendering: not a documentation error
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]


def _write_cli_reference(app) -> None:
    """Write the help text of every ``neuromem`` command into generated/cli.txt."""
    from neuromem.cli import build_parser

    parser = build_parser()
    parts = [parser.format_help()]

    def walk(p, prefix):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    parts.append(f"\n$ {prefix} {name} --help\n" + sub.format_help())
                    walk(sub, f"{prefix} {name}")

    walk(parser, "neuromem")
    out = HERE / "generated"
    out.mkdir(exist_ok=True)
    (out / "cli.txt").write_text("\n".join(parts))


def _copy_notebooks(app) -> None:
    """Copy notebooks/*.ipynb into docs/notebooks/ (ignored by git) for myst-nb."""
    import shutil

    dest = HERE / "notebooks"
    dest.mkdir(exist_ok=True)
    for nb in sorted((HERE.parent / "notebooks").glob("*.ipynb")):
        target = dest / nb.name
        if not target.exists() or target.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, target)


def setup(app):
    app.connect("builder-inited", _write_cli_reference)
    app.connect("builder-inited", _copy_notebooks)
