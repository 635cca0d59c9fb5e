"""A third evidence sentence is shown only when it earns its place (THIRD_FLOOR): a real PDF
(PyMuPDF), the real selector and the picker."""

from __future__ import annotations

from pathlib import Path

from ctxchat.engines.answer.evidence import THIRD_FLOOR, Candidate, best_evidence, candidates, pick
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.store.db import Store
from devkit.docgen import sectioned_pdf

# One passage answers the question in two sentences; the others share nothing with it.
SECTIONS = [
    (
        "1 Mercedes-Benz Zetros",
        "The Mercedes-Benz Zetros is an off-road truck for extreme operations. The Zetros was "
        "first shown to the public at the 2008 Eurosatory defence show in Paris.",
    ),
    (
        "2 Lake Constance",
        "Lake Constance lies on the Rhine at the foot of the Alps. It is bordered by Germany, "
        "Switzerland and Austria. Ferries cross it all year round.",
    ),
    (
        "3 Sourdough",
        "Sourdough bread is made by the fermentation of dough using lactobacilli and yeast. "
        "Bakers keep a starter alive for years and feed it with flour and water.",
    ),
]
QUESTION = "Where was the Mercedes-Benz Zetros truck first shown?"


def candidate(text: str, rank: float, section: str | None) -> Candidate:
    return Candidate("book.pdf", 1, text, (1, section), rank, 0.5)


def test_an_unrelated_third_sentence_is_not_shown(tmp_path: Path) -> None:
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "zetros.pdf", SECTIONS)).document
    evidence = best_evidence(store, [doc.id], QUESTION)
    assert [e.section for e in evidence] == ["1 Mercedes-Benz Zetros"] * 2
    assert any("Eurosatory" in e.text for e in evidence)
    # Without the floor the third slot is filled from a passage about a lake.
    found = candidates(store, [doc.id], QUESTION)
    padded = pick(found, QUESTION, third_floor=0.0)
    assert len(padded) == 3 and padded[2].section[1] != "1 Mercedes-Benz Zetros"


def test_a_third_sentence_that_earns_its_place_stays() -> None:
    # Besides the novel and the second hop, a sentence ranked nearly as high as the first that
    # names a person the question does not: close to the first's value, so it is shown.
    question = "Who directed the 2015 film based on the novel Fifty Shades of Grey?"
    found = [
        candidate("Fifty Shades of Grey is a 2011 novel by E. L. James.", 1.0, "Novel"),
        candidate("The novel Fifty Shades of Grey was edited by Amanda Hayward.", 0.95, "Novel"),
        candidate("The 2015 film was directed by Sam Taylor-Johnson.", 0.6, "Film"),
        candidate("The novel sold 125 million copies.", 0.5, "Novel"),
    ]
    texts = [c.text for c in pick(found, question)]
    assert texts[0] == found[0].text and set(texts) == {c.text for c in found[:3]}
    # The floor is relative to the first sentence's value: raised past the third's, it goes;
    # the weak sentence with no name never gets in.
    assert [c.text for c in pick(found, question, third_floor=1.0)] == texts[:2]
    assert found[3].text not in [c.text for c in pick(found, question, limit=4)]
    assert 0.0 < THIRD_FLOOR < 1.0


def test_the_floor_never_takes_the_second_sentence() -> None:
    # A second sentence far below the first is still shown: the second hop is often weak.
    question = "When was the Zetros first shown?"
    found = [
        candidate("The Zetros was first shown at the 2008 Eurosatory show.", 1.0, "Zetros"),
        candidate("Ferries cross the lake all year round.", 0.05, "Lake"),
    ]
    assert len(pick(found, question, third_floor=0.99)) == 2
