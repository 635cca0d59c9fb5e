"""Query-aware sentence selection: rank a document's sentences against a question, fill a budget.

Owns lexical (FTS5) and dense (MiniLM) scoring, fusion and the budgeted pick in document order.
Imports store/ and ingest/ types. Public entry: `select` (select.selector).
"""
