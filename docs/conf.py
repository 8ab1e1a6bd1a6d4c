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
# myst-nb reads Markdown pages and notebooks; the tests execute the notebooks, the docs do not
nb_execution_mode = "off"
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
suppress_warnings = ["myst.header"]


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


def setup(app):
    app.connect("builder-inited", _write_cli_reference)
