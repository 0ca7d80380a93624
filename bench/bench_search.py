"""Catalog search latency on a large demo catalog, SQLite and PostgreSQL.

    .venv/bin/python bench/bench_search.py --titles 200000 --backend both

Builds (once; reused while its title count matches) a demo catalog of N titles with the demo generator, then runs
a mix of the queries visitors and librarians type — two-character Chinese words, pinyin initials, full-pinyin
prefixes, single letters (results update from the first letter typed), authors, ISBNs, barcodes, call numbers and
category listings — through `Browser.search`, exactly as the kiosk's Find-a-book screen does, and prints p50/p95/max.
Target: p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog import schema
from catalog.db import Database
from catalog.demo import load_demo
from catalog.model import Item, Title
from catalog.pinyin import author_pinyin
from kiosk.browse import Browser

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _prepare(url: str, titles: int) -> Database:
    db = Database.from_url(url, statement_timeout_s=600)
    schema.upgrade(db.engine)
    with db.read() as s:
        have = s.scalar(select(func.count()).select_from(Title)) or 0
    if have != titles:
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  {done}/{total} titles, {time.perf_counter() - started:.0f} s", flush=True)

        load_demo(db, titles=titles, progress=progress)
        print(f"  built {titles} titles in {time.perf_counter() - started:.0f} s", flush=True)
        if db.dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.connect() as c:
                c.exec_driver_sql("ANALYZE")
    return db


def _queries(db: Database, count: int, seed: int = 7) -> list[tuple[str, str, str | None]]:
    rng = random.Random(seed)
    with db.read() as s:
        sample = s.execute(
            select(Title.id, Title.title, Title.authors, Title.isbn13, Title.call_number, Title.title_pinyin,
                   Title.title_initials).order_by(Title.id)
        ).all()
        barcodes = list(s.scalars(select(Item.barcode).order_by(Item.id).limit(50_000)))
    queries: list[tuple[str, str, str | None]] = []
    for _ in range(count):
        row = rng.choice(sample)
        kind = rng.choice(["chinese2", "chinese2", "initials", "initials", "pinyin", "letter", "author", "isbn",
                           "barcode", "call_number", "category", "title"])
        chinese = [c for c in row.title if "\u4e00" <= c <= "\u9fff"]
        if kind == "chinese2" and len(chinese) >= 2:
            i = rng.randrange(len(chinese) - 1)
            queries.append((kind, chinese[i] + chinese[i + 1], None))
        elif kind == "initials" and len(row.title_initials) >= 3:
            queries.append((kind, row.title_initials[: rng.randint(2, 5)], None))
        elif kind == "pinyin" and row.title_pinyin:
            queries.append((kind, "".join(row.title_pinyin.split()[:2]), None))
        elif kind == "letter":
            queries.append((kind, rng.choice("abcdefghjklmnpqrstwxyz"), None))
        elif kind == "author":
            queries.append((kind, author_pinyin(row.authors).full.split()[0] if rng.random() < 0.3
                            else row.authors.split()[0].rstrip(","), None))
        elif kind == "isbn" and row.isbn13:
            queries.append((kind, f"{row.isbn13[:3]}-{row.isbn13[3]}-{row.isbn13[4:]}", None))
        elif kind == "barcode":
            queries.append((kind, rng.choice(barcodes), None))
        elif kind == "call_number":
            queries.append((kind, row.call_number, None))
        elif kind == "category":
            queries.append((kind, "", rng.choice(["party", "economy", "literature", "children", "life"])))
        else:
            queries.append(("title", row.title, None))
    return queries


def _run(name: str, db: Database, count: int) -> list[float]:
    browser = Browser(db, "DEMO")
    queries = _queries(db, count)
    for _kind, q, category in queries[:20]:  # warm caches the way a running kiosk has them
        browser.search(q, category=category)
    by_kind: dict[str, list[float]] = defaultdict(list)
    everything: list[float] = []
    for kind, q, category in queries:
        started = time.perf_counter()
        browser.search(q, category=category, limit=20)
        elapsed = (time.perf_counter() - started) * 1000
        by_kind[kind].append(elapsed)
        everything.append(elapsed)
    print(f"\n{name}: {len(everything)} queries")
    print(f"  {'kind':<12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, times in sorted(by_kind.items()):
        print(f"  {kind:<12} {len(times):>5} {_pct(times, 50):>8.1f} {_pct(times, 95):>8.1f} {max(times):>8.1f}")
    print(f"  {'ALL':<12} {len(everything):>5} {_pct(everything, 50):>8.1f} {_pct(everything, 95):>8.1f} "
          f"{max(everything):>8.1f}")
    return everything


def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--titles", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sqlite-file", default="/tmp/kiosk-bench-search.sqlite3")
    parser.add_argument("--postgres-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    worst = 0.0
    if args.backend in ("sqlite", "both"):
        print(f"SQLite {args.sqlite_file}")
        db = _prepare(f"sqlite:///{args.sqlite_file}", args.titles)
        worst = max(worst, _pct(_run("SQLite", db, args.queries), 95))
        db.dispose()
    if args.backend in ("postgresql", "both"):
        admin = create_engine(args.postgres_admin_url, isolation_level="AUTOCOMMIT")
        name = "kiosk_bench_search"
        with admin.connect() as c:
            if not c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(args.postgres_admin_url).set(database=name).render_as_string(hide_password=False)
        print(f"PostgreSQL {name}")
        db = _prepare(url, args.titles)
        worst = max(worst, _pct(_run("PostgreSQL", db, args.queries), 95))
        db.dispose()
    print(f"\nworst p95: {worst:.1f} ms (target ≤ 50 ms)")
    return 0 if worst <= 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
