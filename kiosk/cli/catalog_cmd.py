"""`kiosk catalog …`: import, export, search, add, edit, withdraw, stats, reindex.

Exit codes: 0 done; 1 a clear error (one line on stderr); 3 an import that wrote what it could but rejected some
records (the report lists each as `file:line: reason`), so a nightly script can tell "all in" from "look at this".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import catalog.search  # noqa: F401  (index hooks for ORM writes)
from catalog import clc
from catalog import isbn as isbn_rules
from catalog.db import BATCH_STATEMENT_TIMEOUT_S, Database
from catalog.exporters import ENCODINGS, FORMATS, ExportError, export
from catalog.importers import (
    CatalogImportError,
    CatalogWriter,
    ImportMapping,
    ImportSummary,
    UnknownBranch,
    load_mapping,
    read_file_ahead,
)
from catalog.model import Item, ItemStatus, Loan, Title
from catalog.schema import SchemaOutOfDate
from catalog.search import reindex_all, search_catalog
from kiosk.bootstrap import open_database
from kiosk.cli.options import ConfigOption, JsonOption, fail, settings_from

catalog_app = typer.Typer(help="The catalog: import/export, search, add/edit/withdraw titles.", no_args_is_help=True)
EXIT_REJECTED = 3


@contextmanager
def opened(config: str | None) -> Iterator[Database]:
    """The configured database, or one clear line and exit 1 when it cannot be used."""
    settings = settings_from(config)
    try:
        db = open_database(settings)
    except SchemaOutOfDate as exc:
        raise fail(str(exc)) from None
    except OperationalError as exc:
        raise fail(f"cannot reach the database: {exc.orig}") from None
    try:
        yield db
    finally:
        db.dispose()


def branch_code(config: str | None, branch: str | None) -> str:
    return branch or settings_from(config).kiosk.branch


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, default=str))


def find_title(session: Any, ref: str) -> Title:
    """A title by id ("123"), ISBN (any form) or exact barcode of one of its copies."""
    title: Title | None = None
    if ref.isdigit() and len(ref) < 10:
        title = session.get(Title, int(ref))
    elif isbn_rules.is_valid(ref):
        title = session.scalars(select(Title).where(Title.isbn13 == isbn_rules.to_isbn13(ref))).first()
    if title is None:
        title = session.scalars(select(Title).join(Item).where(Item.barcode == ref)).first()
    if title is None:
        raise fail(f"no title {ref!r} (give its id, ISBN or a copy's barcode)")
    return title


def _title_json(t: Title) -> dict[str, Any]:
    return {"id": t.id, "isbn13": t.isbn13, "title": t.title, "authors": t.authors, "publisher": t.publisher,
            "pub_year": t.pub_year, "clc_class": t.clc_class, "category": t.category, "call_number": t.call_number,
            "summary": t.summary, "summary_en": t.summary_en}


# --- import / export -----------------------------------------------------------------------------------------


@catalog_app.command("import")
def import_files(
    files: Annotated[list[Path], typer.Argument(help="CSV/TSV/XLSX exports, MARC21/CNMARC (.mrc/.iso) or MARCXML.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing.")] = False,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="TOML/JSON: [headers] and MARC field map.")] = None,
    branch: Annotated[str | None, typer.Option("--branch", help="Branch that holds the copies.")] = None,
    errors_file: Annotated[Path | None, typer.Option("--errors", help="Also write the rejected records here.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import catalog records; re-importing a file changes nothing; bad records are reported, never half-written."""
    try:
        field_mapping = load_mapping(mapping) if mapping else ImportMapping()
    except CatalogImportError as exc:
        raise fail(str(exc)) from None
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise fail(f"file not found: {', '.join(missing)}")
    code = branch_code(config, branch)
    totals = ImportSummary()
    per_file: list[dict[str, Any]] = []
    unreadable: list[str] = []
    console = Console(stderr=True)
    with opened(config) as db:
        try:
            writer = CatalogWriter(db, code, dry_run=dry_run)
        except UnknownBranch as exc:
            raise fail(str(exc)) from None
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                      disable=as_json) as bar:
            for path in files:
                task = bar.add_task(f"{path.name}: reading", total=None)
                committed: list[ImportSummary] = [ImportSummary()]

                def show(summary: ImportSummary, task: Any = task, name: str = path.name,
                         committed: list[ImportSummary] = committed) -> None:
                    # Called after each committed chunk: what is in the database if the file breaks off later.
                    committed[0] = replace(summary, errors=list(summary.errors))
                    bar.update(task, description=f"{name}: {summary.total} records "
                                                 f"(+{summary.added} ~{summary.updated} ={summary.unchanged} "
                                                 f"✗{summary.rejected})")

                complete = True
                try:
                    summary = writer.write(read_file_ahead(path, field_mapping, stored_isbns=writer.stored_isbns),
                                           progress=show)
                except CatalogImportError as exc:
                    written = committed[0]
                    if not written.total:
                        unreadable.append(str(exc))
                        bar.update(task, description=f"{path.name}: unreadable")
                        continue
                    # Some chunks were committed before the file broke off: count them, and say how to finish.
                    unreadable.append(f"{exc}; its first {written.total} records are done (counted below), "
                                      "import the file again to finish it")
                    bar.update(task, description=f"{path.name}: stopped after {written.total} records")
                    summary, complete = written, False
                per_file.append({"file": str(path), "added": summary.added, "updated": summary.updated,
                                 "unchanged": summary.unchanged, "rejected": summary.rejected,
                                 "copies_added": summary.copies_added, "complete": complete})
                for name in ("added", "updated", "unchanged", "rejected", "copies_added"):
                    setattr(totals, name, getattr(totals, name) + getattr(summary, name))
                totals.errors.extend(summary.errors)
    if errors_file is not None:
        errors_file.write_text("".join(f"{e}\n" for e in totals.errors), encoding="utf-8")
    if as_json:
        echo_json({"dry_run": dry_run, "branch": code, "files": per_file, "unreadable": unreadable,
                   "added": totals.added, "updated": totals.updated, "unchanged": totals.unchanged,
                   "rejected": totals.rejected, "copies_added": totals.copies_added,
                   "errors": [str(e) for e in totals.errors]})
    else:
        for error in totals.errors:
            typer.echo(str(error), err=True)
        for line in unreadable:
            typer.secho(line, fg="red", err=True)
        prefix = "dry run, nothing written: " if dry_run else ""
        typer.echo(f"{prefix}{totals.added} added, {totals.updated} updated, {totals.unchanged} unchanged, "
                   f"{totals.rejected} rejected; {totals.copies_added} copies added")
    if unreadable:
        raise typer.Exit(1)
    if totals.rejected:
        raise typer.Exit(EXIT_REJECTED)


