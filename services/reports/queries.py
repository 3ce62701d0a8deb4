"""The report's aggregate queries: one statement per figure group, computed in PostgreSQL
(no Python loops over messages). Times are seconds; days are UTC dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# conversations begun in the range, with their first customer message and first replies
_CONVERSATIONS = """
WITH conv AS (
  SELECT c.id, p.merchant_id, c.created_at, c.resolved_at, c.status,
         (c.created_at AT TIME ZONE 'UTC')::date AS day
  FROM conversations c JOIN phone_numbers p ON p.id = c.phone_number_id
  WHERE c.created_at >= :start AND c.created_at < :end
    AND (CAST(:merchant_id AS integer) IS NULL OR p.merchant_id = :merchant_id)
), timed AS (
  SELECT conv.*, f.first_in,
    (SELECT min(m.created_at) FROM messages m WHERE m.conversation_id = conv.id
       AND m.direction = 'out' AND m.created_at >= f.first_in
       AND m.status NOT IN ('failed', 'dropped')) AS first_reply,
    (SELECT min(m.created_at) FROM messages m WHERE m.conversation_id = conv.id
       AND m.direction = 'out' AND m.author = 'operator' AND m.created_at >= f.first_in
       AND m.status NOT IN ('failed', 'dropped')) AS first_human,
    (EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conv.id
       AND m.direction = 'out' AND m.author = 'operator')
     OR EXISTS (SELECT 1 FROM audit_events a WHERE a.conversation_id = conv.id
       AND a.action = 'takeover')) AS human
  FROM conv
  LEFT JOIN LATERAL (SELECT min(m.created_at) AS first_in FROM messages m
    WHERE m.conversation_id = conv.id AND m.direction = 'in') f ON true
)
SELECT merchant_id, day, GROUPING(day) = 1 AS total,
  count(*) AS conversations,
  count(*) FILTER (WHERE status = 'resolved') AS resolved,
  count(*) FILTER (WHERE status = 'resolved' AND NOT human) AS ai_resolved,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply - first_in))
    AS first_response_median,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_reply - first_in))
    AS first_response_p90,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_human - first_in))
    AS human_first_response_median,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_human - first_in))
    AS human_first_response_p90,
  percentile_cont(0.5) WITHIN GROUP (
    ORDER BY extract(epoch FROM resolved_at - coalesce(first_in, created_at)))
    AS resolution_median,
  percentile_cont(0.9) WITHIN GROUP (
    ORDER BY extract(epoch FROM resolved_at - coalesce(first_in, created_at)))
    AS resolution_p90
FROM timed
GROUP BY GROUPING SETS ((merchant_id), (merchant_id, day))
ORDER BY merchant_id, total DESC, day
"""

_CSAT = """
SELECT r.merchant_id, r.operator_id, o.name AS operator, GROUPING(r.operator_id) = 1 AS total,
  count(r.score) AS responses, avg(r.score)::float AS average,
  count(*) FILTER (WHERE r.score >= 4) AS satisfied,
  count(r.score) FILTER (WHERE r.ai_only) AS ai_only_responses,
  avg(r.score) FILTER (WHERE r.ai_only)::float AS ai_only_average,
  count(r.score) FILTER (WHERE NOT r.ai_only) AS human_responses,
  avg(r.score) FILTER (WHERE NOT r.ai_only)::float AS human_average
FROM csat_responses r LEFT JOIN operators o ON o.id = r.operator_id
WHERE r.created_at >= :start AND r.created_at < :end AND r.score IS NOT NULL
  AND (CAST(:merchant_id AS integer) IS NULL OR r.merchant_id = :merchant_id)
GROUP BY GROUPING SETS ((r.merchant_id), (r.merchant_id, r.operator_id, o.name))
ORDER BY r.merchant_id, total DESC, r.operator_id
"""

_OPERATORS = """
SELECT p.merchant_id, m.operator_id, o.name AS operator,
  count(DISTINCT m.conversation_id) AS conversations, count(*) AS messages
FROM messages m
JOIN conversations c ON c.id = m.conversation_id
JOIN phone_numbers p ON p.id = c.phone_number_id
LEFT JOIN operators o ON o.id = m.operator_id
WHERE m.direction = 'out' AND m.author = 'operator'
  AND m.created_at >= :start AND m.created_at < :end
  AND (CAST(:merchant_id AS integer) IS NULL OR p.merchant_id = :merchant_id)
GROUP BY p.merchant_id, m.operator_id, o.name
ORDER BY p.merchant_id, m.operator_id
"""

_ESCALATIONS = """
SELECT merchant_id, count(*) AS opened,
  count(answered_at) AS answered,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - created_at))
    AS time_to_answer_median,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - created_at))
    AS time_to_answer_p90
FROM notifications
WHERE created_at >= :start AND created_at < :end
  AND (CAST(:merchant_id AS integer) IS NULL OR merchant_id = :merchant_id)
GROUP BY merchant_id ORDER BY merchant_id
"""

_LABELS = """
SELECT p.merchant_id, label, count(*) AS conversations
FROM conversations c JOIN phone_numbers p ON p.id = c.phone_number_id,
  jsonb_array_elements_text(c.labels) AS label
WHERE c.created_at >= :start AND c.created_at < :end
  AND (CAST(:merchant_id AS integer) IS NULL OR p.merchant_id = :merchant_id)
GROUP BY p.merchant_id, label ORDER BY p.merchant_id, count(*) DESC, label
"""

QUERIES = {
    "conversations": _CONVERSATIONS,
    "csat": _CSAT,
    "operators": _OPERATORS,
    "escalations": _ESCALATIONS,
    "labels": _LABELS,
}


def rows(
    session: Session, name: str, *, start: datetime, end: datetime, merchant_id: int | None
) -> list[dict[str, Any]]:
    """The rows of query `name` for [start, end), one merchant or all (None)."""
    params = {"start": start, "end": end, "merchant_id": merchant_id}
    return [dict(row) for row in session.execute(text(QUERIES[name]), params).mappings()]
