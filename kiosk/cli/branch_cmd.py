"""`kiosk branch …`: what the "About this center" screen shows — hours, rooms, services, contact, nearby centers,
announcements, events and audio-book links — edited by librarians.

Rooms, services, contact and nearby centers live in `Branch.content` as JSON, edited by handing `edit` a JSON file
(`--content FILE`, merged key by key) so that a librarian can keep the center's description in one file under
version control; hours take `--hours mon-fri=08:30-17:30,sat=09:00-12:00+14:00-17:00`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select

from catalog.model import Announcement, AudioBook, Branch, BranchEvent
from kiosk.browse import WEEKDAY_KEYS
from kiosk.cli.catalog_cmd import branch_code, echo_json, opened
from kiosk.cli.options import ConfigOption, JsonOption, fail

branch_app = typer.Typer(help="The center: hours, rooms, services, announcements, events, audio books.",
                         no_args_is_help=True)
CodeOpt = Annotated[str | None, typer.Option("--code", help="Branch code (default: kiosk.branch).")]
CONTENT_KEYS = {"rooms", "services", "contact", "contact_en", "map_image", "map_image_en", "nearby"}
_SPAN = re.compile(r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


def image_problem(value: object) -> str:
    """Why this machine cannot show `value` as a map image ("" when it can, or when no image is set)."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        return "not a file path"
    if not Path(value).is_absolute():
        return "not an absolute path (the kiosk would look for it from its own working folder)"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(value) as image:
            image.verify()
    except FileNotFoundError:
        return "no such file on this machine"
    except (OSError, UnidentifiedImageError, SyntaxError, Image.DecompressionBombError) as error:
        return f"not an image this kiosk can read ({type(error).__name__})"
    return ""


