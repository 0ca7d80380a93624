"""Catalog import throughput: a 100,000-record CSV (GB18030, Chinese headers) into an empty database.

    .venv/bin/python bench/bench_import.py --records 100000 --backend both

The file is written from the demo generator (one row per title with one copy, as a city-library export lists
them), then imported through the same path as `kiosk catalog import` (`read_file_ahead` → `CatalogWriter`), a
second time to show the idempotent re-import. Target: under 60 s for the first import. The CPU time of this process
and of its reading process (`catalog.importers.ahead`) are printed too: on a shared machine the wall time also
measures the neighbours (SQLite runs in this process; PostgreSQL's own work is not in it).
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog import schema
from catalog.db import Database
from catalog.demo import generate_titles
from catalog.importers import CatalogWriter, read_file_ahead
from catalog.model import Branch, Title
from catalog.pinyin import author_pinyin, title_pinyin
from catalog.search import TitleToken

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def write_csv(path: Path, records: int) -> int:
    unique = set()
    with path.open("w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["题名", "责任者", "ISBN", "出版社", "出版年", "中图分类号", "索书号", "条码号", "馆藏地"])
        for n, t in enumerate(generate_titles(records)):
            unique.add(t.title)
            writer.writerow([t.title, t.authors, t.isbn13, t.publisher, t.pub_year, t.clc_class, t.call_number,
                             f"WH{n:08d}", "A区 1排 1层"])
    return len(unique)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(name: str, url: str, path: Path) -> float:
    db = Database.from_url(url, statement_timeout_s=600)
    schema.upgrade(db.engine)
    with db.unit_of_work() as s:
        s.add(Branch(code="BENCH", name="基准书房"))
    title_pinyin.cache_clear()
    author_pinyin.cache_clear()
    started, cpu, reader_cpu = time.perf_counter(), time.process_time(), _children_cpu()
    writer = CatalogWriter(db, "BENCH")
    first = writer.write(read_file_ahead(path, stored_isbns=writer.stored_isbns))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    reader_cpu = _children_cpu() - reader_cpu
    with db.read() as s:
        tokens = s.scalar(select(func.count()).select_from(TitleToken))
    started = time.perf_counter()
    writer = CatalogWriter(db, "BENCH")
    second = writer.write(read_file_ahead(path, stored_isbns=writer.stored_isbns))
    again = time.perf_counter() - started
    with db.read() as s:
        titles = s.scalar(select(func.count()).select_from(Title))
    db.dispose()
    print(f"{name}: first import {elapsed:.1f} s ({first.added} added, {first.rejected} rejected, "
          f"{first.copies_added} copies, {first.total / elapsed:.0f} records/s, this process's CPU {cpu:.1f} s, "
          f"reading process's CPU {reader_cpu:.1f} s, {tokens} index tokens); "
          f"re-import {again:.1f} s ({second.unchanged} unchanged); {titles} titles in the database")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        unique = write_csv(path, args.records)
        print(f"{path.name}: {args.records} records, {unique} distinct titles, "
              f"{path.stat().st_size / 1e6:.1f} MB GB18030")
        if args.backend in ("sqlite", "both"):
            worst = max(worst, run("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", path))
        if args.backend in ("postgresql", "both"):
            admin = create_engine(args.postgres_admin_url, isolation_level="AUTOCOMMIT")
            name = "kiosk_bench_import"
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(args.postgres_admin_url).set(database=name).render_as_string(hide_password=False)
            try:
                worst = max(worst, run("PostgreSQL", url, path))
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"slowest first import: {worst:.1f} s (target < 60 s)")
    return 0 if worst < 60 else 1


if __name__ == "__main__":
    raise SystemExit(main())
