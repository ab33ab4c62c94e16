"""Common questions: the shop's answers (templates/<lang>/faq.toml) and the matcher that decides,
conservatively, whether a customer's message is one of them. Pure: no database, nothing sent.

Reading a message (`tokens`): Unicode NFKC; invisible marks, tatweel and Urdu diacritics dropped; Urdu letter
variants unified (ي ى ئ → ی, ك → ک, ه ۃ ة ۂ ھ → ہ, آ أ إ → ا, ؤ → و); Urdu and Arabic-Indic digits → 0–9;
lower case; punctuation → space. Then known phrases become one token ("cash on delivery" → cod, "جاز کیش" →
jazzcash) or are dropped ("by mistake"), repeated Latin letters are squeezed (aaye → aye), Roman Urdu spelling
is written one way (kh/k, gh/g, ee/i, oo/u, ai/e) and each word is mapped to a canonical token, with its
English plural or tense ending or its Urdu gender/number ending if need be, so Roman Urdu spellings (kab/kb,
kaise/kese), Urdu-script loanwords (آرڈر, ڈیلیوری) and English share one (handlers/faq_words.py); a phrase
is then found again among the canonical tokens, so any spelling of its words makes it ("kitnay dino" → duration
as "kitne din" does). Places (cities, areas, provinces), countries, products and amounts become placeholders: a
city named in a delivery question, a product in a warranty question, an amount in a charges question match the
shop's examples whatever the name. Words with no meaning of their own (hai, kya, the, کا, greetings …) are dropped.

Scoring an answer: its examples (both language files) and titles are token lists. A question's words weigh
by how rare they are among the answers (a word of one answer only weighs most; a word no answer knows weighs
as much: it is likely about something else, and so does a word of another answer's topic that this answer
misses); a misspelt word counts for the known word within one edit (two for long words). Score = 0.45 × best
soft-F1 against one example (how much of the question the example explains and of the example the question) +
0.35 × how much of the question the answer's vocabulary explains + 0.20 × character n-gram TF-IDF cosine with
the closest example (faq_tfidf.py: joined words, typos). Only the examples that share a word with the question
are scored word by word; the n-gram cosine runs through postings.

Deciding (`match`): no answer when the message reads as a complaint (a hypothetical "if the size is wrong …"
is not one), asks for a person or for a change to an order, is only a greeting or has no meaningful word;
otherwise the best answer is given only if its score reaches the threshold, beats the second-best answer by
the margin, its vocabulary explains most of the question and the question most of its closest example, and
the second-best answer holds no topic word of the question that only it knows (a word only in a hypothetical
clause, "if I order tomorrow morning …", is no such rival) (settings [selfservice]); a score that comes close is
*unsure* and a person answers. A wrong automatic answer is worse than a handoff.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

import config
from handlers.core.texts import TEMPLATES
from handlers.features import faq_words as words
from handlers.features.faq_tfidf import CharTfidf

FILE = "faq.toml"
LANGUAGES = ("ur", "en")
KEY = re.compile(r"^[a-z0-9_]{1,40}$")

W_EXAMPLE, W_VOCAB, W_CHARS = 0.45, 0.35, 0.20
LIGHT_WEIGHT = 0.45  # question words (when, how much …)
NUMBER_WEIGHT = 0.3  # 2000, 42 …
UNKNOWN_WEIGHT = 0.7  # a word no answer uses (likely about something else)
NEUTRAL_WEIGHT = 0.15  # a product named (the microwave, a kurta): the question is still about the answer's topic
PRODUCT = "product"
FUZZY_SIMILARITY = 0.85  # a misspelt word counts this much of the word it stands for

# ---- reading text ---------------------------------------------------------------------------------------
_INVISIBLE = re.compile("[\u00ad\u0640\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LETTERS = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ئ": "ی",
        "ې": "ی",
        "ك": "ک",
        "ه": "ہ",
        "ۃ": "ہ",
        "ة": "ہ",
        "ۂ": "ہ",
        "ھ": "ہ",
        "آ": "ا",
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ۓ": "ے",
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **{chr(0x0660 + i): str(i) for i in range(10)},
    }
)
_NOT_WORD = re.compile(r"[\W_]+")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
_REPEATS = re.compile(r"([a-z])\1+")
_LATIN = re.compile(r"[a-z]")


def letters(text: str) -> str:
    """Urdu letter variants unified and diacritics dropped, nothing else (usable on regular expressions)."""
    return _DIACRITICS.sub("", _INVISIBLE.sub("", text)).translate(_LETTERS)


def normalise(text: str) -> str:
    """Lower case, one letter per Urdu sound, Latin digits, words separated by single spaces."""
    text = letters(unicodedata.normalize("NFKC", text or "")).casefold()
    text = _DIGIT_LETTER.sub(" ", _NOT_WORD.sub(" ", text))
    return " ".join(text.split())


def squeeze(word: str) -> str:
    """Repeated Latin letters once: aaye → aye, helloo → helo (Urdu script untouched)."""
    return _REPEATS.sub(r"\1", word)


_ROMAN = ((re.compile("kh"), "k"), (re.compile("gh"), "g"), (re.compile("ee"), "i"), (re.compile("oo"), "u"))
_ROMAN += ((re.compile("(?<=.)ai(?=.)"), "e"),)


def roman(word: str) -> str:
    """Roman Urdu spelling variants written one way: kh/k, gh/g, ee/i, oo/u, ai/e inside a word, doubled letters
    once
    (khulegi = kulegi, paise = pese, joote = jote, baad = bad). Applied alike to the shop's examples and to the
    customer's words, so only the comparison changes; Urdu script is untouched."""
    word = squeeze(word)
    if not _LATIN.search(word):
        return word
    for written, said in _ROMAN:
        word = written.sub(said, word)
    return squeeze(word)


