"""Character n-gram TF-IDF, the standard formulation (as scikit-learn's TfidfVectorizer with analyzer="char_wb",
smooth_idf=True, sublinear_tf=True, norm="l2"), in plain Python for the few hundred short examples of a shop's
FAQ: no model, nothing downloaded, fitted in milliseconds whenever the shop's file changes.

- n-grams: each word padded with one space on either side, every n-gram of 3 to 4 characters inside it (pairs
  of letters are in too many words to tell answers apart, and cost the most to compare).
- idf(g) = ln((1 + documents) / (1 + documents containing g)) + 1.
- weight(g, d) = (1 + ln(count of g in d)) × idf(g), then each vector scaled to length 1.
- A query keeps only the n-grams the examples know (what the examples never saw says nothing about them);
  similarity is the cosine (the dot product of the two unit vectors), summed through each n-gram's postings
  (the documents that hold it), so a query costs what its n-grams share with the examples.
"""

from __future__ import annotations

import math
from collections import Counter

LOW, HIGH = 3, 4


def ngrams(text: str) -> Counter:
    """Every 2–4 character n-gram of each word, the word padded with a space on either side (char_wb)."""
    found: Counter = Counter()
    for word in text.split():
        padded = f" {word} "
        for n in range(LOW, HIGH + 1):
            found.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return found


def _unit(weights: dict) -> dict:
    length = math.sqrt(sum(w * w for w in weights.values()))
    return {g: w / length for g, w in weights.items()} if length else {}


class CharTfidf:
    """Fitted on the examples; `vector` turns a text into its unit TF-IDF vector over the known n-grams."""

    def __init__(self, documents: list[str]):
        counts = [ngrams(d) for d in documents]
        df = Counter(g for c in counts for g in c)
        n = len(documents)
        self.idf = {g: math.log((1 + n) / (1 + k)) + 1 for g, k in df.items()}
        self.documents = [self._weigh(c) for c in counts]
        self._postings: dict[str, list] = {}  # n-gram → [(document, weight)]
        for index, document in enumerate(self.documents):
            for gram, weight in document.items():
                self._postings.setdefault(gram, []).append((index, weight))

    def _weigh(self, counts: Counter) -> dict:
        idf = self.idf
        return _unit({g: (1 + math.log(k)) * idf[g] for g, k in counts.items() if g in idf})

    def vector(self, text: str) -> dict:
        return self._weigh(ngrams(text))

    def similarities(self, text: str) -> list[float]:
        """The cosine of the text with every document, in their order (through each n-gram's postings)."""
        found = [0.0] * len(self.documents)
        for gram, weight in self.vector(text).items():
            for index, other in self._postings[gram]:
                found[index] += weight * other
        return found
