"""The library on disk: one SQLite file holding documents, segments and every cached result.

Owns all SQL (schema, migrations, reads, atomic writes). The bottom layer: imports nothing from
the other stages. Public entry: `Store` (store.db).
"""