def _word_form(word: str) -> str:
    return roman(normalise(word))


_LATIN_ENDING = re.compile(r"(?:gi|ga|ge|en|in|on|un|i|a|e)$")
_URDU_ENDING = re.compile(r"(?:یں|گی|گا|گے|وں|ی|ا|ے)$")


def stem(word: str) -> str:
    """A word without its gender, number or tense ending, for words of 4+ letters: milegi/milega/milti → mil,
    khuli/khula → khul, سکتی/سکتا → سکت, بدلوں → بدل (feminine and plural verb forms meet the ones in the file)."""
    if len(word) < 4 or word.isdigit():
        return word
    ending = _LATIN_ENDING if _LATIN.match(word) else _URDU_ENDING
    short = ending.sub("", word)
    return short if len(short) >= 3 else word


@functools.lru_cache(maxsize=1)
def _lexicon():
    phrases = {normalise(k): v for k, v in words.PHRASES.items()}
    phrase_re = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, sorted(phrases, key=len, reverse=True))) + r")(?!\w)")
    canonical = {}
    for canon, variants in words.CANONICAL.items():
        for variant in [*variants.split(), canon]:
            canonical[_word_form(variant)] = canon
    for product in words.PRODUCTS.split():
        canonical.setdefault(_word_form(product), PRODUCT)
    stop = {_word_form(w) for w in words.STOPWORDS | words.GREETINGS} - set(canonical)
    stems: dict[str, set] = {}
    for variant, canon in canonical.items():
        if len(stem(variant)) >= 4:  # shorter stems say too little (code → cod, rate → rat)
            stems.setdefault(stem(variant), set()).add(canon)
    complaint = [re.compile(letters(p)) for p in words.COMPLAINT]
    complaint_raw = [re.compile(p) for p in words.COMPLAINT_RAW]
    person = [re.compile(letters(p)) for p in words.PERSON]
    return dict(
        phrases=phrases,
        phrase_re=phrase_re,
        canonical=canonical,
        spellings=sorted(canonical),
        stems={short: next(iter(canons)) for short, canons in stems.items() if len(canons) == 1},
        stop=stop,
        stop_stems={stem(w): w for w in stop},
        complaint=complaint,
        complaint_raw=complaint_raw,
        person=person,
        greetings={_word_form(w) for w in words.GREETINGS},
        menu={normalise(w) for w in words.MENU_WORDS},
        yes={_word_form(w) for w in words.YES},
        no={_word_form(w) for w in words.NO},
    )


