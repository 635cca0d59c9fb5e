"""Follow-up questions ("where is it headquartered?") are searched for with what the chat
was about; questions that say what they are about are searched for as typed."""

from __future__ import annotations

import json
from pathlib import Path

from ctxchat.engines.answer.conversation import AskSettings, Conversation, Turn
from ctxchat.engines.answer.export import export_prompt
from ctxchat.engines.answer.extract import candidate_spans
from ctxchat.engines.answer.followup import refers_back, search_for
from ctxchat.engines.ingest.library import ensure_document
from ctxchat.engines.results import Compressed
from ctxchat.engines.store.db import Store
from devkit.docgen import sectioned_pdf

COMPANIES = [
    ("Corvane Robotics", "Lyon", "welding arms for shipyards"),
    ("Borealis Foods", "Tromsø", "smoked fish and rye crackers"),
    ("Ostrander Mills", "Duluth", "paper for newspapers"),
    ("Quillfeather Press", "Galway", "poetry in translation"),
    ("Hemmick Tools", "Sheffield", "chisels and hand planes"),
]


def test_a_short_question_with_a_pronoun_and_no_name_refers_back() -> None:
    for question in (
        "Where is it headquartered?",
        "when did he die",
        "What is its population?",
        "Why?",
        "tell me more",
    ):
        assert refers_back(question), question
    for question in (
        "What did Daimler do in 2014?",  # names its subject
        "Where are the mime type definitions installed?",  # no pronoun
        # Long questions point inside themselves (from benchmarks/data/libtasn1_questions).
        "which function frees a structure and can also zero out its memory via a flag?",
        "",
    ):
        assert not refers_back(question), question


