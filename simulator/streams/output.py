"""Output: writing a gathered frame to a client, over UDP (with GSO) or its RTSP connection.

A frame arrives as the buffers `Layout.gather` made (headers stamped, payloads shared); they
leave in as few system calls as the kernel allows: one sendmsg per run of equal-sized UDP
packets (generic segmentation offload), one writev per TCP client while its transport has
nothing queued.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import struct
import termios
from dataclasses import dataclass

from simulator.streams.rtp import Layout
from simulator.streams.stream import Client

UDP_SEGMENT = 103  # Linux socket option (SOL_UDP) for UDP generic segmentation offload
IOV_MAX = 1024  # most buffers one writev/sendmsg takes (Linux)


@dataclass
class UdpOut:
    """The server's RTP and RTCP sockets (one pair shared by all UDP sessions)."""

    rtp: socket.socket
    rtcp: socket.socket
    gso: bool = True

    def send(self, lay: Layout, parts: list, addr: tuple[str, int], keep: list[bool] | None) -> int:
        """Send one gathered frame; returns bytes sent (raises BlockingIOError when full)."""
        sock = self.rtp
        if self.gso and keep is None:
            try:
                for first, end, seg in lay.gso:
                    chunk = lay.packet_parts(parts, first, end)
                    if end - first > 1:
                        sock.sendmsg(chunk, [(socket.SOL_UDP, UDP_SEGMENT, _SEG[seg])], 0, addr)
                    else:
                        sock.sendmsg(chunk, (), 0, addr)
                return lay.nbytes
            except BlockingIOError:
                raise
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EINVAL, errno.ENOPROTOOPT, errno.EOPNOTSUPP):
                    self.gso = False  # no GSO here: one datagram per packet from now on
                # otherwise: this frame one datagram per packet (what was sent is sent again)
        sent = 0
        for k, (_, size, _) in enumerate(lay.heads):
            if keep is None or keep[k]:
                sock.sendmsg(lay.packet_parts(parts, k, k + 1), (), 0, addr)
                sent += size
        return sent


class _Segments(dict):
    """GSO segment sizes as the socket option wants them, built once per size."""

    def __missing__(self, seg: int) -> bytes:
        self[seg] = value = struct.pack("=H", seg)
        return value


_SEG = _Segments()


def write_tcp(c: Client, parts: list, nbytes: int) -> None:
    """Write a gathered frame to a client's connection, behind anything already queued."""
    t = c.tcp
    assert t is not None
    if c.fd < 0 or len(parts) > IOV_MAX or t.get_write_buffer_size():
        t.write(b"".join(parts))
        return
    try:
        n = os.writev(c.fd, parts)
    except BlockingIOError:
        n = 0
    except OSError:
        return  # the connection is broken: the transport will notice and end its sessions
    if n < nbytes:
        t.write(b"".join(parts)[n:])


def kept_parts(lay: Layout, parts: list, keep: list[bool]) -> list:
    """A gathered frame without the packets a loss fault drops."""
    out: list = []
    for k, kept in enumerate(keep):
        if kept:
            out += lay.packet_parts(parts, k, k + 1)
    return out


def unsent_bytes(clients: list[Client]) -> int:
    """What a stream's playing TCP clients have not taken yet: the transport's queue and the
    kernel's send queue (SIOCOUTQ), in bytes."""
    total = 0
    for c in clients:
        if c.playing and c.tcp is not None:
            total += c.tcp.get_write_buffer_size()
            if c.fd >= 0:
                with contextlib.suppress(OSError):
                    total += struct.unpack("i", fcntl.ioctl(c.fd, termios.TIOCOUTQ, b"\0" * 4))[0]
    return total