def all_tokens(text: str, join: bool = True) -> list[str]:
    """Every word of the message as a canonical token, meaningless ones included (`join`: with the phrases
    among them made one however their words are spelt, `_canonical_phrases`)."""
    lex = _lexicon()
    text = lex["phrase_re"].sub(lambda m: lex["phrases"][m.group(1)], normalise(text))
    found = [_canonical(raw) for raw in text.split()]
    return _joined(found) if join else found


@functools.lru_cache(maxsize=1)
def _canonical_phrases() -> dict[tuple, list[str]]:
    """The phrases again, word by word as canonical tokens, so that any spelling of their words makes them:
    "kitnay din", "ktne dino", "کتنے دنوں" → duration as "kitne din" does; "rupay wapas" → refund as "paise
    wapas" does. Phrases that are dropped ("ki jagah") stay literal (their words mean other things too), and two
    phrases whose words meet but whose meanings differ are left out."""
    found: dict[tuple, list[str]] = {}
    clash = set()
    for phrase, meaning in _lexicon()["phrases"].items():
        if not meaning or len(phrase.split()) < 2:
            continue
        key, value = tuple(_canonical(w) for w in phrase.split()), [_canonical(w) for w in meaning.split()]
        if found.setdefault(key, value) != value:
            clash.add(key)
    return {key: value for key, value in found.items() if key not in clash}


def _joined(found: list[str]) -> list[str]:
    """Canonical tokens with the phrases among them made one (`_canonical_phrases`), longest first."""
    table = _canonical_phrases()
    longest = max(map(len, table), default=0)
    out, i = [], 0
    while i < len(found):
        for n in range(min(longest, len(found) - i), 1, -1):
            if (meaning := table.get(tuple(found[i : i + n]))) is not None:
                out.extend(meaning)
                i += n
                break
        else:
            out.append(found[i])
            i += 1
    return out


@functools.lru_cache(maxsize=4096)
def _canonical(raw: str) -> str:
    """One word as its canonical token: a known spelling, its plural, or a known word within one edit
    (two for long words) — 'khulegi' → open, 'exchanges' → exchange; otherwise the word itself."""
    lex = _lexicon()
    canonical = lex["canonical"]
    word = roman(raw)
    for candidate in (raw, word, *_inflected(word)):
        if candidate in canonical:
            return canonical[candidate]
    short = stem(word)
    if short in lex["stems"]:
        return lex["stems"][short]
    if short != word and short in lex["stop_stems"]:
        return lex["stop_stems"][short]
    if len(word) >= 7 and not word.isdigit() and word not in _lexicon()["stop"]:
        near = process.extractOne(word, _lexicon()["spellings"], scorer=OSA.distance, score_cutoff=_budget(word))
        if near and near[0][0] == word[0]:
            return canonical[near[0]]
    return word


