"""outbound template messages keep our own shape, not the Cloud API's

A template message row used to hold the WhatsApp Cloud API "template" object in
raw["template"] ({"name", "language": {"code"}, "components": [{"type": "body",
"parameters": [{"type": "text", "text"}]}]}). The channel now builds that object when it
sends, so rows hold {"name", "language", "parameters": [text, ...]}. Rows written before
(sent ones, and any still waiting to be sent) are rewritten here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
        UPDATE messages SET raw = jsonb_set(raw, '{template}', jsonb_build_object(
            'name', raw #>> '{template,name}',
            'language', raw #>> '{template,language,code}',
            'parameters', COALESCE((
                SELECT jsonb_agg(parameter ->> 'text' ORDER BY position)
                FROM jsonb_array_elements(raw #> '{template,components}') AS component,
                     jsonb_array_elements(component -> 'parameters')
                         WITH ORDINALITY AS parameters(parameter, position)
                WHERE component ->> 'type' = 'body'
            ), '[]'::jsonb)
        ))
        WHERE type = 'template' AND jsonb_typeof(raw #> '{template,language}') = 'object'
    """)


def downgrade() -> None:
    op.execute("""
        UPDATE messages SET raw = jsonb_set(raw, '{template}', jsonb_build_object(
            'name', raw #>> '{template,name}',
            'language', jsonb_build_object('code', raw #>> '{template,language}'),
            'components', jsonb_build_array(jsonb_build_object(
                'type', 'body',
                'parameters', COALESCE((
                    SELECT jsonb_agg(jsonb_build_object('type', 'text', 'text', value))
                    FROM jsonb_array_elements_text(raw #> '{template,parameters}')
                ), '[]'::jsonb)
            ))
        ))
        WHERE type = 'template' AND jsonb_typeof(raw #> '{template,language}') = 'string'
    """)
