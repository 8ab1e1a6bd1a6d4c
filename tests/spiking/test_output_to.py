"""``output_to``: a simulator's chatter goes to a file, and everything is put back."""

from __future__ import annotations

import logging
import os
import sys

import pytest

from neuromem.spiking.backends.env import output_to


def test_output_of_every_kind_goes_to_the_file_and_the_console_is_restored(tmp_path, capfd):
    log = tmp_path / "sim.log"
    before = logging.StreamHandler(sys.stderr)  # made before the block (like a basicConfig)
    lg = logging.getLogger("neuromem-test-output-to")
    lg.addHandler(before)
    lg.propagate = False
    out0, err0 = sys.stdout, sys.stderr
    try:
        with output_to(log):
            print("python stdout")
            print("python stderr", file=sys.stderr)
            os.write(1, b"fd one\n")
            os.write(2, b"fd two\n")
            lg.warning("logged by a handler made before")
            inside = logging.StreamHandler(sys.stderr)  # made inside the block
            lg.addHandler(inside)
        text = log.read_text()
        for line in ("python stdout", "python stderr", "fd one", "fd two", "made before"):
            assert line in text
        assert sys.stdout is out0 and sys.stderr is err0
        assert before.stream is not None and inside.stream is sys.stderr
        print("after")
        lg.warning("back on the console")
        seen = capfd.readouterr()
        assert "after" in seen.out and "back on the console" in seen.err
        assert "python stdout" not in seen.out + seen.err
    finally:
        lg.handlers.clear()


def test_output_is_restored_after_an_error_and_none_leaves_it_alone(tmp_path, capfd):
    log = tmp_path / "sim.log"
    with pytest.raises(RuntimeError), output_to(log):
        print("before the error")
        raise RuntimeError("boom")
    print("restored")
    with output_to(None):
        print("untouched")
    seen = capfd.readouterr().out
    assert "restored" in seen and "untouched" in seen and "before the error" not in seen
    assert "before the error" in log.read_text()
