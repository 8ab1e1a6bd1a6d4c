"""`neuromem hardware template`: the shipped sPyNNaker templates, printed or written."""

from __future__ import annotations

import configparser

import pytest

from neuromem import presets
from neuromem.cli import main


@pytest.mark.parametrize("name", ["virtual-board", "spinn3", "spinn5", "spalloc"])
def test_every_template_is_a_machine_cfg(name, capsys):
    assert main(["hardware", "template", name]) == 0
    text = capsys.readouterr().out
    assert text == presets.spinnaker_template(name)
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    parser.read_string(text)
    assert parser.has_section("Machine")


def test_template_written_once_and_described(tmp_path, capsys):
    from neuromem.hardware import describe_config

    out = tmp_path / ".spynnaker.cfg"
    assert main(["hardware", "template", "virtual-board", "--out", str(out)]) == 0
    assert describe_config(out)["kind"] == "virtual"
    out.write_text("# edited\n")
    # an existing file is not replaced without --force
    assert main(["hardware", "template", "spinn5", "--out", str(out)]) == 2
    assert out.read_text() == "# edited\n"
    assert main(["hardware", "template", "spinn5", "--out", str(out), "--force"]) == 0
    assert describe_config(out)["kind"] == "board"
    assert main(["hardware", "template", "nope"]) == 2
    assert "unknown SpiNNaker template 'nope'" in capsys.readouterr().err
    assert main(["hardware", "template", "spinn3", "--out", str(tmp_path / "no" / "x")]) == 2
