"""Examples shipped with fraiseql, usable from an installed package (demo, benchmarks, docs)."""
