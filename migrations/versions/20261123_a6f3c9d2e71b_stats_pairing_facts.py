"""stats_pairing_facts: each pairing's contribution to the dashboard's history figures (proposal cohort,
first moves into the trends' stages, days at each stage, closes by reason) filed under each branch of the
pair and under the union (scope 0), backfilled from pairings, pairing_stage_firsts and stage_changes. A
branch's dashboard reads one covering-index range per figure instead of building the branch's ~20,000
pairing ids four times and probing the history for each (crm.stats.facts)

Revision ID: a6f3c9d2e71b
Revises: b2d4f6a8c0e1
Create Date: 2026-11-23 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a6f3c9d2e71b'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None

# Covering indexes of the dashboard's per-volunteer and per-member statements (crm.stats.models).
INDEXES = [
    ("ix_members_owner_status", "members", ["owner_id", "status"]),
    ("ix_pairings_low_created", "pairings", ["member_low_id", "created_at"]),
    ("ix_pairings_high_created", "pairings", ["member_high_id", "created_at"]),
    ("ix_followups_member_activity", "followups", ["member_id", "created_at", "due_on", "done_at"]),
    ("ix_pairing_consents_member_pending", "pairing_consents", ["member_id", "answer", "asked_at", "pairing_id"]),
]

FORWARD = ["proposed", "awaiting_consent", "introduced", "first_meeting", "dating", "relationship", "engaged",
           "married"]

# The same facts as crm.stats.facts.recomputed(), written out so the migration never follows later
# changes of the application code.
_RANK = "CASE stage " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(FORWARD)) + " ELSE -1 END"
_STAGE_OF = "CASE f.rank " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(FORWARD)) + " END"
_SCOPES = """(SELECT p.id AS pairing_id, m.branch_id AS scope_id
 FROM pairings p JOIN members m ON m.id = p.member_low_id
 UNION SELECT p.id, m.branch_id FROM pairings p JOIN members m ON m.id = p.member_high_id
 UNION SELECT p.id, 0 FROM pairings p)"""
_DAYS = {"sqlite": "(julianday(c.next_at) - julianday(c.at))",
         "postgresql": "(EXTRACT(EPOCH FROM (c.next_at - c.at)) / 86400.0)"}


def _backfill(days: str) -> str:
    return f"""
INSERT INTO stats_pairing_facts (scope_id, kind, at, stage, value, pairing_id)
SELECT s.scope_id, 1, p.created_at, {_STAGE_OF}, CAST(f.rank AS FLOAT), p.id
FROM pairings p JOIN (SELECT pairing_id, max({_RANK}) AS rank FROM pairing_stage_firsts GROUP BY pairing_id) f
  ON f.pairing_id = p.id JOIN {_SCOPES} s ON s.pairing_id = p.id
UNION ALL
SELECT s.scope_id, 2, x.reached_at, x.stage, NULL, x.pairing_id
FROM pairing_stage_firsts x JOIN {_SCOPES} s ON s.pairing_id = x.pairing_id
WHERE x.stage IN ('proposed', 'introduced', 'married')
UNION ALL
SELECT s.scope_id, 3, c.at, c.to_stage, {days}, c.pairing_id
FROM stage_changes c JOIN {_SCOPES} s ON s.pairing_id = c.pairing_id WHERE c.next_at IS NOT NULL
UNION ALL
SELECT s.scope_id, 4, c.at, c.close_reason, NULL, c.pairing_id
FROM stage_changes c JOIN {_SCOPES} s ON s.pairing_id = c.pairing_id WHERE c.to_stage = 'closed'
"""


def upgrade():
    op.create_table(
        'stats_pairing_facts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('pairing_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'],
                                name=op.f('fk_stats_pairing_facts_pairing_id_pairings'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_pairing_facts')),
        sqlite_autoincrement=True,  # ids never reused: the dashboard cache's stamp reads max(id)
    )
    # Planner statistics first (a database never analysed would join the closes through the to_stage index
    # and go quadratic; crm.stats.facts.rebuild does the same).
    for source in ("members", "pairings", "pairing_stage_firsts", "stage_changes"):
        op.execute(f"ANALYZE {source}")
    op.execute(_backfill(_DAYS[op.get_bind().dialect.name]))
    # built after the backfill: one sort per index instead of millions of index insertions
    op.create_index('ix_stats_pairing_facts_read', 'stats_pairing_facts',
                    ['scope_id', 'kind', 'at', 'stage', 'value', 'pairing_id'], unique=False)
    op.create_index(op.f('ix_stats_pairing_facts_pairing_id'), 'stats_pairing_facts', ['pairing_id'], unique=False)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index(op.f('ix_stats_pairing_facts_pairing_id'), table_name='stats_pairing_facts')
    op.drop_index('ix_stats_pairing_facts_read', table_name='stats_pairing_facts')
    op.drop_table('stats_pairing_facts')