def parse_hours(spec: str) -> dict[str, list[list[str]]]:
    """`mon-fri=08:30-17:30,sat=09:00-12:00+14:00-17:00,sun=closed` → {"mon": [["08:30", "17:30"]], …}."""
    hours: dict[str, list[list[str]]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        days, _, spans = part.partition("=")
        if not spans:
            raise ValueError(f"{part!r}: expected day=HH:MM-HH:MM")
        first, _, last = days.strip().lower().partition("-")
        if first not in WEEKDAY_KEYS or (last and last not in WEEKDAY_KEYS):
            raise ValueError(f"{days!r}: days are {', '.join(WEEKDAY_KEYS)}")
        start, end = WEEKDAY_KEYS.index(first), WEEKDAY_KEYS.index(last or first)
        if end < start:
            raise ValueError(f"{days!r}: the range runs backwards")
        parsed: list[list[str]] = []
        if spans.strip().lower() != "closed":
            for span in spans.split("+"):
                span = span.strip()
                if not _SPAN.match(span) or span.split("-")[0] >= span.split("-")[1]:
                    raise ValueError(f"{span!r}: expected HH:MM-HH:MM with the start before the end")
                parsed.append(span.split("-"))
        for day in WEEKDAY_KEYS[start : end + 1]:
            hours[day] = parsed
    return hours


def _branch(session: Any, code: str) -> Branch:
    branch = session.scalars(select(Branch).where(Branch.code == code)).one_or_none()
    if branch is None:
        raise fail(f"no branch {code!r} (create it with `kiosk branch edit --create --name …`)")
    return branch


def _local(value: str, tz: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{value!r}: expected a date and time like 2026-12-05T09:30") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


def _show(branch: Branch, announcements: list[Announcement], events: list[BranchEvent],
          audio: list[AudioBook]) -> dict[str, Any]:
    return {
        "code": branch.code, "name": branch.name, "name_en": branch.name_en, "address": branch.address,
        "address_en": branch.address_en, "phone": branch.phone, "timezone": branch.timezone,
        "capacity": branch.capacity, "hours": branch.hours, "content": branch.content,
        "announcements": [{"id": a.id, "text": a.text, "text_en": a.text_en, "starts_at": a.starts_at,
                           "ends_at": a.ends_at} for a in announcements],
        "events": [{"id": e.id, "title": e.title, "title_en": e.title_en, "room": e.room, "starts_at": e.starts_at,
                    "ends_at": e.ends_at} for e in events],
        "audio_books": [{"id": b.id, "title": b.title, "title_en": b.title_en, "url": b.url} for b in audio],
    }


@branch_app.command("show")
def show(code: CodeOpt = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Everything the "About this center" screen shows."""
    wanted = branch_code(config, code)
    with opened(config) as db, db.read() as session:
        branch = _branch(session, wanted)
        data = _show(
            branch,
            list(session.scalars(select(Announcement).where(Announcement.branch_id == branch.id)
                                 .order_by(Announcement.id))),
            list(session.scalars(select(BranchEvent).where(BranchEvent.branch_id == branch.id)
                                 .order_by(BranchEvent.starts_at))),
            list(session.scalars(select(AudioBook).where(AudioBook.branch_id == branch.id).order_by(AudioBook.id))),
        )
    if as_json:
        echo_json(data)
        return
    typer.echo(f"{data['name']} ({data['code']}) — {data['name_en']}")
    typer.echo(f"  {data['address']}  ☎ {data['phone']}")
    for day in WEEKDAY_KEYS:
        spans = data["hours"].get(day) or []
        typer.echo(f"  {day}: {', '.join('–'.join(s) for s in spans) or 'closed'}")
    if data["hours"].get("note"):
        typer.echo(f"  {data['hours']['note']}")
    for key in ("rooms", "services", "nearby"):
        for entry in data["content"].get(key, []):
            name = entry.get("name", "") if isinstance(entry, dict) else str(entry)
            typer.echo(f"  [{key}] {name}")
    for a in data["announcements"]:
        typer.echo(f"  [announcement #{a['id']}] {a['text']}")
    for e in data["events"]:
        typer.echo(f"  [event #{e['id']}] {e['starts_at']:%Y-%m-%d %H:%M} UTC {e['title']}")
    for b in data["audio_books"]:
        typer.echo(f"  [audio #{b['id']}] {b['title']} {b['url']}")


@branch_app.command("edit")
def edit(
    code: CodeOpt = None,
    create: Annotated[bool, typer.Option("--create", help="Create the branch if it does not exist.")] = False,
    name: Annotated[str | None, typer.Option("--name")] = None,
    name_en: Annotated[str | None, typer.Option("--name-en")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    address_en: Annotated[str | None, typer.Option("--address-en")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    capacity: Annotated[int | None, typer.Option("--capacity", min=0)] = None,
    hours: Annotated[str | None, typer.Option("--hours", help="e.g. mon-sun=00:00-24:00")] = None,
    hours_note: Annotated[str | None, typer.Option("--hours-note")] = None,
    content: Annotated[Path | None, typer.Option("--content", help="JSON: rooms, services, contact, nearby…")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change the branch's details; only the options given change."""
    wanted = branch_code(config, code)
    new_hours: dict[str, Any] | None = None
    if hours is not None:
        try:
            new_hours = parse_hours(hours)
        except ValueError as exc:
            raise fail(f"--hours {exc}") from None
    new_content: dict[str, Any] | None = None
    if content is not None:
        try:
            new_content = json.loads(content.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise fail(f"--content {content}: {exc}") from None
        if not isinstance(new_content, dict) or not set(new_content) <= CONTENT_KEYS:
            raise fail(f"--content must be a JSON object with keys among {', '.join(sorted(CONTENT_KEYS))}")
        for key in ("map_image", "map_image_en"):
            problem = image_problem(new_content.get(key))
            if problem:  # a warning, not a refusal: the kiosk showing it may be another machine of the network
                typer.echo(f"warning: {key} {new_content[key]}: {problem}; a kiosk that cannot read it shows "
                           "no map", err=True)
    with opened(config) as db, db.unit_of_work() as session:
        branch = session.scalars(select(Branch).where(Branch.code == wanted)).one_or_none()
        if branch is None:
            if not create or not name:
                raise fail(f"no branch {wanted!r}: add --create --name NAME to create it")
            branch = Branch(code=wanted, name=name, hours={}, content={}, policy={})
            session.add(branch)
        for attr, value in (("name", name), ("name_en", name_en), ("address", address),
                            ("address_en", address_en), ("phone", phone), ("capacity", capacity)):
            if value is not None:
                setattr(branch, attr, value)
        if new_hours is not None or hours_note is not None:
            merged = dict(branch.hours or {})
            merged.update(new_hours or {})
            if hours_note is not None:
                merged["note"] = hours_note
            branch.hours = merged
        if new_content is not None:
            branch.content = {**(branch.content or {}), **new_content}
        session.flush()
        data = _show(branch, [], [], [])
    if as_json:
        echo_json(data)
    else:
        typer.echo(f"branch {data['code']} saved")


@branch_app.command("announce")
def announce(
    text: Annotated[str, typer.Argument(help="Chinese text shown on the attract screen.")],
    text_en: Annotated[str, typer.Option("--en", help="English text.")] = "",
    starts: Annotated[str | None, typer.Option("--from", help="Local date/time, e.g. 2026-12-01T08:00")] = None,
    ends: Annotated[str | None, typer.Option("--until", help="Local date/time; default: until removed.")] = None,
    code: CodeOpt = None,
    config: ConfigOption = None,
) -> None:
    """Add an announcement (today's notice, a closure, new books)."""
    if not text.strip():
        raise fail("the announcement text must not be empty")
    wanted = branch_code(config, code)
    with opened(config) as db, db.unit_of_work() as session:
        branch = _branch(session, wanted)
        start = _local(starts, branch.timezone) if starts else None
        end = _local(ends, branch.timezone) if ends else None
        if start and end and end <= start:
            raise fail("--until must be after --from")
        notice = Announcement(branch_id=branch.id, text=text.strip()[:500], text_en=text_en.strip()[:500],
                              starts_at=start, ends_at=end)
        session.add(notice)
        session.flush()
        notice_id = notice.id
    typer.echo(f"announcement #{notice_id} added")


def _remove(model: type[Any], item_id: int, config: str | None, code: str | None, what: str) -> None:
    wanted = branch_code(config, code)
    with opened(config) as db, db.unit_of_work() as session:
        branch = _branch(session, wanted)
        row = session.get(model, item_id)
        if row is None or row.branch_id != branch.id:
            raise fail(f"no {what} #{item_id} at branch {wanted}")
        session.delete(row)
    typer.echo(f"{what} #{item_id} removed")


@branch_app.command("unannounce")
def unannounce(announcement_id: int, code: CodeOpt = None, config: ConfigOption = None) -> None:
    """Remove an announcement."""
    _remove(Announcement, announcement_id, config, code, "announcement")


@branch_app.command("event-add")
def event_add(
    title: Annotated[str, typer.Option("--title", help="e.g. 国学讲堂：《论语》选读")],
    starts: Annotated[str, typer.Option("--start", help="Local date/time, e.g. 2026-12-05T09:30")],
    ends: Annotated[str, typer.Option("--end", help="Local date/time")],
    title_en: Annotated[str, typer.Option("--title-en")] = "",
    room: Annotated[str, typer.Option("--room")] = "",
    description: Annotated[str, typer.Option("--description")] = "",
    capacity: Annotated[int | None, typer.Option("--capacity", min=1)] = None,
    code: CodeOpt = None,
    config: ConfigOption = None,
) -> None:
    """Add an event to the center's calendar."""
    wanted = branch_code(config, code)
    with opened(config) as db, db.unit_of_work() as session:
        branch = _branch(session, wanted)
        start, end = _local(starts, branch.timezone), _local(ends, branch.timezone)
        if end <= start:
            raise fail("--end must be after --start")
        event = BranchEvent(branch_id=branch.id, title=title, title_en=title_en, room=room, starts_at=start,
                            ends_at=end, description=description, capacity=capacity)
        session.add(event)
        session.flush()
        event_id = event.id
    typer.echo(f"event #{event_id} added")


@branch_app.command("event-remove")
def event_remove(event_id: int, code: CodeOpt = None, config: ConfigOption = None) -> None:
    """Remove an event."""
    _remove(BranchEvent, event_id, config, code, "event")


@branch_app.command("audio-add")
def audio_add(
    title: Annotated[str, typer.Option("--title")],
    url: Annotated[str, typer.Option("--url", help="https:// link the QR code opens")],
    title_en: Annotated[str, typer.Option("--title-en", help="The title in English (else the Chinese one)")] = "",
    author: Annotated[str, typer.Option("--author")] = "",
    narrator: Annotated[str, typer.Option("--narrator")] = "",
    category: Annotated[str, typer.Option("--category")] = "",
    minutes: Annotated[int | None, typer.Option("--minutes", min=1)] = None,
    code: CodeOpt = None,
    config: ConfigOption = None,
) -> None:
    """Add an audio-book link (shown as a QR code)."""
    if not url.startswith(("https://", "http://")):
        raise fail("--url must start with https:// (or http://)")
    wanted = branch_code(config, code)
    with opened(config) as db, db.unit_of_work() as session:
        branch = _branch(session, wanted)
        book = AudioBook(branch_id=branch.id, title=title, title_en=title_en, url=url, author=author,
                         narrator=narrator, category=category, duration_min=minutes)
        session.add(book)
        session.flush()
        book_id = book.id
    typer.echo(f"audio book #{book_id} added")


@branch_app.command("audio-remove")
def audio_remove(audio_id: int, code: CodeOpt = None, config: ConfigOption = None) -> None:
    """Remove an audio-book link."""
    _remove(AudioBook, audio_id, config, code, "audio book")


def register(app: typer.Typer) -> None:
    app.add_typer(branch_app, name="branch")
