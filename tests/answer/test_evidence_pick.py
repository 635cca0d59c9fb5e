from ctxchat.engines.answer.conversation import evidence_text
from ctxchat.engines.answer.evidence import Candidate, pick


def candidate(text: str, rank: float, section: str | None, page: int = 1) -> Candidate:
    return Candidate("book.pdf", page, text, (1, section), rank, 0.5)


def test_the_second_hop_sentence_is_shown_beside_the_first():
    question = "Who directed the 2015 film based on the novel Fifty Shades of Grey?"
    found = [
        candidate("Fifty Shades of Grey is a 2011 novel by E. L. James.", 1.0, "Novel"),
        candidate("The novel Fifty Shades of Grey sold 125 million copies.", 0.95, "Novel"),
        candidate("The novel Fifty Shades of Grey was set in Seattle.", 0.9, "Novel"),
        candidate("The film was directed by Sam Taylor-Johnson.", 0.6, "Film"),
    ]
    texts = [c.text for c in pick(found, question, limit=3)]
    assert "The film was directed by Sam Taylor-Johnson." in texts
    # Without the bonuses the picker is the selector's ranking, and misses it.
    plain = pick(
        found, question, 3, type_bonus=0, bridge_bonus=0, other_passage_bonus=0, residual_bonus=0
    )
    assert [c.text for c in plain] == [c.text for c in found[:3]]


def test_a_choice_question_gets_a_sentence_for_each_option():
    question = "Which opera has more acts, Don Quichotte or Tosca?"
    found = [
        candidate("Don Quichotte is an opera in five acts by Massenet.", 1.0, "Don Quichotte"),
        candidate("Don Quichotte premiered in Monte Carlo in 1910.", 0.9, "Don Quichotte"),
        candidate("Massenet wrote Don Quichotte late in life.", 0.85, "Don Quichotte"),
        candidate("Tosca is an opera in three acts by Puccini.", 0.7, "Tosca"),
    ]
    texts = [c.text for c in pick(found, question, limit=2)]
    assert texts == [found[0].text, found[3].text]


def test_evidence_is_laid_out_as_excerpts_with_pages():
    found = [candidate("Tosca is an opera in three acts.", 1.0, "Tosca", page=12)]
    evidence = [c.evidence() for c in found]
    assert evidence_text(evidence) == "[p. 12] Tosca is an opera in three acts."
    assert evidence_text(evidence, multi_doc=True).startswith("[book.pdf, p. 12] ")


def test_evidence_names_its_section_so_it_reads_on_its_own():
    found = [candidate("Founded in 1945, it plays at Los Pajaritos.", 1.0, "1.6 CD Numancia", 2)]
    evidence = found[0].evidence()
    assert evidence.section == "1.6 CD Numancia"
    assert evidence.where == "book.pdf, p. 2 · 1.6 CD Numancia"
    assert evidence.as_dict()["section"] == "1.6 CD Numancia"
    untitled = candidate("A sentence before any heading.", 1.0, None, 1).evidence()
    assert untitled.where == "book.pdf, p. 1" and untitled.as_dict()["section"] is None


def test_word_forms_count_for_what_the_next_hop_must_add():
    question = "Who collaborated with Rihanna on the song Numb?"
    found = [
        candidate('"Numb" is a song by Rihanna from her album Unapologetic.', 1.0, "Numb"),
        candidate('"Numb" charted in Canada after the release of the album.', 0.85, "Numb"),
        candidate("It features the rapper Eminem, their third collaboration.", 0.8, "Numb"),
    ]
    texts = [c.text for c in pick(found, question, limit=2)]
    assert texts == [found[0].text, found[2].text]
    # Whole words only: "collaboration" is not "collaborated", and the chart sentence wins.
    whole = [c.text for c in pick(found, question, limit=2, stem=0)]
    assert whole == [found[0].text, found[1].text]


def test_the_evidence_of_a_real_pdf_holds_the_second_hop(tmp_path):
    from ctxchat.engines.answer.evidence import best_evidence
    from ctxchat.engines.ingest.library import add_path
    from ctxchat.engines.store.db import Store
    from devkit.docgen import sectioned_pdf
    from tests.select.test_bridge import QUESTION, SECTIONS

    store = Store(tmp_path / "library.db")
    doc = add_path(store, sectioned_pdf(tmp_path / "films.pdf", SECTIONS)).document
    evidence = best_evidence(store, [doc.id], QUESTION)
    assert 1 <= len(evidence) <= 3
    assert any("born in Kalmar" in e.text for e in evidence)
    assert all(e.page == 1 for e in evidence)


def test_the_best_ranked_sentence_comes_first_in_a_manual_full_of_identifiers():
    # "Which function ..." asks for no particular kind, so any capitalised word (NULL, DER)
    # passed for the thing asked and lifted lower sentences over the one that answers.
    question = "which function deletes a structure?"
    found = [
        candidate("Deletes the structure * structure .", 1.0, "asn1 delete structure"),
        candidate(
            "int asn1_delete_structure (asn1 node * structure)", 0.88, "asn1 delete structure"
        ),
        candidate("On an error the * STRUCTURE is deleted and set to NULL .", 0.85, "der decoding"),
        candidate("Returns: ASN1_SUCCESS if DER encoding OK.", 0.78, "der decoding"),
    ]
    # No capitalised word counts as the thing asked: the answer and its signature, nothing
    # about decoding.
    assert [c.text for c in pick(found, question)] == [found[0].text, found[1].text]
    before = pick(found, question, type_in_first=True, other_type_bonus=0.5)
    assert before[0].text == found[2].text


def test_weak_evidence_reads_the_best_ranked_sentences_too():
    from ctxchat.engines.answer.evidence import WEAK_EVIDENCE, FoundEvidence

    def evidence(score: float):
        return Candidate("m.pdf", 1, f"A sentence scoring {score}.", (1, None), 1.0, score)

    shown = [evidence(0.40).evidence(), evidence(0.38).evidence()]
    assert FoundEvidence(shown, []).weak(WEAK_EVIDENCE)
    # A close sentence ranked near the top says the document does speak to the question.
    assert not FoundEvidence(shown, [evidence(0.62).evidence()]).weak(WEAK_EVIDENCE)
    assert FoundEvidence([], []).weak(WEAK_EVIDENCE)


def test_a_sentence_the_document_repeats_is_shown_once():
    # Manuals repeat boilerplate under several commands; the second copy would waste a slot.
    question = "Does monochrome change the colour of the lines?"
    note = "Monochrome uses a gray palette but does not change explicit line colours."
    found = [
        candidate(note, 1.0, "Monochrome", page=170),
        candidate(note.upper().lower().capitalize(), 0.99, "Terminal", page=240),
        candidate("Line colours are set with the linecolor option.", 0.8, "Linecolor"),
    ]
    texts = [c.text for c in pick(found, question, limit=3)]
    assert len(texts) == len({" ".join(t.lower().split()) for t in texts})
    assert "Line colours are set with the linecolor option." in texts
