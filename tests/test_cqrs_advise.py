"""`fraiseql advise` on tables that refuse the values its measuring UPDATE would write."""

from __future__ import annotations

import pytest
from support.cqrs import prepared_database, with_conn

from fraiseql.cli import main
from fraiseql.cqrs import Many, ReadModel
from fraiseql.cqrs.advise import advise, render

# Every review has 5 stars (stars + 1 breaks the CHECK) and a trimmed body (body || ' '
# breaks the other); votes refuse a heavier weight but take any note; flags refuse every
# UPDATE (a validating trigger).
TABLES = """
CREATE TABLE tb_review (id int PRIMARY KEY, stars smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
                        body text NOT NULL CHECK (body = btrim(body)));
CREATE TABLE tb_vote (id int PRIMARY KEY, review_id int NOT NULL REFERENCES tb_review,
                      weight int NOT NULL CHECK (weight <= 1), note text NOT NULL);
CREATE TABLE tb_flag (id int PRIMARY KEY, review_id int NOT NULL REFERENCES tb_review,
                      reason text NOT NULL);
CREATE FUNCTION flags_are_final() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'flags cannot be changed'; END$$;
CREATE TRIGGER flags_are_final BEFORE UPDATE ON tb_flag FOR EACH ROW EXECUTE FUNCTION flags_are_final();
INSERT INTO tb_review SELECT i, 5, 'great' FROM generate_series(1, 30) i;
INSERT INTO tb_vote SELECT i, i, 1, 'n' FROM generate_series(1, 30) i;
INSERT INTO tb_flag SELECT i, i, 'spam' FROM generate_series(1, 30) i;
"""

REVIEW = ReadModel(
    "review",
    table="tb_review",
    fields=("id", "stars", "body"),
    embed={
        "votes": Many("tb_vote", fk="review_id", fields=("id", "weight", "note"), order_by="id"),
        "flags": Many("tb_flag", fk="review_id", fields=("id", "reason"), order_by="id"),
    },
    forms=("tv", "qm"),
)


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return prepared_database(pg_server, pg_dsn, "cqrs_advise", TABLES, [REVIEW])


def test_advise_measures_with_writes_the_tables_accept(dsn, capsys):
    async def body(conn):
        advice = await advise(conn, "review", samples=20)
        # tb_review: both changes refused, measured with stars rewritten unchanged;
        # tb_vote: the weight refused, the note taken; tb_flag: nothing accepted, skipped.
        assert set(advice.writes_us) == {"public.tb_review.stars", "public.tb_vote.note"}
        assert all(w > 0 for w, _ in advice.writes_us.values())
        notes = "\n".join(advice.notes)
        assert (
            "public.tb_review: write cost measured with an unchanged value (stars = stars)" in notes
        )
        assert 'violates check constraint "tb_review_stars_check"' in notes
        assert 'violates check constraint "tb_review_body_check"' in notes
        assert "public.tb_flag: write cost not measured, every UPDATE tried was refused" in notes
        assert "flags cannot be changed" in notes
        assert "tb_vote" not in notes
        # Measuring left the data as it was.
        assert await conn.fetchval("SELECT count(*) FROM tb_review WHERE stars = 5") == 30
        assert await conn.fetchval("SELECT count(*) FROM tb_vote WHERE note = 'n'") == 30
        assert "| qm_ (synced table) |" in render(advice)

    with_conn(dsn, body)
    status = main(["advise", "--dsn", dsn, "review", "--samples", "10"])
    out = capsys.readouterr().out
    assert status == 0 and "Read model public.review" in out
    assert "UPDATE public.tb_review.stars" in out and "note: public.tb_flag" in out
