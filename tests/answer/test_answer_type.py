from ctxchat.engines.answer.answer_type import (
    CHOICE,
    DATE,
    NUMBER,
    OTHER,
    PERSON,
    PLACE,
    YESNO,
    answer_type,
    names,
    new_counts,
    new_things,
    options,
)


def test_question_words_give_the_kind_of_answer():
    assert answer_type("Who directed the movie Fifty Shades of Grey?") == PERSON
    assert answer_type("When was the English actress born?") == DATE
    assert answer_type("The film was released in what year?") == DATE
    assert answer_type("How many people did the ghetto hold at its peak?") == NUMBER
    assert answer_type("Where did the character first appear?") == PLACE
    assert answer_type("Which composer wrote Tosca?") == PERSON
    assert answer_type("Is Tosca an opera?") == YESNO
    assert answer_type("What speech by Abraham Lincoln is famous?") == OTHER


def test_when_asks_for_a_date_only_as_the_question_word():
    assert answer_type("Juhi Parmar, who appears in the show Shani, was born when?") == DATE
    assert answer_type("In the final, when did the goal come?") == DATE
    # Mid-question, "when" joins a condition: the question asks for something else.
    assert answer_type("Which team did Lars Lunde play for when they won the cup?") == OTHER
    assert answer_type("Where was David Angell headed when he died?") == PLACE
    assert answer_type("what does asn1_get_length_der return when the length is indefinite?") == (
        OTHER
    )


def test_a_hyphenated_word_is_one_word():
    assert answer_type("Which number-one single did the band release in 1999?") == OTHER
    assert answer_type("What number of people live there?") == NUMBER


def test_a_choice_question_offers_its_options():
    question = "Which opera has more acts, Don Quichotte or Tosca?"
    assert answer_type(question) == CHOICE
    assert options(question) == ["Don Quichotte", "Tosca"]
    assert new_things("Tosca is an opera in three acts.", question, CHOICE) == ["Tosca"]


def test_an_or_between_two_nouns_offers_no_choice():
    # Options follow a comma, or are names on both sides of "or".
    assert answer_type("Which genus has more species Eucryphia or Lepidozamia ?") == CHOICE
    assert answer_type("Which game is a board game, Mensch ärgere dich nicht or Roulette?") == (
        CHOICE
    )
    # Two nouns joined by "or" are part of the description, not options to pick from.
    pharmacy = (
        "Two of the pharmacy schools are Midway College School of Pharmacy and which first "
        "for-profit college or university to receive the Pharmacy Accreditation?"
    )
    assert answer_type(pharmacy) != CHOICE
    assert answer_type("Oscar is what type of animal that may be a mixed or specific breed?") == (
        OTHER
    )


def test_new_things_leave_out_what_the_question_names():
    question = "Who made the movie Fifty Shades of Grey?"
    sentence = "Fifty Shades of Grey was directed by Sam Taylor-Johnson in 2015."
    assert "Sam Taylor-Johnson" in names(sentence)
    assert new_things(sentence, question, PERSON) == ["Sam Taylor-Johnson"]
    assert new_things("Fifty Shades of Grey is a film.", question, PERSON) == []
    assert new_things(sentence, "When was Fifty Shades of Grey made?", DATE) == ["2015"]


def test_a_papers_reference_numbers_are_no_counts():
    question = "How many people have persistent hepatitis C virus?"
    cited = "The assay performs like those for many other viruses [26] [27] [28] ."
    assert new_counts(cited, question) == []
    assert new_counts("At least 170 million people [3, 4] are infected [5-7].", question) == [
        "170",
        "million",
    ]
    assert new_things("It spread in 2019 [12].", "When did it spread?", DATE) == ["2019"]
    # Raised marks as ingest writes them: after a word a reference, after a digit a power.
    assert new_counts("Most people are infected^5,6 in winter.", question) == []
    assert new_counts("The culture held 10^5 cells.", question)  # a power stays a count
