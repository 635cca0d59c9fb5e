"""The second hop: a real PDF (PyMuPDF) where the answer sits in a passage the question never
names, reached through a name in the first passage, and selected within a small budget."""

from __future__ import annotations

import numpy as np
import pytest

from ctxchat.engines.select.selector import SelectorOptions, select, titles_named
from ctxchat.engines.store.db import Store
from tests.select.library import sectioned_library

# A film's passage names its director; her own passage (the heading is her name) holds the
# birthplace. Two other directors' passages hold birthplaces too (look-alikes).
SECTIONS = [
    (
        "1 Harbour Lights (film)",
        "Harbour Lights is a 1958 Swedish drama film directed by Ottilie Brunström and produced "
        "by the Nordisk studio in Stockholm. The film follows a lighthouse keeper and his "
        "daughter through one hard winter on the Baltic coast, and it was shot on location "
        "near the island of Öland over eleven weeks. It won the jury prize at the Venice Film "
        "Festival in 1959.",
    ),
    (
        "2 Anton Weller",
        "Anton Weller was a German film director and screenwriter. He was born in Hamburg in "
        "1902 and directed more than forty comedies for the Ufa studio.",
    ),
    (
        "3 Ottilie Brunström",
        "Ottilie Brunström was a Swedish stage actress who turned to directing after the war. "
        "She was born in Kalmar in 1911. Her six feature films were mostly about the sea.",
    ),
    (
        "4 Marta Lind",
        "Marta Lind was a Danish film director of documentaries. She was born in Aarhus in 1920 "
        "and worked for the state film board.",
    ),
]
QUESTION = "Where was the director of the film Harbour Lights born?"


@pytest.fixture(scope="module")
def films(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, int]:
    return sectioned_library(tmp_path_factory.mktemp("bridge"), "films.pdf", SECTIONS)


@pytest.mark.parametrize("budget", [40, 60, 100])
def test_the_second_hop_answer_is_selected_within_a_small_budget(films, budget: int) -> None:
    store, doc_id = films
    sel = select(store, [doc_id], QUESTION, budget)
    assert "born in Kalmar" in sel.text
    assert sel.tokens <= budget
    # Without the bridge slot the first passage and the look-alike birthplaces win.
    plain = select(store, [doc_id], QUESTION, budget, options=SelectorOptions(bridge_slots=0))
    assert "Kalmar" not in plain.text


def test_the_bridge_goes_first_when_both_hops_do_not_fit(films) -> None:
    store, doc_id = films
    # 50 tokens hold the film's opening sentence or the birthplace with markers, not both.
    sel = select(store, [doc_id], QUESTION, 50)
    later = select(store, [doc_id], QUESTION, 50, options=SelectorOptions(bridge_first=False))
    assert "born in Kalmar" in sel.text
    assert "Kalmar" not in later.text


def test_a_choice_question_reaches_the_other_option(films) -> None:
    store, doc_id = films
    question = "Which director was born earlier, Marta Lind or Anton Weller?"
    sel = select(store, [doc_id], question, 66)
    assert "[p. 1, Anton Weller]" in sel.text and "[p. 1, Marta Lind]" in sel.text
    # Without it the slot goes to a passage the best sentences name, not to an option.
    plain = select(store, [doc_id], question, 66, options=SelectorOptions(bridge_choice=False))
    assert "[p. 1, Anton Weller]" in plain.text and "Marta Lind" not in plain.text


def test_a_passage_is_named_by_its_title_words_in_any_order() -> None:
    titles = ["fucking, austria", "harbour lights", ""]
    text = "It is named after the village of Fucking in Austria."
    assert titles_named(text, titles, by_words=True).tolist() == [True, False, False]
    assert titles_named(text, titles).tolist() == [False, False, False]
    assert titles_named("Harbour Lights won a prize.", titles).tolist() == [False, True, False]
    assert isinstance(titles_named(text, titles), np.ndarray)


def test_what_the_best_sentence_lacks_lifts_the_next_hop() -> None:
    from ctxchat.engines.pipeline import add_text
    from ctxchat.engines.select.selector import _residual_boost, load_documents

    store = Store()
    text = (
        "## Numb\n\nNumb is a song by Rihanna from her album Unapologetic. "
        "Numb charted in Canada after the album came out. "
        "It features the rapper Eminem, the pair's third collaboration."
    )
    indexes = load_documents(store, [add_text(store, text).id])
    segs = indexes[0].segments
    fused = np.array([0.0 if s.text.startswith("#") else 1.0 - 0.1 * k for k, s in enumerate(segs)])
    question = "Who collaborated with Rihanna on the song Numb?"
    lifted = _residual_boost(indexes, segs, question, SelectorOptions(residual_weight=0.5), fused)
    by_text = {s.text: (fused[k], lifted[k]) for k, s in enumerate(segs)}
    before, after = by_text["It features the rapper Eminem, the pair's third collaboration."]
    assert after == pytest.approx(before + 0.5)  # "collaborated" ~ "collaboration": all left
    before, after = by_text["Numb charted in Canada after the album came out."]
    assert after == before


def test_the_residual_meets_inflected_words(tmp_path) -> None:
    """The residual reads words as coverage does (content_stems): "poets" in the question
    meets "poet" in the next hop; first-six-letter prefixes ("poets", "poet") did not."""
    from ctxchat.engines.select.selector import _residual_boost, load_documents

    sections = [
        (
            "1 Numb (song)",
            "Numb is a song by Rihanna from her album Unapologetic. "
            "Numb charted in Canada after the album came out. "
            "Its lyrics were written by the poet Ada Lind.",
        )
    ]
    store, doc_id = sectioned_library(tmp_path, "numb.pdf", sections)
    indexes = load_documents(store, [doc_id])
    segs = indexes[0].segments
    heads = np.array([s.text.startswith("#") for s in segs])
    fused = np.where(heads, 0.0, 1.0 - 0.1 * np.arange(len(segs)))
    question = "Which poets wrote lines for the song Numb by Rihanna?"
    lifted = _residual_boost(indexes, segs, question, SelectorOptions(residual_weight=0.6), fused)
    by_text = {s.text: (fused[k], lifted[k]) for k, s in enumerate(segs)}
    # The opening holds "song", "Numb", "Rihanna"; left: "poet", "wrote", "line".
    before, after = by_text["Its lyrics were written by the poet Ada Lind."]
    assert after == pytest.approx(before + 0.6 / 3)
    before, after = by_text["Numb charted in Canada after the album came out."]
    assert after == before
