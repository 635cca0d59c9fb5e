"""The first evidence sentence must be about the question (FIRST_COSINE_SHARE): the selector's
passage boosts can rank a section's lead first that the question is not about."""

from __future__ import annotations

from ctxchat.engines.answer.evidence import FIRST_COSINE_SHARE, Candidate, pick

QUESTION = "what does attach() do?"


def candidate(text: str, rank: float, cosine: float, section: str) -> Candidate:
    return Candidate("R-intro.pdf", 36, text, (1, section), rank, cosine)


# As the selector ranked the real "An Introduction to R" (p. 36-38) for the question.
LEAD = candidate('A data frame is a list with class "data.frame".', 1.0, 0.213, "6.3 Data frames")
ANSWER = candidate(
    "attach() is a generic function that allows not only directories and data frames to be "
    "attached to the search path, but other classes of object as well.",
    0.963,
    0.715,
    "6.3.4 Attaching arbitrary lists",
)
OTHER = candidate(
    "The attach() function takes a 'database' such as a list or data frame as its argument.",
    0.958,
    0.703,
    "6.3.2 attach() and detach()",
)


def test_a_lead_far_from_the_question_is_not_shown_first() -> None:
    assert LEAD.cosine < FIRST_COSINE_SHARE * ANSWER.cosine
    shown = pick([LEAD, ANSWER, OTHER], QUESTION)
    assert shown[0] is ANSWER
    # Without the floor the unrelated lead came first, as the app showed it.
    assert pick([LEAD, ANSWER, OTHER], QUESTION, first_cosine_share=0.0)[0] is LEAD


def test_when_every_sentence_is_far_from_the_question_the_ranking_stands() -> None:
    low = [
        candidate(f"Sentence number {k} about frames.", 1.0 - k / 10, 0.1, "7 Other")
        for k in range(3)
    ]
    assert pick(low, QUESTION)[0] is low[0]


def test_tick_labels_and_index_entries_are_never_evidence(tmp_path) -> None:
    """A real PDF through the real selector: a figure's tick labels and a back-of-book index
    match a question's words or numbers but say nothing."""
    from ctxchat.engines.answer.evidence import candidates
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.store.db import Store
    from devkit.docgen import sectioned_pdf

    sections = [
        ("1 Matrices", "The function ncol returns the number of columns of a matrix x."),
        ("2 A figure", "0.0 0.2 0.4 0.6 0.8 1.0"),
        ("Index", "NaN … 11 NA … 11 ncol … 24 next … 44 nlm … 64, 65 nrow … 24"),
    ]
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "manual.pdf", sections)).document
    texts = [c.text for c in candidates(store, [doc.id], "what does ncol return for 0.2 0.4?")]
    assert any("number of columns" in t for t in texts)
    assert not any("…" in t or t.startswith("0.0") for t in texts), texts
