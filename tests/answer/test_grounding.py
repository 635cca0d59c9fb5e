"""The grounding check with the question: answers that add nothing, lack the asked-for kind
of thing, or bend a name of the context are marked; answers the context holds are not."""

from ctxchat.engines.answer.grounding import DECLINED, NOT_FOUND, check_grounding

CONTEXT = (
    "[p. 12] Fifty Shades of Grey is a 2015 film directed by Sam Taylor-Johnson. "
    "[p. 13] Don Shula holds the record with 347 wins. "
    "[p. 14] Tosca is an opera in three acts by Giacomo Puccini."
)
WHO = "Who directed the film Fifty Shades of Grey?"


def marked(answer: str, question: str) -> bool:
    g = check_grounding(answer, CONTEXT, question)
    assert (g.mark == NOT_FOUND) is (not g.supported)
    return not g.supported


def test_answers_the_context_holds_pass() -> None:
    assert not marked("It was directed by Sam Taylor-Johnson [p. 12].", WHO)
    assert not marked("Don Shula, with 347 wins [p. 13].", "What coach has the most wins?")
    assert not marked(
        "Tosca, in three acts [p. 14].", "Which opera has more acts, Tosca or Carmen?"
    )


def test_an_answer_that_only_restates_the_question_is_marked() -> None:
    assert marked("The film Fifty Shades of Grey was directed.", WHO)
    assert marked("The answer is:", WHO)
    # Without the question the old check cannot tell: every word is in the context.
    assert check_grounding("The film Fifty Shades of Grey was directed.", CONTEXT).supported


def test_a_who_answer_without_a_new_name_is_marked() -> None:
    assert marked("It is a film directed in 2015 [p. 12].", WHO)
    assert not marked("Sam Taylor-Johnson [p. 12].", WHO)


def test_a_bent_name_is_marked_even_when_its_words_are_there() -> None:
    # "Grey" and "Taylor-Johnson" are in the context, "Grey Taylor-Johnson" is not.
    assert marked("It was directed by Grey Taylor-Johnson.", WHO)


def test_a_decline_is_not_called_unsupported_but_points_to_the_evidence() -> None:
    g = check_grounding("The document does not answer the question.", CONTEXT, WHO)
    assert g.supported and g.declined and g.mark == DECLINED


def test_a_month_in_a_name_is_no_date() -> None:
    when = "In what year did the Prime Minister take office?"
    assert marked("The Prime Minister was Theresa May.", when)
    context = "[p. 2] In July 2016, Theresa May entered office."
    assert check_grounding("Theresa May took office in 2016.", context, when).supported


def test_extras_beside_a_supported_answer_do_not_mark_it() -> None:
    assert not marked("Sam Taylor-Johnson directed it in 2016 [p. 12].", WHO)


def test_a_name_with_of_inside_is_checked_as_written() -> None:
    context = "[p. 4] Karl von Habsburg is the head of the House of Habsburg-Lorraine."
    question = "Karl von Habsburg is the head of which House?"
    assert check_grounding("The House of Habsburg-Lorraine [p. 4].", context, question).supported
    bent = check_grounding("The House of Lorraine-Habsburg [p. 4].", context, question)
    assert not bent.supported


def test_a_function_or_package_the_manual_does_not_name_is_marked() -> None:
    """The 135M reader answered R-intro's "how do I read a csv file into a data frame?"
    with `read.csv()` "from the `dplyr` package": every word ("read", "csv", "data") is in
    the context, the names are not."""
    manual = (
        "[p. 39] The function read.table() can then be used to read the data frame directly "
        '> HousePrice <- read.table("houses.data") [p. 43] R has a function hist to plot '
        "histograms."
    )
    question = "how do I read a csv file into a data frame?"
    invented = "Use the `read.csv()` function from the `dplyr` package: df <- read.csv(x)"
    g = check_grounding(invented, manual, question)
    assert not g.supported and {"read.csv", "dplyr"} <= set(g.missing)
    held = 'Use read.table(), for example read.table("houses.data") [p. 39].'
    assert check_grounding(held, manual, question).supported
    assert check_grounding("Call `hist` on the data [p. 43].", manual, "make a histogram").supported
    # Abbreviations, sentence ends and versions are no code names.
    prose = "It was directed by Sam Taylor-Johnson, e.g. in 2015. The U.S. release was 1.0."
    assert check_grounding(prose, CONTEXT + " The U.S. release was 1.0.", WHO).supported
