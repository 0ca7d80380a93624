from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from catalog.db import Database
from catalog.model import Branch, Item, ItemStatus, Loan, Patron, PatronStatus, Title
from devices.identity import person_key
from kiosk.cli import app
from kiosk.cli.branch_cmd import parse_hours
from kiosk.secret import create_secret

ID_NUMBER = "320102198503120629"


@pytest.fixture
def env(kiosk_env: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_KIOSK_BRANCH", "B1")
    secret_file = kiosk_env / "network.secret"
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(secret_file))
    secret = create_secret(secret_file)
    db = Database.from_url(database_url)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        b1, b2 = Branch(code="B1", name="锁金村书房", timezone="Asia/Shanghai"), Branch(code="B2", name="红山书房")
        title = Title(title="红楼梦", authors="曹雪芹", isbn13="9787020002207")
        s.add_all([b1, b2, title])
        s.flush()
        lent = Item(barcode="TS1", title_id=title.id, home_branch_id=b1.id, current_branch_id=b1.id,
                    status=ItemStatus.ON_LOAN)
        shelf = Item(barcode="TS2", title_id=title.id, home_branch_id=b1.id, current_branch_id=b1.id)
        patron = Patron(card_kind="id_card", card_key=person_key(secret, ID_NUMBER),
                        masked_card="3201**********0629", display_name="李**", consent_at=now)
        s.add_all([lent, shelf, patron])
        s.flush()
        s.add(Loan(item_id=lent.id, patron_id=patron.id, branch_id=b1.id, kiosk_id="k1",
                   out_at=now - timedelta(days=40), due_at=now - timedelta(days=10)))
        s.add(Loan(item_id=shelf.id, patron_id=patron.id, branch_id=b1.id, kiosk_id="k1",
                   out_at=now - timedelta(days=90), due_at=now - timedelta(days=60), returned_at=now))
        ids = {"title": title.id, "patron": patron.id, "lent": lent.id}
    db.dispose()
    return ids


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_items_commands_and_their_refusals(env: dict[str, int]) -> None:
    code, out = _run("items", "add", "9787020002207", "TS3", "--shelf", "F区 1排 2层", "--json")
    assert code == 0 and json.loads(out)["shelf_location"] == "F区 1排 2层"
    assert _run("items", "add", "TS2", "TS3")[0] == 1  # barcode taken
    assert _run("items", "add", "TS2", "TS 4")[0] == 1  # space in barcode
    assert _run("items", "add", "nope", "TS5")[0] == 1  # unknown title
    assert _run("items", "add", "1", "TS6", "--branch", "NOPE")[0] == 1
    code, out = _run("items", "repair", "TS3", "--json")
    assert code == 0 and json.loads(out)["status"] == "in_repair"
    assert _run("items", "repair", "TS3", "--done")[0] == 0
    code, out = _run("items", "lost", "TS1")
    assert code == 1 and "on loan" in out
    assert _run("items", "lost", "TS404")[0] == 1
    code, out = _run("items", "move", "TS2", "--shelf", "B区 1排 1层", "--branch", "B2", "--json")
    assert code == 0 and json.loads(out)["shelf_location"] == "B区 1排 1层"
    assert _run("items", "move", "TS2")[0] == 1
    assert _run("items", "withdraw", "TS3")[0] == 0
    code, out = _run("items", "found", "TS3", "--json")
    assert json.loads(out)["status"] == "available"


def test_patrons_list_block_and_forget(env: dict[str, int], database_url: str) -> None:
    code, out = _run("patrons", "list", "--json")
    (row,) = json.loads(out)
    assert (row["masked_card"], row["display_name"], row["open_loans"]) == ("3201**********0629", "李**", 1)
    assert ID_NUMBER not in out
    code, out = _run("patrons", "block", ID_NUMBER, "--reason", "逾期未还")  # found by hashing the number
    assert code == 0 and "barred" in out
    assert json.loads(_run("patrons", "list", "--status", "barred", "--json")[1])[0]["note"] == "逾期未还"
    assert _run("patrons", "unblock", str(env["patron"]))[0] == 0
    assert _run("patrons", "block", "320102198503120628")[0] == 1  # bad check digit
    assert _run("patrons", "block", "999")[0] == 1
    assert _run("patrons", "list", "--status", "nonsense")[0] == 1
    code, out = _run("patrons", "forget", str(env["patron"]), "--yes")
    assert code == 1 and "on loan" in out  # the open loan must be returned first
    db = Database.from_url(database_url)
    with db.unit_of_work() as s:
        loan = s.scalars(select(Loan).where(Loan.item_id == env["lent"], Loan.returned_at.is_(None))).one()
        loan.returned_at = datetime.now(UTC)
    code, out = _run("patrons", "forget", str(env["patron"]))
    assert code == 0 and "add --yes" in out
    code, out = _run("patrons", "forget", str(env["patron"]), "--yes", "--json")
    assert code == 0 and json.loads(out) == {"id": env["patron"], "unlinked_loans": 2, "done": True}
    with db.read() as s:
        patron = s.get(Patron, env["patron"])
        assert patron is not None and patron.status == PatronStatus.FORGOTTEN
        assert (patron.card_key, patron.masked_card, patron.display_name) == (None, "", "")
        loans = s.scalars(select(Loan)).all()
        assert len(loans) == 2 and all(loan.patron_id is None for loan in loans)  # counts kept, anonymous
    db.dispose()
    assert json.loads(_run("patrons", "list", "--json")[1]) == []
    assert _run("patrons", "block", ID_NUMBER)[0] == 1  # nobody to find any more


