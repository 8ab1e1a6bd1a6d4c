"""A SpiNNaker board's configuration and whether it answers (used before a pyNN.spiNNaker build).

:func:`describe_config` says what a sPyNNaker configuration file points at; :func:`ping_board`
asks a board by IP address for its SC&MP version (SCP on UDP port 17893) and raises
:class:`BoardUnreachableError` within ``timeout`` seconds when it does not answer;
:func:`check_configured_board` does both for the configuration sPyNNaker would read.
:mod:`neuromem.hardware` re-exports them beside its CA3 mapping tools.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import time
from pathlib import Path

from neuromem.errors import ConfigError, DataNotFoundError

__all__ = [
    "BoardUnreachableError",
    "SCP_PORT",
    "describe_config",
    "ping_board",
    "check_configured_board",
]

SCP_PORT = 17893  #: UDP port on which SC&MP answers SCP requests


class BoardUnreachableError(ConfigError):
    """A SpiNNaker board named in the configuration did not answer."""


def describe_config(path: str | os.PathLike | None = None) -> dict:
    """What an sPyNNaker configuration points at.

    Parameters
    ----------
    path : path, optional
        A cfg file, read alone; default: what sPyNNaker would read, the user file
        (``~/.spynnaker.cfg`` or ``~/.config/.spynnaker.cfg``) and then ``./spynnaker.cfg``
        on top of it (see :func:`~neuromem.spiking.backends.env.spinnaker_config`).

    Returns
    -------
    dict
        ``path`` (the cfg file, or the user file), ``local`` (the ``./spynnaker.cfg`` read on
        top, or None), ``kind`` (``"virtual"``, ``"board"``, ``"spalloc"`` or ``None``),
        ``host`` (board address or spalloc URL), ``version`` (board version as int or None),
        ``time_scale_factor`` (or None) and ``target`` (one line).

    Raises
    ------
    DataNotFoundError
        ``path`` given but absent.
    ConfigError
        Unreadable file, or a ``version`` that is not 3 or 5.
    """
    local = None
    if path is None:
        from neuromem.spiking.backends.env import spinnaker_config

        found = spinnaker_config()
        if found["path"] is None:
            why = "no sPyNNaker configuration (see `neuromem hardware template`)"
            if found["local"]:
                why = f"{found['target']} (see `neuromem hardware template`)"
            return {
                "path": None,
                "local": found["local"],
                "kind": None,
                "host": None,
                "version": None,
                "time_scale_factor": None,
                "target": why,
            }
        path, local = found["path"], found["local"]
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"--cfg: file not found: {p}")
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    for f in [p] + ([Path(local)] if local else []):
        try:
            parser.read(f)
        except configparser.Error as exc:
            raise ConfigError(f"--cfg: {f} is not a readable cfg file: {exc}") from None
    m = parser["Machine"] if parser.has_section("Machine") else {}

    def val(key):
        v = m.get(key)
        return None if v is None or v.strip() in ("", "None") else v.strip()

    version = val("version")
    if version is not None:
        if version not in ("3", "5"):
            raise ConfigError(
                f"--cfg: {p}: version must be 3 (SpiNN-3) or 5 (SpiNN-5), got {version}"
            )
        version = int(version)
    tsf = val("time_scale_factor")
    if str(val("virtual_board")).lower() == "true":
        kind, host, target = "virtual", None, f"virtual SpiNN-{version or 5} board (no spikes)"
    elif val("machine_name"):
        kind, host = "board", val("machine_name")
        target = f"SpiNN-{version or '?'} board at {host}"
    elif val("spalloc_server"):
        kind, host = "spalloc", val("spalloc_server")
        target = f"boards allocated by the spalloc server {host}"
    else:
        kind, host, target = None, None, "no machine named (machine_name, spalloc_server, ...)"
    return {
        "path": str(p),
        "local": local,
        "kind": kind,
        "host": host,
        "version": version,
        "time_scale_factor": float(tsf) if tsf else None,
        "target": target,
    }


def ping_board(host: str, timeout: float = 5.0, port: int = SCP_PORT) -> str:
    """Ask the board at ``host`` for its SC&MP version.

    Parameters
    ----------
    host : str
        IP address or host name of the board (its Ethernet chip).
    timeout : float
        Seconds to wait in all (> 0); the request is repeated every second.
    port : int
        UDP port of SC&MP.

    Returns
    -------
    str
        The version reply (raw description).

    Raises
    ------
    BoardUnreachableError
        No answer within ``timeout`` seconds; the message says what to check.
    ValueError
        Empty host or a non-positive timeout.
    """
    if not isinstance(host, str) or not host.strip():
        raise ValueError("host must be a non-empty string")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 s, got {timeout!r}")
    from spinnman.connections.udp_packet_connections import SCAMPConnection
    from spinnman.messages.scp.impl import GetVersion

    deadline = time.monotonic() + timeout
    last = "no reply"
    conn = None
    try:
        try:
            conn = SCAMPConnection(remote_host=host, remote_port=port)
        except Exception as exc:  # noqa: BLE001 - name resolution or socket errors
            raise BoardUnreachableError(_unreachable(host, timeout, str(exc))) from None
        while time.monotonic() < deadline:
            try:
                conn.send(conn.get_scp_data(GetVersion(x=0, y=0, p=0)))
                wait = min(1.0, max(0.05, deadline - time.monotonic()))
                result, _seq, data, _off = conn.receive_scp_response(timeout=wait)
                return f"SCP reply {result.name} ({len(data)} bytes)"
            except Exception as exc:  # noqa: BLE001 - timeouts, refused ports
                last = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                rest = deadline - time.monotonic()
                if rest > 0 and "timed out" not in last.lower():
                    time.sleep(min(0.5, rest))
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
    raise BoardUnreachableError(_unreachable(host, timeout, last))


def _unreachable(host: str, timeout: float, why: str) -> str:
    return (
        f"SpiNNaker board at {host} did not answer SCP (UDP port {SCP_PORT}) within "
        f"{timeout:g} s ({why}). Check that it is powered and its Ethernet link lit, that "
        f"this machine has an address on the board's subnet (e.g. 192.168.240.x), that "
        f"machine_name in the cfg is right, and that no firewall drops UDP {SCP_PORT}; "
        "nothing was sent to the board beyond this request."
    )


def check_configured_board(path=None, timeout: float = 5.0) -> dict:
    """Describe the configuration and, for a board by IP address, check that it answers.

    Returns
    -------
    dict
        :func:`describe_config` plus ``reply`` (board answer) for a board.

    Raises
    ------
    BoardUnreachableError
        The named board did not answer within ``timeout`` seconds.
    """
    info = describe_config(path)
    if info["kind"] == "board":
        info["reply"] = ping_board(info["host"], timeout=timeout)
    return info