def test_no_question_people_wrote_for_the_benchmarks_is_taken_for_a_follow_up() -> None:
    root = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
    lines = (root / "libtasn1_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    assert len(questions) >= 20
    assert not [q for q in questions if refers_back(q)]


def test_a_follow_up_is_searched_with_the_chat_and_the_answers_names() -> None:
    first = Turn("Which company makes smoked fish?", "Borealis Foods [p. 2]")
    search = search_for("Where is it headquartered?", [first])
    assert search.follows == "Which company makes smoked fish?"
    assert (
        search.query == "Where is it headquartered? Which company makes smoked fish? Borealis Foods"
    )
    # A second follow-up keeps the first and the question they both lean on.
    second = Turn("Where is it headquartered?", "Tromsø [p. 2]")
    again = search_for("When was it founded?", [first, second])
    assert again.query.startswith("When was it founded? Where is it headquartered? Which company")
    assert again.follows == "Which company makes smoked fish? Where is it headquartered?"
    # A marked answer lends no names; a question that names its subject stands alone.
    marked = Turn("Which company makes smoked fish?", "Acme Fish Ltd [p. 9]", supported=False)
    assert "Acme" not in search_for("Where is it headquartered?", [marked]).query
    assert search_for("Where is Hemmick Tools?", [first]).query == "Where is Hemmick Tools?"
    assert search_for("Where is it headquartered?", []).follows is None


def test_a_question_that_swaps_the_subject_asks_the_last_one_of_it() -> None:
    first = Turn("Where is Corvane Robotics headquartered?", "Lyon [p. 1]")
    for question, subject in (
        ("What about Hemmick Tools?", "Hemmick Tools"),
        ("and Duluth?", "Duluth"),
    ):
        search = search_for(question, [first])
        assert search.query == f"Where is {subject} headquartered?" and search.whole
        assert search.follows == first.question
    # A pronoun is the subject too; two names leave the swap to a guess: searched together.
    then = Turn("where is it headquartered?", "Lyon [p. 1]")
    assert search_for("how about Hemmick Tools?", [first, then]).query == (
        "where is Hemmick Tools headquartered?"
    )
    two = Turn("Who founded Corvane Robotics and Borealis Foods?", "two engineers")
    search = search_for("what about Hemmick Tools?", [two])
    assert (
        search.query == "what about Hemmick Tools? Who founded Corvane Robotics and Borealis Foods?"
    )
    assert not search.whole
    assert not refers_back("And then the guard signs the ledger at nine every evening?")
    # After a swap, a follow-up leans on the whole question the swap was read as.
    swap = Turn("what about Hemmick Tools?", "Sheffield", "Where is Hemmick Tools headquartered?")
    search = search_for("when was it founded?", [first, swap])
    assert search.query.startswith("when was it founded? Where is Hemmick Tools headquartered?")
    assert "Corvane" not in search.query
    assert search_for("and Borealis Foods?", [first, swap]).query == (
        "Where is Borealis Foods headquartered?"
    )


def _company_pdf(path: Path) -> Path:
    sections = [
        (
            name,
            f"{name} is a company that makes {what}. It is headquartered in {city}. "
            f"{name} was founded by two engineers and sells to customers in many countries. "
            "Its annual report lists the board members and the auditors.",
        )
        for name, city, what in COMPANIES
    ]
    return sectioned_pdf(path, sections)


def test_the_evidence_for_a_follow_up_is_about_what_the_chat_asked(tmp_path: Path) -> None:
    path = _company_pdf(tmp_path / "companies.pdf")
    with Store() as store:
        doc = ensure_document(store, path)
        for name, city, what in COMPANIES:
            conversation = Conversation(store, [doc.id], AskSettings(budget=120))
            conversation.turns.append(Turn(f"Which company makes {what}?", f"{name} [p. 1]"))
            prepared = conversation.prepare("Where is it headquartered?")
            assert prepared.follows == f"Which company makes {what}?"
            assert city in prepared.evidence[0].where + prepared.evidence[0].text
            assert city in prepared.compressed.text
            assert prepared.question == "Where is it headquartered?"  # the reader's question
        alone = Conversation(store, [doc.id], AskSettings(budget=120))
        assert alone.prepare("Where is it headquartered?").follows is None
        alone.turns.append(Turn("Where is Corvane Robotics headquartered?", "Lyon [p. 1]"))
        swapped = alone.prepare("What about Hemmick Tools?")
        assert swapped.asks == "Where is Hemmick Tools headquartered?"  # what the reader answers
        shown = " ".join(e.text for e in swapped.evidence)
        assert "Sheffield" in shown and "Lyon" not in shown


def test_the_thing_a_follow_up_points_at_is_no_answer_to_it() -> None:
    sentences = ["Western Star Trucks Sales is headquartered in Portland, Oregon."]
    named = "where is it headquartered? western star trucks is a subsidiary of which company"
    spans = [s.text for s in candidate_spans("where is it headquartered?", sentences, named=named)]
    assert "Western Star Trucks Sales" not in spans and "Portland" in " ".join(spans)
    # Without the chat, the name is a candidate as before.
    assert "Western Star Trucks Sales" in [
        s.text for s in candidate_spans("where is it headquartered?", sentences)
    ]


def test_the_export_of_a_follow_up_says_which_question_it_follows() -> None:
    compressed = Compressed("[p. 2] Borealis Foods is headquartered in Tromsø.", 100, 12)
    text = export_prompt(compressed, "Where is it headquartered?", "Which company makes fish?")
    assert text.endswith(
        "Asked before: Which company makes fish?\n\nQuestion: Where is it headquartered?\n"
    )
    assert "Asked before" not in export_prompt(compressed, "Where is Borealis Foods?")


def test_the_chat_exports_a_follow_up_with_its_earlier_question(tmp_path: Path) -> None:
    # Ctrl+Y after a follow-up, and Ctrl+Y on a follow-up typed but not asked yet.
    from ctxchat.app.tui.session import Session
    from devkit.tui_helpers import TEST_CONFIG

    path = _company_pdf(tmp_path / "companies.pdf")
    with Store() as store:
        doc = ensure_document(store, path)
        session = Session(store, TEST_CONFIG)
        session.used = {doc.id}
        session.conversation.turns.append(Turn("Which company makes paper?", "Ostrander Mills"))
        session.prepare("Where is it headquartered?")
        exported = session.export_prompt("Where is it headquartered?")
        assert "Duluth" in exported
        assert "Asked before: Which company makes paper?" in exported
        session.compress("When was it founded?")
        assert "Asked before" in session.export_prompt("When was it founded?")
        session.compress("Where is Hemmick Tools?")
        assert "Asked before" not in session.export_prompt("Where is Hemmick Tools?")
