"""The evidence names what it is about: a passage's lead sentence, counts for "how many",
and residual words that are real words. A real PDF (PyMuPDF) and the real selector."""

from __future__ import annotations

from pathlib import Path

from ctxchat.engines.answer.answer_type import new_counts
from ctxchat.engines.answer.evidence import Candidate, best_evidence, candidates, pick
from ctxchat.engines.ingest.library import add_path
from ctxchat.engines.store.db import Store
from devkit.docgen import sectioned_pdf

# The question describes the film (its star, a character) and never names it: the answer is
# the film's other name, in the lead of its passage, which shares few words with the question.
FILMS = [
    (
        "1 Spectral Patrol (2016 film)",
        "Spectral Patrol (also known as Spectral Patrol: Night Shift and marketed as such on home "
        "release) is a 2016 supernatural comedy film directed by Ida Marsh and written by Marsh "
        "and Tom Reyes. The film stars Dana Holloway, Kirsten Vale, Lena Okafor and Chris "
        "Barrow. It is the third feature film in the franchise, and serves as a reboot of the "
        "series. The green ghost Gloop, a character from the earlier films, returns in a larger "
        "role.",
    ),
    (
        "2 Ida Marsh",
        "Ida Marsh is an American film director and writer. She is best known for directing the "
        "2011 comedy Bridal Party, featuring Kirsten Vale and Dana Holloway, and the 2016 film "
        "Spectral Patrol.",
    ),
    (
        "3 Night Watch (2013 film)",
        "Night Watch is a 2013 American comedy film starring Jason Bates and Dana Holloway. Its "
        "cast includes a talking dog called Gus.",
    ),
]
FILM_QUESTION = "What movie starring Dana Holloway features a character named Gloop?"


def candidate(text: str, rank: float, section: str | None) -> Candidate:
    return Candidate("book.pdf", 1, text, (1, section), rank, 0.5)


def test_the_lead_of_the_passage_the_question_describes_is_evidence(tmp_path: Path) -> None:
    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "films.pdf", FILMS)).document
    found = candidates(store, [doc.id], FILM_QUESTION)
    assert found[0].section[1] == "1 Spectral Patrol (2016 film)"
    # Where the names a sentence adds count for a "what movie" question (as before
    # 2026-12-02 22:50), the lead shows the film's other name; it ranks low (the question
    # shares "film" with it, little else), so without the bonus for naming a picked
    # passage's subject the three are the star, the director and the character.
    named = pick(found, FILM_QUESTION, other_type_bonus=0.5)
    assert any("Spectral Patrol: Night Shift" in c.text for c in named)
    assert len(named) == 3
    plain = pick(found, FILM_QUESTION, other_type_bonus=0.5, lead_bonus=0)
    assert not any("Night Shift" in c.text for c in plain)
    # Now no name counts for such a question (scientific papers are full of them): the
    # evidence is the star and the character, both under the film's title.
    evidence = best_evidence(store, [doc.id], FILM_QUESTION)
    assert "Dana Holloway" in evidence[0].text and "Gloop" in evidence[1].text
    assert {e.section for e in evidence[:2]} == {"1 Spectral Patrol (2016 film)"}


def test_a_lead_counts_only_in_a_passage_already_picked() -> None:
    question = "What movie starring Dana Holloway features a character named Gloop?"
    found = [
        candidate("The film stars Dana Holloway and Kirsten Vale.", 1.0, "Spectral Patrol (film)"),
        candidate("Gloop is the ghost of the earlier films.", 0.9, "Spectral Patrol (film)"),
        candidate("Night Watch is a 2013 comedy film by Jo Bates.", 0.7, "Night Watch (film)"),
        candidate(
            "Spectral Patrol is a 2016 comedy film by Ida Marsh.", 0.6, "Spectral Patrol (film)"
        ),
    ]
    texts = [c.text for c in pick(found, question, limit=3)]
    assert found[3].text in texts and found[2].text not in texts


