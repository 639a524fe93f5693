"""Read models (qm_ tables, mv_ materialized views, tv_ views) declared once, generated as SQL."""