def test_loans_overdue(env: dict[str, int]) -> None:
    code, out = _run("loans", "overdue", "--json")
    (row,) = json.loads(out)
    assert (row["barcode"], row["display_name"], row["days_overdue"]) == ("TS1", "李**", 10)
    code, out = _run("loans", "overdue")
    assert code == 0 and "TS1" in out
    assert json.loads(_run("loans", "overdue", "--branch", "B2", "--json")[1]) == []
    assert _run("loans", "overdue", "--branch", "NOPE")[0] == 1


def test_branch_show_edit_announce_events_audio(env: dict[str, int], tmp_path: Path) -> None:
    content = tmp_path / "content.json"
    content.write_text(json.dumps({"rooms": [{"name": "阅览室", "description": "24小时"}],
                                   "nearby": [{"name": "红山街道党群服务中心", "address": "红山路88号"}]},
                                  ensure_ascii=False), encoding="utf-8")
    code, out = _run("branch", "edit", "--hours", "mon-fri=08:30-17:30,sat=09:00-12:00+14:00-17:00,sun=closed",
                     "--hours-note", "节假日另行通知", "--content", str(content), "--phone", "025-1", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["hours"]["sat"] == [["09:00", "12:00"], ["14:00", "17:00"]] and data["hours"]["sun"] == []
    assert data["content"]["rooms"][0]["name"] == "阅览室" and data["phone"] == "025-1"
    assert _run("branch", "edit", "--hours", "fri-mon=08:00-09:00")[0] == 1
    assert _run("branch", "edit", "--hours", "mon=18:00-08:00")[0] == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"secret": 1}', encoding="utf-8")
    assert _run("branch", "edit", "--content", str(bad))[0] == 1
    assert _run("branch", "edit", "--code", "NEW")[0] == 1
    assert _run("branch", "edit", "--code", "NEW", "--create", "--name", "新书房")[0] == 0
    assert _run("branch", "announce", "今日新书上架", "--en", "New books today")[0] == 0
    assert _run("branch", "announce", "  ")[0] == 1
    assert _run("branch", "announce", "x", "--from", "2026-12-02T08:00", "--until", "2026-12-01T08:00")[0] == 1
    assert _run("branch", "event-add", "--title", "国学讲堂", "--start", "2026-12-05T09:30",
                "--end", "2026-12-05T11:30", "--room", "多功能厅")[0] == 0
    assert _run("branch", "event-add", "--title", "x", "--start", "2026-12-05T09:30", "--end", "yesterday")[0] == 1
    assert _run("branch", "audio-add", "--title", "论语故事", "--title-en", "Stories from the Analects",
                "--url", "https://audio.example.cn/1")[0] == 0
    assert _run("branch", "audio-add", "--title", "x", "--url", "ftp://x")[0] == 1
    code, out = _run("branch", "show", "--json")
    shown = json.loads(out)
    assert [a["text"] for a in shown["announcements"]] == ["今日新书上架"]
    event = shown["events"][0]
    assert event["title"] == "国学讲堂" and event["starts_at"].startswith("2026-12-05 01:30")  # stored in UTC
    assert shown["audio_books"][0]["url"] == "https://audio.example.cn/1"
    assert shown["audio_books"][0]["title_en"] == "Stories from the Analects"
    code, out = _run("branch", "show")
    assert code == 0 and "国学讲堂" in out and "sat: 09:00–12:00, 14:00–17:00" in out
    assert _run("branch", "unannounce", str(shown["announcements"][0]["id"]))[0] == 0
    assert _run("branch", "unannounce", "999")[0] == 1
    assert _run("branch", "event-remove", str(event["id"]))[0] == 0
    assert _run("branch", "audio-remove", str(shown["audio_books"][0]["id"]))[0] == 0
    assert _run("branch", "show", "--code", "NOPE")[0] == 1


def test_branch_maps_in_both_languages_and_a_warning_for_one_this_machine_cannot_show(
        env: dict[str, int], tmp_path: Path) -> None:
    from PIL import Image

    from kiosk.browse import Browser

    plan = tmp_path / "plan.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(plan)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("平面图稍后补上", encoding="utf-8")
    content = tmp_path / "maps.json"
    content.write_text(json.dumps({"map_image": str(plan), "map_image_en": str(tmp_path / "missing.png")}),
                       encoding="utf-8")
    code, out = _run("branch", "edit", "--content", str(content))
    assert code == 0 and out.count("warning:") == 1 and "map_image_en" in out and "no such file" in out, out
    content.write_text(json.dumps({"map_image_en": str(not_an_image)}), encoding="utf-8")
    code, out = _run("branch", "edit", "--content", str(content))
    assert code == 0 and "not an image this kiosk can read" in out, out
    content.write_text(json.dumps({"map_image": "maps/plan.png"}), encoding="utf-8")
    code, out = _run("branch", "edit", "--content", str(content))
    assert code == 0 and "not an absolute path" in out, out
    content.write_text(json.dumps({"map_image": str(plan)}), encoding="utf-8")
    assert _run("branch", "edit", "--content", str(content)) == (0, "branch B1 saved\n")
    db = Database.from_url(os.environ["KIOSK_DATABASE_URL"])
    try:
        info = Browser(db, branch_code="B1").branch_info()
    finally:
        db.dispose()
    assert (info.map_image, info.map_image_en) == (str(plan), str(not_an_image))  # stored as given: a warning only


def test_parse_hours() -> None:
    assert parse_hours("mon-sun=00:00-24:00")["sun"] == [["00:00", "24:00"]]
    for bad in ("mon", "xyz=08:00-09:00", "mon=8:00-9:00", "mon=09:00-09:00"):
        with pytest.raises(ValueError):
            parse_hours(bad)