def test_a_year_is_no_answer_to_how_many() -> None:
    question = "How many variants are there of the transport aircraft the Zetros truck fits?"
    assert new_counts("It was first shown at the 2008 Eurosatory trade show.", question) == []
    assert new_counts("Over forty variants operate in 60 nations.", question) == ["forty", "60"]
    found = [
        candidate("The Zetros truck fits into a Hercules transport aircraft.", 1.0, "Zetros"),
        candidate("The Zetros was first shown at the 2008 Eurosatory trade show.", 0.95, "Zetros"),
        candidate("Over forty variants of the Hercules operate in 60 nations.", 0.7, "Hercules"),
    ]
    # Beside the best-ranked sentence, the count outweighs the better-ranked year; a year
    # once earned it the same bonus.
    assert [c.text for c in pick(found, question, limit=2)] == [found[0].text, found[2].text]
    assert pick(found, question, limit=2, count_years=True)[1].text == found[1].text


def test_an_initial_or_one_leftover_word_does_not_make_a_second_hop() -> None:
    # "D." of "Ralf D. Bode" is no question word the next hop must add, so the "D" of
    # "D'Angelo" does not lift the husband's sentence above the one that answers.
    question = "Ralf D. Bode is best known for his work on a film starring who as Loretta?"
    found = [
        candidate(
            "Coal Miner's Daughter is a 1980 film about the singer Loretta Lynn.", 1.0, "CMD"
        ),
        candidate(
            "Ralf Detlef Bode was a cinematographer best known for his work on it.", 1.0, "Bode"
        ),
        candidate("It stars Sissy Spacek as Loretta, a role that won her an award.", 0.98, "CMD"),
        candidate(
            "Tommy Lee Jones plays Loretta's husband; Beverly D'Angelo also stars.", 0.94, "CMD"
        ),
    ]
    texts = [c.text for c in pick(found, question, limit=3)]
    assert found[2].text in texts and found[3].text not in texts


def test_one_leftover_question_word_earns_half_the_second_hop_bonus() -> None:
    # The first sentence holds every question word but "titled": a sentence that holds only
    # that generic word is no second hop, and the producer's sentence, ranked higher, wins.
    question = "The album titled Omo Baba Olowo by Davido was produced by who?"
    found = [
        candidate(
            "Omo Baba Olowo is the debut album by the Nigerian producer Davido.", 1.0, "Omo Baba"
        ),
        candidate(
            "Davido worked with producers such as Jay Sleek and Maleek Berry.", 0.9, "Omo Baba"
        ),
        candidate("Gallardo is a song by Runtown from his album titled Ghetto U.", 0.5, "Gallardo"),
    ]
    assert [c.text for c in pick(found, question, limit=2)] == [found[0].text, found[1].text]
    whole = pick(found, question, limit=2, residual_min_words=1)
    assert [c.text for c in whole] == [found[0].text, found[2].text]


def test_the_picked_passage_goes_before_a_look_alike() -> None:
    # "Russell Hobbs, Inc" shares a name and the word "company" with the question; the
    # sentence naming the award is in the passage about Gene Hobbs that was picked first.
    question = (
        "What company operates in Switzerland and is part of the name of an award Gene Hobbs won?"
    )
    found = [
        candidate("Gene Hobbs is an American technical diver and explorer.", 1.0, "Gene Hobbs"),
        candidate("Russell Hobbs, Inc. was a company in Florida.", 0.8, "Russell Hobbs, Inc"),
        candidate("In 2010 Hobbs was given the Rolex Diver of the Year award.", 0.7, "Gene Hobbs"),
    ]
    assert [c.text for c in pick(found, question, limit=2)][1] == found[2].text
    assert [c.text for c in pick(found, question, limit=2, other_passage_bonus=0.0)][1] == (
        found[1].text
    )
