"""The popularity index (人气指数): flow, activity and service boards, each scored 0–100 from its indicators.

Formula and defaults are documented in docs/POPULARITY_INDEX.md. An indicator without data (no counter coverage,
no events, no ratings) is None and is left out, with its board weight shared among the boards that have data: a
center is not scored 0 for a counter that was unplugged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.db import Database
from catalog.model import AuditEntry, BranchEvent
from kiosk.traffic.reports import (
    Scope,
    daily_rollups,
    day_start,
    hourly_rollups,
    ratings_in,
    reporting_branches,
    resolve_scope,
    satisfaction_rate,
)
from kiosk.traffic.settings import IndexSettings

BOARDS = ("flow", "activity", "service")


@dataclass(frozen=True)
class Indicator:
    key: str
    """visit_rate (到访率), events_held (活动场次), attendance_rate (活动上座率), usage_rate (使用率),
    completion_rate (办结率), satisfaction_rate (满意率)."""
    board: str
    value: float | None
    """The measured quantity (a rate 0–1 or a count)."""
    score: float | None
    """0–100."""


@dataclass(frozen=True)
class IndexReport:
    branch: str
    branch_name: str
    start: date
    end: date
    indicators: tuple[Indicator, ...]
    boards: dict[str, float | None]
    total: float | None


def _score(ratio: float | None) -> float | None:
    return None if ratio is None else round(100.0 * max(0.0, min(1.0, ratio)), 1)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def completion_rate(session: Session, scope: Scope, start: date, end: date, cfg: IndexSettings) -> float | None:
    lo, hi = day_start(start, scope.tz), day_start(end + timedelta(days=1), scope.tz)
    base = select(func.count(AuditEntry.id)).where(AuditEntry.at >= lo, AuditEntry.at < hi,
                                                   AuditEntry.branch_id.in_(scope.branch_ids))
    if cfg.completion_actions:
        base = base.where(AuditEntry.action.in_(cfg.completion_actions))
    total = int(session.scalar(base) or 0)
    if not total:
        return None
    done = int(session.scalar(base.where(AuditEntry.outcome.in_(cfg.completion_outcomes))) or 0)
    return done / total


def popularity_index(db: Database, *, start: date, end: date, branch: str | None, cfg: IndexSettings,
                     network_tz: str = "Asia/Shanghai") -> IndexReport:
    with db.read() as session:
        scope = resolve_scope(session, branch, network_tz)
        days = daily_rollups(session, scope, start, end)
        hours = hourly_rollups(session, scope, start, end)
        reporting = reporting_branches(session, scope, start, end)
        covered_days = [d for d, (_i, _o, cov) in days.items() if cov > 0]
        mean_daily = (sum(days[d][0] for d in covered_days) / len(covered_days) / reporting) if covered_days else None
        visit_rate = None if mean_daily is None else mean_daily / cfg.target_daily_visits

        lo, hi = day_start(start, scope.tz), day_start(end + timedelta(days=1), scope.tz)
        events = session.execute(
            select(BranchEvent.capacity, BranchEvent.attendance).where(
                BranchEvent.starts_at >= lo, BranchEvent.starts_at < hi, BranchEvent.branch_id.in_(scope.branch_ids))
        ).all()
        span_days = (end - start).days + 1
        expected_events = cfg.target_events_per_month * span_days / 30 * max(1, len(scope.branch_ids))
        held = len(events)
        seats = [(c, a) for c, a in events if c and a is not None]
        attendance = sum(a for _c, a in seats) / sum(c for c, _a in seats) if seats else None

        used = [h for h in hours.values() if h[2] > 0]
        usage = sum(1 for h in used if h[0] > 0) / len(used) if used else None
        completion = completion_rate(session, scope, start, end, cfg)
        satisfaction = satisfaction_rate(ratings_in(session, scope, start, end), cfg.neutral_counts_as_satisfied)

    indicators = (
        Indicator("visit_rate", "flow", visit_rate, _score(visit_rate)),
        Indicator("events_held", "activity", float(held), _score(held / expected_events)),
        Indicator("attendance_rate", "activity", attendance, _score(attendance)),
        Indicator("usage_rate", "service", usage, _score(usage)),
        Indicator("completion_rate", "service", completion, _score(completion)),
        Indicator("satisfaction_rate", "service", satisfaction, _score(satisfaction)),
    )
    boards: dict[str, float | None] = {}
    for board in BOARDS:
        mean = _mean([i.score for i in indicators if i.board == board and i.score is not None])
        boards[board] = None if mean is None else round(mean, 1)
    weights = {"flow": cfg.flow_weight, "activity": cfg.activity_weight, "service": cfg.service_weight}
    present = [(weights[b], s) for b, s in boards.items() if s is not None and weights[b] > 0]
    total = round(sum(w * s for w, s in present) / sum(w for w, _s in present), 1) if present else None
    return IndexReport(scope.code, scope.name, start, end, indicators, boards, total)