@catalog_app.command("export")
def export_file(
    path: Annotated[Path, typer.Argument(help="Output file.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, xlsx or marc (default: by extension).")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="CSV encoding: utf-8 (with BOM) or gb18030.")] = "utf-8",
    include_withdrawn: Annotated[bool, typer.Option("--include-withdrawn")] = False,
    config: ConfigOption = None,
) -> None:
    """Export the catalog, one row per copy (CSV/XLSX) or one record per title (MARC21)."""
    chosen = fmt or {".xlsx": "xlsx", ".mrc": "marc", ".marc": "marc"}.get(path.suffix.lower(), "csv")
    if chosen not in FORMATS:
        raise fail(f"--format {chosen!r}: use one of {', '.join(FORMATS)}")
    if encoding not in ENCODINGS:
        raise fail(f"--encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    with opened(config) as db, db.read() as session:
        try:
            with Progress(TextColumn("exporting {task.completed} rows"), console=Console(stderr=True)) as bar:
                task = bar.add_task("export", total=None)
                count = export(session, path, chosen, encoding=encoding, include_gone=include_withdrawn,
                               progress=lambda n: bar.update(task, completed=n))
        except (ExportError, OSError) as exc:
            raise fail(f"cannot export to {path}: {exc}") from None
    typer.echo(f"wrote {count} {'records' if chosen == 'marc' else 'rows'} to {path}")


# --- search and statistics -----------------------------------------------------------------------------------


@catalog_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Words, pinyin, initials, ISBN, barcode or call number.")],
    category: Annotated[str | None, typer.Option("--category", help="party, economy, … or 党建, 经济, …")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the whole catalog as visitors do, with copies and availability."""
    code: str | None = None
    if category:
        try:
            code = clc.category_code(category)
        except KeyError:
            raise fail(f"unknown category {category!r} (one of {', '.join(c.code for c in clc.CATEGORIES)})") from None
    with opened(config) as db, db.read() as session:
        page = search_catalog(session, query, category=code, limit=limit)
    if as_json:
        echo_json({"query": query, "total": page.total,
                   "hits": [{**h.__dict__, "shelf_locations": list(h.shelf_locations)} for h in page.hits]})
        return
    table = Table(title=f"{page.total} found")
    for column in ("id", "title", "authors", "ISBN", "call number", "available"):
        table.add_column(column)
    for h in page.hits:
        table.add_row(str(h.title_id), h.title, h.authors, h.isbn13 or "", h.call_number, f"{h.available}/{h.copies}")
    Console().print(table)


@catalog_app.command("stats")
def stats(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Titles per category and copies per status."""
    with opened(config) as db, db.read() as session:
        titles = session.scalar(select(func.count()).select_from(Title)) or 0
        per_category = dict(session.execute(select(Title.category, func.count()).group_by(Title.category)).all())
        per_status = dict(session.execute(select(Item.status, func.count()).group_by(Item.status)).all())
        open_loans = session.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) or 0
    if as_json:
        echo_json({"titles": titles, "categories": per_category, "copies": per_status, "open_loans": open_loans})
        return
    typer.echo(f"titles: {titles}; copies: {sum(per_status.values())}; open loans: {open_loans}")
    for c in clc.CATEGORIES:
        typer.echo(f"  {c.name} ({c.code}): {per_category.get(c.code, 0)}")
    for status, count in sorted(per_status.items()):
        typer.echo(f"  {status}: {count}")


@catalog_app.command("reindex")
def reindex(config: ConfigOption = None) -> None:
    """Rebuild the search index (after restoring a backup or writing titles with other tools)."""
    with opened(config) as db, db.unit_of_work(statement_timeout_s=BATCH_STATEMENT_TIMEOUT_S) as session:
        written = reindex_all(session)
    typer.echo(f"search index rebuilt: {written} tokens")


# --- add / edit / withdraw -------------------------------------------------------------------------------------


def _checked_fields(isbn: str | None, clc_class: str | None, category: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isbn is not None:
        try:
            values["isbn13"] = isbn_rules.to_isbn13(isbn) if isbn else None
        except isbn_rules.InvalidIsbn as exc:
            raise fail(f"invalid ISBN: {exc}") from None
    if clc_class is not None:
        try:
            values["clc_class"] = clc.normalise_class(clc_class) if clc_class else ""
        except clc.InvalidClcClass as exc:
            raise fail(str(exc)) from None
    if category is not None:
        try:
            values["category"] = clc.category_code(category)
        except KeyError:
            raise fail(f"unknown category {category!r} (one of {', '.join(c.code for c in clc.CATEGORIES)})") from None
    return values


TitleOpt = Annotated[str | None, typer.Option("--title")]
AuthorsOpt = Annotated[str | None, typer.Option("--authors")]
IsbnOpt = Annotated[str | None, typer.Option("--isbn")]
PublisherOpt = Annotated[str | None, typer.Option("--publisher")]
YearOpt = Annotated[int | None, typer.Option("--year", min=1000, max=2100)]
ClcOpt = Annotated[str | None, typer.Option("--clc", help="CLC class, e.g. I247.5")]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Default: from the CLC class.")]
CallOpt = Annotated[str | None, typer.Option("--call-number")]
SummaryOpt = Annotated[str | None, typer.Option("--summary")]
SummaryEnOpt = Annotated[str | None, typer.Option(
    "--summary-en", help="English summary for visitors reading in English (empty: they see the Chinese one).")]


@catalog_app.command("add")
def add(title: Annotated[str, typer.Option("--title")], authors: AuthorsOpt = None, isbn: IsbnOpt = None,
        publisher: PublisherOpt = None, year: YearOpt = None, clc_class: ClcOpt = None, category: CategoryOpt = None,
        call_number: CallOpt = None, summary: SummaryOpt = None, summary_en: SummaryEnOpt = None,
        config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Add a title (refused when its ISBN is already in the catalog: add a copy with `kiosk items add`)."""
    if not title.strip():
        raise fail("--title must not be empty")
    values = _checked_fields(isbn, clc_class, category)
    values.setdefault("category", clc.category_for(values.get("clc_class", "")))
    with opened(config) as db, db.unit_of_work() as session:
        if values.get("isbn13"):
            twin = session.scalars(select(Title).where(Title.isbn13 == values["isbn13"])).first()
            if twin is not None:
                raise fail(f"ISBN {values['isbn13']} is already title #{twin.id} «{twin.title}»")
        new = Title(title=title.strip(), authors=authors or "", publisher=publisher or "", pub_year=year,
                    call_number=call_number or "", summary=summary or "", summary_en=summary_en or "", **values)
        session.add(new)
        session.flush()
        result = _title_json(new)
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"added title #{result['id']} «{result['title']}» ({clc.category_name(result['category'])})")


@catalog_app.command("edit")
def edit(ref: Annotated[str, typer.Argument(help="Title id, ISBN or a copy's barcode.")], title: TitleOpt = None,
         authors: AuthorsOpt = None, isbn: IsbnOpt = None, publisher: PublisherOpt = None, year: YearOpt = None,
         clc_class: ClcOpt = None, category: CategoryOpt = None, call_number: CallOpt = None,
         summary: SummaryOpt = None, summary_en: SummaryEnOpt = None, config: ConfigOption = None,
         as_json: JsonOption = False) -> None:
    """Change fields of a title; only the options given change."""
    values = _checked_fields(isbn, clc_class, category)
    for name, value in (("title", title), ("authors", authors), ("publisher", publisher), ("pub_year", year),
                        ("call_number", call_number), ("summary", summary), ("summary_en", summary_en)):
        if value is not None:
            values[name] = value
    if "title" in values and not str(values["title"]).strip():
        raise fail("--title must not be empty")
    if not values:
        raise fail("nothing to change: give at least one option such as --title or --clc")
    with opened(config) as db, db.unit_of_work() as session:
        target = find_title(session, ref)
        if values.get("isbn13"):
            twin = session.scalars(select(Title).where(Title.isbn13 == values["isbn13"], Title.id != target.id)).first()
            if twin is not None:
                raise fail(f"ISBN {values['isbn13']} is already title #{twin.id} «{twin.title}»")
        for name, value in values.items():
            setattr(target, name, value)
        session.flush()
        result = _title_json(target)
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"title #{result['id']} «{result['title']}» updated: {', '.join(sorted(values))}")


@catalog_app.command("withdraw")
def withdraw(ref: Annotated[str, typer.Argument(help="Title id, ISBN or a copy's barcode.")],
             config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Withdraw every copy of a title from the shelves (refused while a copy is on loan)."""
    with opened(config) as db, db.unit_of_work() as session:
        target = find_title(session, ref)
        copies = session.scalars(select(Item).where(Item.title_id == target.id,
                                                    Item.status != ItemStatus.WITHDRAWN.value)
                                .order_by(Item.barcode)).all()
        lent = [c.barcode for c in copies if c.status == ItemStatus.ON_LOAN]
        open_loans = session.scalar(select(func.count()).select_from(Loan).join(Item).where(
            Item.title_id == target.id, Loan.returned_at.is_(None)))
        if lent or open_loans:
            raise fail(f"«{target.title}» has copies on loan ({', '.join(lent) or open_loans}): withdraw after return")
        for copy in copies:
            copy.status = ItemStatus.WITHDRAWN
        withdrawn = [c.barcode for c in copies]
        result = {"id": target.id, "title": target.title, "withdrawn": withdrawn}
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"«{result['title']}»: {len(withdrawn)} copies withdrawn")




def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
