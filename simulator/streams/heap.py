"""The serving process's C heap (glibc): how it gives memory back to the kernel. A soak's
slow readers grow asyncio's write buffers and a bitrate spike builds a spiked copy of a loop
in a worker thread (its headers and references only since the filler's packets are shared:
loop.py); glibc keeps such peaks in its heap, fragmented, unless told otherwise."""

from __future__ import annotations

import contextlib
import ctypes

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
#: Blocks from this size get their own mapping, unmapped when freed. Setting it also stops
#: glibc raising the threshold as large blocks are freed (up to 32 MiB), which is what let
#: an hour's write buffers settle in the heap (+5 % RSS in a soak, in ~2 MB steps).
MMAP_FROM_BYTES = 128 * 1024


def _libc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError):
        return ctypes.CDLL(None)
    return None


def map_large_blocks() -> bool:
    """Give large blocks their own mappings from now on (False where this is not glibc)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES))


def return_to_os() -> None:
    """Give the heap's free pages back to the kernel (a no-op where this is not glibc)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
