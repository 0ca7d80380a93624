"""`kiosk report traffic|index|monthly|circulation`: foot traffic, the popularity index, lending across branches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from kiosk.bootstrap import open_database
from kiosk.cli.options import ConfigOption, fail, settings_from
from kiosk.traffic.export import index_table, period_table, to_csv, to_json, to_text_table, traffic_sheets, write_xlsx
from kiosk.traffic.index import popularity_index
from kiosk.traffic.ingest import UnknownBranch
from kiosk.traffic.reports import GRAINS, NETWORK, traffic_report
from kiosk.traffic.settings import traffic_settings

report_app = typer.Typer(help="Reports: foot traffic, popularity index (人气指数), monthly, circulation.",
                         no_args_is_help=True)
FORMATS = ("table", "json", "csv", "xlsx", "png")

FromOption = Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (local).")]
ToOption = Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")]
ByOption = Annotated[str, typer.Option("--by", help="hour | day | week | month | year")]
BranchOption = Annotated[str | None, typer.Option("--branch", "-b", help="Branch code, or * for the network.")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table | json | csv | xlsx | png")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Output file (needed for xlsx and png).")]
LangOption = Annotated[str, typer.Option("--language", help="zh_CN | en")]


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} must be a date like 2026-11-01, got {text!r}") from None


def _period(start: str, end: str) -> tuple[date, date]:
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise fail("--to is before --from")
    return first, last


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text.rstrip("\n"))
    else:
        out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        typer.echo(f"wrote {out}")


def _check(fmt: str, out: Path | None, allowed: tuple[str, ...] = FORMATS) -> None:
    if fmt not in allowed:
        raise fail(f"--format must be one of {', '.join(allowed)}, got {fmt!r}")
    if fmt in ("xlsx", "png") and out is None:
        raise fail(f"--format {fmt} needs --out FILE")


@report_app.command("traffic")
def traffic(start: FromOption, end: ToOption, by: ByOption = "day", branch: BranchOption = None,
            fmt: FormatOption = "table", out: OutOption = None, language: LangOption = "zh_CN",
            config: ConfigOption = None) -> None:
    """Visits per hour/day/week/month/year with heatmap, peaks, weekday/weekend, YoY, loans and ratings."""
    if by not in GRAINS:
        raise fail(f"--by must be one of {', '.join(GRAINS)}, got {by!r}")
    _check(fmt, out)
    first, last = _period(start, end)
    settings = settings_from(config)
    db = open_database(settings)
    try:
        report = traffic_report(db, start=first, end=last, by=by, branch=branch or settings.kiosk.branch,
                                network_tz=settings.kiosk.timezone, now=datetime.now(UTC))
    except UnknownBranch as exc:
        raise fail(f"no branch {exc.params['branch']!r} (use --branch {NETWORK} for the whole network)") from None
    finally:
        db.dispose()
    if fmt == "json":
        _emit(to_json(report), out)
    elif fmt == "csv":
        _emit(to_csv(period_table(report, language)), out)
    elif fmt == "table":
        _emit(to_text_table(period_table(report, language)), out)
    elif fmt == "xlsx":
        assert out is not None
        write_xlsx(traffic_sheets(report, language), out)
        typer.echo(f"wrote {out}")
    else:
        from kiosk.traffic.charts import write_png

        assert out is not None
        write_png(report, out, language)
        typer.echo(f"wrote {out}")


@report_app.command("index")
def index(start: FromOption, end: ToOption, branch: BranchOption = None, fmt: FormatOption = "table",
          out: OutOption = None, language: LangOption = "zh_CN", config: ConfigOption = None) -> None:
    """The popularity index (人气指数): flow, activity and service boards; see docs/POPULARITY_INDEX.md."""
    _check(fmt, out)
    first, last = _period(start, end)
    settings = settings_from(config)
    cfg = traffic_settings(settings)
    db = open_database(settings)
    try:
        report = popularity_index(db, start=first, end=last, branch=branch or settings.kiosk.branch,
                                  cfg=cfg.index, network_tz=settings.kiosk.timezone)
    except UnknownBranch as exc:
        raise fail(f"no branch {exc.params['branch']!r}") from None
    finally:
        db.dispose()
    table = index_table(report)
    if fmt == "json":
        _emit(to_json(report), out)
    elif fmt == "csv":
        _emit(to_csv(table), out)
    elif fmt == "xlsx":
        assert out is not None
        write_xlsx({"index": table}, out)
        typer.echo(f"wrote {out}")
    elif fmt == "png":
        from kiosk.traffic.charts import write_index_png

        assert out is not None
        write_index_png(report, out, language)
        typer.echo(f"wrote {out}")
    else:
        _emit(to_text_table(table), out)


@report_app.command("monthly")
def monthly(month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
            out: Annotated[Path, typer.Option("--out", "-o", help="Workbook to write (.xlsx); the chart goes beside.")],
            branch: BranchOption = None, language: LangOption = "zh_CN", config: ConfigOption = None) -> None:
    """The monthly report for the district office: an XLSX workbook and a PNG chart."""
    try:
        parsed = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise fail(f"--month must look like 2026-11, got {month!r}") from None
    from kiosk.traffic.monthly import month_range, write_monthly  # matplotlib loads only when a chart is drawn

    settings = settings_from(config)
    cfg = traffic_settings(settings)
    db = open_database(settings)
    try:
        files = write_monthly(db, year=parsed.year, month=parsed.month, branch=branch or settings.kiosk.branch,
                              out=out, cfg=cfg, language=language, network_tz=settings.kiosk.timezone)
    except UnknownBranch as exc:
        raise fail(f"no branch {exc.params['branch']!r}") from None
    finally:
        db.dispose()
    first, last = month_range(parsed.year, parsed.month)
    typer.echo(f"wrote {files.workbook} and {files.chart} ({first} to {last})")


@report_app.command("circulation")
def circulation(start: FromOption, end: ToOption, branch: BranchOption = None,
                network: Annotated[bool, typer.Option("--network", help="Every branch (same as --branch *).")] = False,
                fmt: FormatOption = "table", out: OutOption = None, language: LangOption = "zh_CN",
                config: ConfigOption = None) -> None:
    """Loans and returns per branch, cross-branch returns (lent at A, returned at B), copies in transit."""
    import dataclasses
    import json

    from kiosk.lending.circulation_report import branch_table, circulation_report, flow_table, transit_table

    _check(fmt, out, ("table", "json", "csv", "xlsx"))
    first, last = _period(start, end)
    settings = settings_from(config)
    db = open_database(settings)
    try:
        report = circulation_report(db, start=first, end=last, network_tz=settings.kiosk.timezone,
                                    branch=NETWORK if network else branch or settings.kiosk.branch)
    except UnknownBranch as exc:
        raise fail(f"no branch {exc.params['branch']!r} (use --network for the whole network)") from None
    finally:
        db.dispose()
    sheets = {"branches": branch_table(report, language), "flows": flow_table(report, language),
              "transit": transit_table(report, language)}
    if fmt == "json":
        _emit(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2, default=lambda v: v.isoformat()),
              out)
    elif fmt == "xlsx":
        assert out is not None
        write_xlsx(sheets, out)
        typer.echo(f"wrote {out}")
    else:
        render = to_csv if fmt == "csv" else to_text_table
        _emit("\n\n".join(render(table).rstrip("\n") for table in sheets.values() if fmt == "csv" or len(table) > 1),
              out)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
