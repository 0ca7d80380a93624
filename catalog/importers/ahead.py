"""Reading a large import file in a second process, one chunk ahead of the writer.

Decoding, checking and tokenizing a record (`catalog.importers.prepared`) is about half of an import's CPU and
needs nothing from the database, while the writer's half is its SQLite or PostgreSQL statements. On the kiosk's
two cores the two halves overlap: a child process reads the file and sends chunks of prepared records through a
pipe; it is at most one chunk ahead, because it blocks on the pipe until the writer takes the next chunk.

Nothing here writes to the database: crash safety stays the writer's (one transaction per chunk). If the importing
process dies (SIGKILL), the child's next write to the pipe fails and it exits; if the writer stops early, the
child is killed when the iterator is closed.

The child is `python -c "…ahead import main; main()"` (not multiprocessing): it imports only the catalog, never
the program that started it (the kiosk CLI, or the Kivy app).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from catalog.importers.prepared import PreparedRecord, prepare
from catalog.importers.records import CatalogImportError, RecordError, TitleRecord

if TYPE_CHECKING:
    from catalog.importers import ImportMapping

AHEAD_MIN_BYTES = 512 * 1024
"""Smaller files are read in the importing process: starting the child (~0.5 s of imports) would cost more than
overlapping saves on a few thousand records."""


class ReaderFailed(CatalogImportError):
    """The reading process ended without finishing the file (a bug in a parser, or it was killed)."""


def read_file_ahead(path: Path, mapping: ImportMapping | None = None, *, chunk: int | None = None,
                    stored_isbns: Callable[[], Set[str]] | None = None,
                    min_bytes: int = AHEAD_MIN_BYTES) -> Iterator[TitleRecord | PreparedRecord | RecordError]:
    """`read_file`'s records, prepared in a second process in chunks of `chunk` (the writer's chunk size).

    `stored_isbns` (`CatalogWriter.stored_isbns`) names the titles the catalog already has: their records are sent
    unprepared, so that re-importing a file does not cut tokens that nothing will write. It is only a hint: the
    writer prepares whatever it finds new after all.
    """
    from catalog.importers import read_file
    from catalog.importers.writer import CHUNK

    try:
        small = path.stat().st_size < min_bytes
    except OSError:
        small = True  # read_file reports it
    if small:
        return read_file(path, mapping)
    return _from_child(path, mapping, chunk or CHUNK, frozenset(stored_isbns() if stored_isbns else ()))


def _from_child(path: Path, mapping: ImportMapping | None, chunk: int,
                stored: frozenset[str]) -> Iterator[PreparedRecord | RecordError]:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    child = subprocess.Popen([sys.executable, "-c", "from catalog.importers.ahead import main; main()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert child.stdin is not None and child.stdout is not None
    try:
        try:
            pickle.dump((path, mapping, chunk, stored), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            child.stdin.close()
        except BrokenPipeError:
            raise ReaderFailed(f"the reading process for {path.name} exited with code {child.wait()} "
                               "before it was told what to read") from None
        while True:
            try:
                kind, payload = pickle.load(child.stdout)
            except (EOFError, pickle.UnpicklingError):
                # Killed while writing a chunk (it is usually blocked there, one chunk ahead, on a full pipe), it
                # leaves half a pickle: "truncated", not EOF.
                raise ReaderFailed(f"the reading process for {path.name} exited with code {_ended(child)} "
                                   "before the end of the file") from None
            if kind == "records":
                yield from payload
            elif kind == "error":
                raise payload
            elif kind == "failed":
                raise ReaderFailed(f"the reading process for {path.name} failed: {payload}")
            else:
                return
    finally:
        child.stdout.close()
        if child.poll() is None:
            child.kill()
        child.wait()


def _ended(child: subprocess.Popen[bytes]) -> int:
    """The exit code of a reading process whose stream broke off; killed if it still runs (its stream is garbled)."""
    try:
        return child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def _send(out: BinaryIO, kind: str, payload: Any) -> None:
    pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def _serve(source: BinaryIO, out: BinaryIO) -> None:
    from catalog.importers import read_file

    path, mapping, chunk, stored = pickle.load(source)
    batch: list[PreparedRecord | RecordError] = []
    prepared = 0
    try:
        for record in read_file(path, mapping):
            if isinstance(record, RecordError):
                batch.append(record)
                continue
            batch.append(PreparedRecord(record) if record.isbn13 in stored else prepare(record))
            prepared += 1
            if prepared >= chunk:
                _send(out, "records", batch)
                batch, prepared = [], 0
    except CatalogImportError as exc:
        _send(out, "records", batch)
        _send(out, "error", exc)
        return
    except Exception as exc:  # reported to the importing process, which raises it there
        _send(out, "failed", f"{type(exc).__name__}: {exc}")
        return
    _send(out, "records", batch)
    _send(out, "end", None)


def main() -> None:
    """The reading process: arguments as one pickle on stdin, chunks as pickles on stdout."""
    import gc

    gc.disable()  # ~40 small objects per record, none of them cyclic: the collector would only walk the heap
    # The pickle stream gets a descriptor of its own; descriptor 1 and sys.stdout then point at stderr, so that
    # neither a stray print nor a C library writing to fd 1 can land in the stream.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), 1)
    sys.stdout = sys.stderr
    try:
        _serve(sys.stdin.buffer, protocol)
    except BrokenPipeError:
        # The importing process is gone (killed, or it stopped reading): nothing is left to do.
        os._exit(0)
