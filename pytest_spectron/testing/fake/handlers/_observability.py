"""Traces, the audit log, lifecycle sweeps and health: what the fake says about itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pytest_spectron.client import models as m
from pytest_spectron.client._base import ResponseModel
from pytest_spectron.testing.fake._call import Answer, Call, handles, not_found, ok
from pytest_spectron.testing.fake._store import StoredTrace
from pytest_spectron.testing.fake._views import trace_record

__all__ = [
    "CONTEXT_TTL_SECONDS",
    "DECAY_FACTOR",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "HealthStatus",
    "leave_trace",
]

CONTEXT_TTL_SECONDS = 3600.0
"""How long ``context``-category memories live before ``lifecycle.expire`` sweeps them."""
DECAY_FACTOR = 0.9
"""What ``lifecycle.decay`` multiplies every memory's importance by."""
_TRACE_KINDS = ("decision", "retrieval", "response")
DEFAULT_LIMIT = 50
"""Rows ``traces.list`` and ``audit`` give when ``limit`` is not given, as the document says."""
MAX_LIMIT = 500
"""The document's cap on their ``limit``; a larger one is served as 500."""


class HealthStatus(ResponseModel):
    """The body of ``health``: the document leaves it open; Spectron sends a status."""

    status: str


class Retrieved(Protocol):
    """A row a retrieval found: a fact, or a document passage."""

    @property
    def id(self) -> str: ...

    @property
    def text(self) -> str: ...


def leave_trace(
    call: Call,
    kind: str,
    query_text: str,
    hits: Sequence[tuple[float, Retrieved]] = (),
    *,
    session_id: str | None = None,
    reply: str | None = None,
) -> StoredTrace:
    """Record the trace of this call, under the call's own trace id, in the region the call saw:
    its query, hits and reply are read back only by a key seeing all of that region."""
    trace = StoredTrace(
        id=call.trace_id,
        kind=kind,
        query_text=query_text,
        created_at=call.now,
        hits=tuple((row.id, value, row.text) for value, row in hits),
        session_id=session_id,
        reply=reply,
        region=call.state.sight.seen_region(),
    )
    call.state.traces[trace.id] = trace
    return trace


@handles("traces.list")
def traces_list(call: Call) -> Answer:
    """The newest traces in the caller's region first."""
    limit = call.integer("limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
    newest = list(call.state.traces.values())[::-1][:limit]
    return ok(m.TraceListResponse(traces=[trace_record(trace) for trace in newest]))


@handles("traces.get")
def traces_get(call: Call) -> Answer:
    """One trace with what it retrieved and the chat that owned it; a 404 outside the caller's
    region (the official SDK: "404 — addressed entity / document / session does not exist")."""
    trace = call.state.trace(call.path["trace_id"])
    if trace is None:
        raise not_found("trace", call.path["trace_id"])
    return ok(trace_record(trace))


@handles("traces.stats")
def traces_stats(call: Call) -> Answer:
    """Counts over the traces of the context in the caller's region."""
    traces = list(call.state.traces.values())
    responses = [trace for trace in traces if trace.kind == "response"]
    retrievals = [trace for trace in traces if trace.kind in ("retrieval", "response")]
    sizes = [len(trace.hits) for trace in retrievals]
    sources: dict[str, int] = {}
    for fact in call.state.facts.live():
        sources[fact.source_kind] = sources.get(fact.source_kind, 0) + 1
    return ok(
        m.TraceStatsResponse(
            total_queries=len(retrievals),
            cache_hits=0,
            avg_latency_ms=0.0,
            tier_counts=m.TierCounts(direct=0, hybrid=len(retrievals), full_context=0),
            response_traces_total=len(responses),
            response_traces_cached=0,
            cache_hit_rate=0.0,
            window_hours=24,
            source_kind_distribution=[
                m.SourceKindCount(kind=kind, count=count) for kind, count in sources.items()
            ],
            contradiction=m.ContradictionStats(
                reconciliations=0, contradictions=0, contradiction_rate=0.0
            ),
            supersession=m.SupersessionStats(
                supersession_events=0, entities_churned=0, churn_per_entity=0.0
            ),
            retrieval=m.RetrievalStats(
                traces=len(retrievals),
                avg_candidate_set=round(sum(sizes) / len(sizes), 6) if sizes else 0.0,
                max_candidate_set=max(sizes, default=0),
            ),
        )
    )


@handles("audit")
def audit(call: Call) -> Answer:
    """Audit rows, newest first, filtered by kind, principal, key and time."""
    limit = call.integer("limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
    kind = call.choice("kind", _TRACE_KINDS)
    principal = call.query.get("principal")
    key = call.query.get("key")
    since, until = call.instant("since"), call.instant("until")
    rows = [
        m.AuditRow(
            trace_id=row.trace_id,
            kind=row.kind,
            principal=row.principal,
            cost=0.0,
            rows_touched=0,
            latency_ms=0,
            created_at=row.created_at,
        )
        for row in reversed(call.state.audit)
        if kind in (None, row.kind)
        and principal in (None, row.principal)
        and key in (None, row.key_name)
        and (since is None or row.seconds >= since)
        and (until is None or row.seconds <= until)
    ]
    return ok(m.AuditResponse(rows=rows[:limit]))


@handles("lifecycle.decay")
def lifecycle_decay(call: Call) -> Answer:
    """Lower every live memory's importance, and count them."""
    live = call.state.facts.live()
    for fact in live:
        call.state.facts.update(fact, importance=round(fact.importance * DECAY_FACTOR, 6))
    return ok(m.LifecycleResponse(affected=len(live)))


@handles("lifecycle.expire")
def lifecycle_expire(call: Call) -> Answer:
    """Forget context-category memories older than an hour of virtual time."""
    expired = [
        fact
        for fact in call.state.facts.live()
        if fact.memory_category == "context"
        and call.seconds - fact.created_seconds >= CONTEXT_TTL_SECONDS
    ]
    for fact in expired:
        call.state.facts.update(fact, forgotten=True)
    return ok(m.LifecycleResponse(affected=len(expired)))


@handles("health")
def health(call: Call) -> Answer:
    """Always ``{"status": "ok"}``; needs no key."""
    return ok(HealthStatus(status="ok"))