_ENGLISH_ENDINGS = (("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("d", ""), ("ing", ""), ("ing", "e"))


def _inflected(word: str):
    """An English word without its plural or tense ending (boxes, returns, returned, placed, cancelling)."""
    for ending, base in _ENGLISH_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            yield word[: -len(ending)] + base


def _budget(word: str) -> int:
    """Edits a misspelling may be away from the word it stands for: one, two for words of 9+ letters."""
    return 2 if len(word) >= 9 else 1


def _implied(found: list[str]):
    for token in found:
        yield token
        if token in words.IMPLIES:
            yield words.IMPLIES[token]


def tokens(text: str) -> list[str]:
    """The meaningful words of a message as canonical tokens, in order, without repeats."""
    stop = _lexicon()["stop"]
    seen, out = set(), []
    for token in _implied(all_tokens(text)):
        if token not in stop and token not in seen and not (len(token) == 1 and _LATIN.match(token)):
            seen.add(token)
            out.append(token)
    return out


# ---- what kind of message it is -------------------------------------------------------------------------
def is_complaint(text: str) -> bool:
    """Anger, a problem with an order, a refund wanted … (Urdu, Roman Urdu, English)."""
    lex = _lexicon()
    if any(p.search(text or "") for p in lex["complaint_raw"]):
        return True
    plain = without_conditions(_INNOCENT.sub(" ", normalise(text)))
    squeezed = " ".join(squeeze(w) for w in plain.split())
    return any(p.search(plain) or p.search(squeezed) for p in lex["complaint"])


_INNOCENT = re.compile(r"(?<!\w)(?:" + "|".join(map(letters, words.INNOCENT)) + r")(?!\w)")
_ACTUAL = re.compile(r"(?<!\w)(?:" + "|".join(words.ACTUAL) + r")(?!\w)")


def without_conditions(plain: str) -> str:
    """A normalised message without its hypothetical clauses: "if the size is wrong can I change it" → "can i
    change it", "agar pasand na aaye to wapas ho ga" → "to wapas ho ga". A clause runs from if/agar/اگر to where
    the question itself starts (then, to/تو, kya/کیا, how, why, "can I", "will it" …); a clause that never
    reaches one, or that says the problem is real (abhi tak, still, already …), is kept: "if my order does not
    come by tomorrow I will complain" stays a complaint."""
    found = plain.split()
    out, i = [], 0
    while i < len(found):
        end = _condition_end(found, i) if found[i] in words.CONDITION else None
        if end is None or _ACTUAL.search(" ".join(found[i:end])):
            out.append(found[i])
            i += 1
        else:
            i = end
    return " ".join(out)


def _condition_end(found: list[str], start: int) -> int | None:
    """Where the hypothetical clause that starts at `start` ends (the first word of the question), or None."""
    for i in range(start + 2, len(found)):
        word, after = found[i], found[i + 1] if i + 1 < len(found) else ""
        if word in words.CONDITION_ENDS or (word in words.MODALS and after in words.SUBJECTS):
            return i
    return None


def wants_person(text: str) -> bool:
    """ "agent", "human", "insaan", "کسی سے بات", "talk to a person" …"""
    plain = normalise(text)
    return any(p.search(plain) for p in _lexicon()["person"])


def is_greeting(text: str) -> bool:
    """Only a greeting: "hi", "salam", "AoA", "السلام علیکم", "good morning sir" (no question, no problem)."""
    found = [_word_form(w) for w in normalise(text).split()]
    return bool(found) and all(w in _lexicon()["greetings"] for w in found)


def is_menu_word(text: str) -> bool:
    """ "menu", "مینو", "/menu" (also "/menu@shop_bot")."""
    text = (text or "").strip()
    if text.startswith("/"):
        text = text.split("@", 1)[0]
    return normalise(text) in _lexicon()["menu"]


def feedback(text: str) -> str | None:
    """'yes' or 'no' when a short message answers "did this help?" with a word (ہاں, nahi, thanks …)."""
    found = [_word_form(w) for w in normalise(text).split()]
    if not found:
        return None
    if found[0] in _lexicon()["no"]:
        return "no"
    if found[0] in _lexicon()["yes"] and len(found) <= 4:
        return "yes"
    return None


_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def choice(text: str) -> int | None:
    """A message that is only a number (Latin, Urdu or Arabic-Indic digits): "2", "۲", "2.", "(2)"."""
    found = re.fullmatch(r"[\s(#]*(\d{1,2})[\s.)۔]*", (text or "").translate(_DIGITS))
    return int(found.group(1)) if found else None


_ROMAN_URDU = {
    "hai",
    "hain",
    "kya",
    "kia",
    "ka",
    "ki",
    "ke",
    "ko",
    "se",
    "mein",
    "nahi",
    "nhi",
    "kab",
    "kb",
    "kahan",
    "kaise",
    "kese",
    "kitne",
    "kitna",
    "kitni",
    "karna",
    "karni",
    "aap",
    "ap",
    "apka",
    "mera",
    "meri",
    "mujhe",
    "chahiye",
    "sakte",
    "sakta",
    "milega",
    "hoti",
    "hota",
    "kidhar",
    "bhai",
    "yaar",
    "tak",
    "wala",
    "batao",
    "dein",
    "karen",
    "hy",
    "hn",
    "kr",
    "krna",
    "ho",
    "hoga",
    "gi",
    "ga",
}


def guess_language(text: str) -> str:
    """'ur' for Urdu script or Roman Urdu, 'en' otherwise (the CLI's choice of answer text)."""
    plain = normalise(text)
    if re.search(r"[\u0600-\u06ff]", plain):
        return "ur"
    return "ur" if any(w in _ROMAN_URDU for w in plain.split()) else "en"


# ---- the shop's answers -----------------------------------------------------------------------------
class FaqFileError(ValueError):
    """The shop's FAQ file cannot be read (the message says which file and what)."""


@dataclass(frozen=True)
class Entry:
    key: str
    titles: dict
    answers: dict
    examples: tuple

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or next(iter(self.titles.values()), self.key)

    def answer(self, lang: str) -> str:
        return self.answers.get(lang) or next(iter(self.answers.values()), "")


@dataclass(frozen=True)
class Candidate:
    """One of the best answers for a message, with its score (0–1) and its parts."""

    key: str
    score: float
    coverage: float  # how much of the message the answer's words explain
    explained: float  # how much of the answer's closest example the message covers
    chars: float  # character n-gram TF-IDF cosine with the closest example


@dataclass
class Match:
    key: str | None  # the answer to give; None: no automatic answer
    score: float = 0.0  # the best answer's score (0–1)
    best: str | None = None  # the best answer, given or not
    second: str | None = None
    second_score: float = 0.0
    reason: str = "no_match"  # answer, or why not: complaint / person / greeting / empty / too_short /
    #                            below_threshold / unsure / too_close / torn / unknown_words / partial
    coverage: float = 0.0  # how much of the message the best answer's words explain
    explained: float = 0.0  # how much of the best answer's closest example the message covers
    candidates: tuple = ()  # the three best answers (Candidate), best first
    band: str = "none"  # answer (given), unsure (a person answers; the score came close), none (not a FAQ)
    rival_words: tuple = ()  # torn: the message's words only the second-best answer knows

    @property
    def answered(self) -> bool:
        return self.key is not None


@dataclass(frozen=True)
class Example:
    """One example phrasing (or title) of an answer as the matcher reads it."""

    key: str
    tokens: tuple  # canonical tokens, in order
    weights: tuple  # each token's weight (question words light, rare words heavy)

    @functools.cached_property
    def words(self) -> frozenset:
        return frozenset(self.tokens)


@dataclass
class Faq:
    """The shop's answers, in file order, with the index the matcher needs: every example's tokens (and which
    examples hold a token), the words' weights and the character n-gram TF-IDF of the examples."""

    entries: list
    _examples: list = field(default_factory=list, repr=False)  # Example, in the order of _tfidf's documents
    _holding: dict = field(default_factory=dict, repr=False)  # token → indexes of the examples that hold it
    _vocab: dict = field(default_factory=dict, repr=False)  # key → set of tokens
    _idf: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        stop = _lexicon()["stop"]
        texts, found = [], []
        for entry in self.entries:
            vocab = set()
            for text in entry.examples + tuple(entry.titles.values()):
                if read := tokens(text):
                    found.append((entry.key, read))
                    texts.append(_gram_text(text, read))
                    vocab.update(read)
            self._vocab[entry.key] = vocab - stop
        self._tfidf = CharTfidf(texts)
        df = Counter(t for vocab in self._vocab.values() for t in vocab)
        top = math.log(1 + len(self.entries)) or 1.0
        self._idf = {t: math.log(1 + len(self.entries) / n) / top for t, n in df.items()}
        self._all = sorted(self._idf)
        for index, (key, read) in enumerate(found):
            weights = tuple(LIGHT_WEIGHT if x in words.LIGHT else self._idf.get(x, 1.0) for x in read)
            self._examples.append(Example(key, tuple(read), weights))
            for token in set(read):
                self._holding.setdefault(token, []).append(index)

    def specific(self, token: str) -> bool:
        """Does only one answer use this word?"""
        return self._idf.get(token) == 1.0

    def rival_words(self, text: str, second: str) -> tuple:
        """The message's topic words (not question words) that only `second` of all the answers uses: "order
        cancel karne par paise wapas milen ge" holds cancelling's word and the refund's. Words only in a
        hypothetical clause set the scene and are no rival: in "agar kal subah order karun to multan kab pohanche
        ga" the morning is not a question about opening hours."""
        asked = set(tokens(without_conditions(normalise(text))))
        return tuple(
            t
            for t in tokens(text)
            if self.specific(t) and t not in words.LIGHT and t in self._vocab[second] and t in asked
        )

    def get(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    # -- scoring
    def _weight(self, token: str, fuzzy: dict) -> float:
        if token in words.LIGHT:
            return LIGHT_WEIGHT
        if token.isdigit():
            return NUMBER_WEIGHT
        if token == PRODUCT:
            return NEUTRAL_WEIGHT
        if token in self._idf:
            return self._idf[token]
        if fuzzy:
            return max(self._idf[v] for v in fuzzy)
        return UNKNOWN_WEIGHT

    def _missing_weight(self, token: str, weight: float) -> float:
        """A word of another answer's topic that an answer misses weighs at least as much as a word no answer
        knows ("can you deliver on sunday" is not the opening hours' question): rare or common among the answers,
        it says the question is about something else. Question words, products and numbers keep their weight."""
        if token in self._idf and token not in words.LIGHT and token != PRODUCT:
            return max(weight, UNKNOWN_WEIGHT)
        return weight

    def _fuzzy(self, token: str) -> dict:
        """Known tokens within one edit (two for words of 8+ letters) of an unknown one."""
        if token in self._idf or len(token) < 5 or token.isdigit():
            return {}
        found = process.extract(token, self._all, scorer=OSA.distance, score_cutoff=_budget(token), limit=None)
        return {known: FUZZY_SIMILARITY for known, _, _ in found if len(known) >= 5 and known[0] == token[0]}

    def scores(self, text: str) -> dict:
        """Every answer's Score for the message (empty when it has no meaningful word). Only the examples that
        share a token (or a misspelling's known word) with the message get a word score; the others' is 0."""
        query = tokens(text)
        if not query:
            return {}
        question = Question(query, {t: self._fuzzy(t) for t in query}, self)
        found: dict[str, Score] = {key: Score() for key in self._vocab}
        for index in sorted({i for token in question.near for i in self._holding.get(token, ())}):
            example = self._examples[index]
            q_part = question.explained_by(example.words)
            ex_part = sum(w * question.near.get(x, 0.0) for x, w in zip(example.tokens, example.weights, strict=True))
            ex_part /= sum(example.weights)
            score = found[example.key]
            if q_part + ex_part:
                score.example = max(score.example, 2 * q_part * ex_part / (q_part + ex_part))
            score.explained = max(score.explained, ex_part)
        for example, chars in zip(self._examples, self._tfidf.similarities(_gram_text(text, query)), strict=True):
            score = found[example.key]
            score.chars = max(score.chars, chars)
        for key, score in found.items():
            score.coverage = question.explained_by(self._vocab[key])
            score.total = W_EXAMPLE * score.example + W_VOCAB * score.coverage + W_CHARS * score.chars
        return found


class Question:
    """A message's tokens with their weights, the known words its misspellings stand for, and `near`: how close
    the message comes to each known token (1 for its own tokens, FUZZY_SIMILARITY for a misspelling's)."""

    def __init__(self, query: list[str], fuzzy: dict, faq: Faq):
        self.query, self.fuzzy = query, fuzzy
        self.weight = {t: faq._weight(t, fuzzy[t]) for t in query}
        self.missing = {t: faq._missing_weight(t, w) for t, w in self.weight.items()}
        self.near: dict[str, float] = {}
        for similar in fuzzy.values():
            for known, similarity in similar.items():
                self.near[known] = max(self.near.get(known, 0.0), similarity)
        self.near.update(dict.fromkeys(query, 1.0))

    def sim(self, token: str, pool) -> float:
        """How well a pool of known tokens holds one of the message's tokens (1, a misspelling's share, or 0)."""
        if token in pool:
            return 1.0
        return max((s for known, s in self.fuzzy[token].items() if known in pool), default=0.0)

    def explained_by(self, pool) -> float:
        """The share of the message's weight a pool of tokens (an example, an answer's words) explains; a word
        the pool misses weighs as `missing` says."""
        held = missing = 0.0
        for token in self.query:
            if similarity := self.sim(token, pool):
                held += self.weight[token] * similarity
            missing += self.weight[token] * (1 - similarity) if similarity else self.missing[token]
        return held / (held + missing)


@dataclass
class Score:
    """How well a message matches one answer (each 0–1)."""

    total: float = 0.0
    example: float = 0.0  # soft-F1 with the closest example
    explained: float = 0.0  # how much of its best-covered example the message covers
    coverage: float = 0.0  # how much of the message the answer's words explain
    chars: float = 0.0  # character n-gram TF-IDF cosine with the closest example


def _gram_text(text: str, found: list[str]) -> str:
    """What the character n-grams are taken from: the canonical tokens and the words as written (spelling
    normalised, meaningless words dropped), so both the meaning and the letters of an unknown word count."""
    stop = _lexicon()["stop"]
    written = [w for w in (roman(w) for w in normalise(text).split()) if w not in stop and w not in found]
    return " ".join(found + written)


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise FaqFileError(f"{path}: {exc}") from None
    for key, entry in data.items():
        if not KEY.match(key) or not isinstance(entry, dict):
            raise FaqFileError(f"{path}: [{key}] must be a section named with a-z, 0-9 and _")
        if not isinstance(entry.get("answer", ""), str) or not isinstance(entry.get("examples", []), list):
            raise FaqFileError(f'{path}: [{key}] needs answer = "…" and examples = ["…", …]')
    return data


def load(root: Path | None = None) -> Faq:
    """The shop's answers from templates/<lang>/faq.toml (both languages merged by key), with the matcher's index
    (word weights, character n-gram TF-IDF) built from them: rebuilt whenever a file's modification time or size
    changes, so an example a shop adds counts from the next message on. FaqFileError when a file is broken."""
    root = Path(root or TEMPLATES)
    paths = tuple(root / lang / FILE for lang in LANGUAGES)
    stamps = tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in paths)
    return _load(paths, stamps)


@functools.lru_cache(maxsize=4)
def _load(paths: tuple, stamps: tuple) -> Faq:
    by_key: dict[str, dict] = {}
    for lang, path in zip(LANGUAGES, paths, strict=False):
        for key, entry in _read(path).items():
            merged = by_key.setdefault(key, {"titles": {}, "answers": {}, "examples": []})
            if entry.get("title"):
                merged["titles"][lang] = str(entry["title"])
            if entry.get("answer"):
                merged["answers"][lang] = str(entry["answer"]).strip()
            merged["examples"] += [str(x) for x in entry.get("examples", [])]
    entries = [Entry(key, v["titles"], v["answers"], tuple(v["examples"])) for key, v in by_key.items() if v["answers"]]
    return Faq(entries)


# ---- deciding -------------------------------------------------------------------------------------------
def match(
    text: str,
    faq: Faq | None = None,
    threshold: float | None = None,
    margin: float | None = None,
    min_coverage: float | None = None,
    min_explained: float | None = None,
    unsure: float | None = None,
    rival: float | None = None,
    score_vetoed: bool = False,
) -> Match:
    """Which answer (if any) to give to this message. Thresholds default to the [selfservice] settings.

    Bands: the best answer is given when its score reaches `threshold`, beats the second by `margin`, its words
    explain `min_coverage` of the message and the message covers `min_explained` of its closest example, and no
    second-best answer scoring `rival` or more holds a topic word of the message only it knows (the question is
    torn between two answers: "can I cancel and get a refund"). A
    score from `unsure` up that fails any of these is *unsure*: a person answers (and `flask faq test` shows
    the shop what to add). Below `unsure` the message is not one of the shop's questions.
    A complaint, a request for a person or a greeting is never answered from the file, so its scores are not
    computed (the slow part) unless `score_vetoed` asks for them (`flask faq test` shows them)."""
    veto = (
        "complaint"
        if is_complaint(text)
        else "person"
        if wants_person(text)
        else "greeting"
        if is_greeting(text)
        else None
    )
    if veto is not None and not score_vetoed:
        return Match(None, 0.0, None, None, 0.0, reason=veto)
    conf = config.selfservice()
    threshold = conf.threshold if threshold is None else threshold
    margin = conf.margin if margin is None else margin
    min_coverage = conf.min_coverage if min_coverage is None else min_coverage
    min_explained = conf.min_explained if min_explained is None else min_explained
    unsure = conf.unsure if unsure is None else unsure
    rival = conf.rival if rival is None else rival
    faq = faq or load()
    ranked = sorted(faq.scores(text).items(), key=lambda kv: -kv[1].total)
    best, top = ranked[0] if ranked else (None, Score())
    second, runner_up = ranked[1] if len(ranked) > 1 else (None, Score())
    found = Match(
        None,
        round(top.total, 3),
        best,
        second,
        round(runner_up.total, 3),
        coverage=round(top.coverage, 3),
        explained=round(top.explained, 3),
        candidates=tuple(
            Candidate(key, round(s.total, 3), round(s.coverage, 3), round(s.explained, 3), round(s.chars, 3))
            for key, s in ranked[:3]
        ),
    )
    if veto is not None:
        found.reason = veto
    elif not ranked:
        found.reason = "empty"
    elif top.total < unsure:
        found.reason = "below_threshold"
    elif len(query := tokens(text)) == 1 and _said_once(text) and not (_asks(text) and faq.specific(query[0])):
        found.reason = "too_short"
    elif top.total < threshold:
        found.reason = "unsure"
    elif top.total - runner_up.total < margin:
        found.reason = "too_close"
    elif runner_up.total >= rival and (rivals := faq.rival_words(text, second)):
        found.reason, found.rival_words = "torn", rivals
    elif top.coverage < min_coverage:
        found.reason = "unknown_words"
    elif top.explained < min_explained:
        found.reason = "partial"
    else:
        found.key, found.reason = best, "answer"
    found.band = "answer" if found.key else "unsure" if veto is None and ranked and top.total >= unsure else "none"
    return found


_ASKING = {
    "kya",
    "kia",
    "hai",
    "hain",
    "he",
    "hy",
    "is",
    "are",
    "r",
    "do",
    "does",
    "can",
    "what",
    "which",
    "when",
    "where",
    "how",
    "kab",
    "kahan",
    "kaise",
    "kitna",
    "kitne",
    "کیا",
    "ہے",
    "ہیں",
    "کب",
    "کہاں",
    "کیسے",
    "کتنا",
    "کتنے",
    "tell",
    "show",
    "bata",
    "batao",
    "bataen",
    "bataein",
    "bataye",
    "bataiye",
    "batain",
    "btao",
    "dikhao",
    "dikha",
    "بتا",
    "بتائیں",
    "بتادیں",
    "بتاؤ",
    "دکھا",
    "دکھائیں",
}


@functools.lru_cache(maxsize=1)
def _asking_words() -> frozenset:
    """_ASKING written as a message is read (Urdu letter variants unified: دکھا → دکہا, بتائیں → بتاییں)."""
    return frozenset(squeeze(normalise(a)) for a in _ASKING)


def _said_once(text: str) -> bool:
    """One meaningful word (or one phrase as written: "cash on delivery"): "refund", "order". Two words that
    make one phrase only once their spelling is read ("opening timings" → timing) are not one word."""
    stop = _lexicon()["stop"]
    return len({t for t in all_tokens(text, join=False) if t not in stop}) <= 1


def _asks(text: str) -> bool:
    """A question mark or a question word: "warranty?", "cod hai", "کیا وارنٹی ہے", "سائز چارٹ دکھا دیں"."""
    return "?" in text or "؟" in text or any(squeeze(w) in _asking_words() for w in normalise(text).split())


def is_question(text: str) -> bool:
    """Does the message read like a question (a question mark or a question word)?"""
    return _asks(text)


def group_questions(questions: list[str], similarity: int = 85) -> list[tuple[str, int]]:
    """Questions that say the same thing counted together (greedy, by normalised word similarity):
    [(the first wording seen, how many)], most frequent first."""
    groups: list[list] = []  # [normalised, first wording, count]
    for question in questions:
        plain = normalise(question)
        if not plain:
            continue
        for group in groups:
            if fuzz.token_sort_ratio(plain, group[0]) >= similarity:
                group[2] += 1
                break
        else:
            groups.append([plain, question.strip(), 1])
    groups.sort(key=lambda g: -g[2])
    return [(g[1], g[2]) for g in groups]
