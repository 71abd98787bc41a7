"""The database migrations form one line: branches that each add one after the same head must be re-chained
when they are merged, or an upgrade stops with "multiple head revisions" (three branches once picked the
same revision id)."""
from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from facesite.app import MIGRATIONS


def test_the_migrations_have_one_head_and_unique_ids():
    script = ScriptDirectory.from_config(_config())
    assert len(script.get_heads()) == 1, script.get_heads()
    revisions = list(script.walk_revisions())
    assert len({r.revision for r in revisions}) == len(revisions)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config
