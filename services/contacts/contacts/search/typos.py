"""One-letter typos by deletion neighbourhoods (the SymSpell idea). Plain Python, no I/O.

A word and every word one deletion away from it share a key: the word with one letter removed (or the
word itself). So the words within one edit of a query word (a letter left out, added, changed, or two
neighbours swapped) are among those whose keys meet the query word's keys: an exact lookup of a few
keys in an index, whatever the number of contacts, then checked with the real distance.
"""

from __future__ import annotations

from rapidfuzz.distance import OSA

# Shorter words have too many neighbours one edit away to mean anything ("ann" -> "an", "jan", ...).
MIN_TYPO_LENGTH = 4
MAX_TYPO_LENGTH = 30


def has_typo_keys(term: str) -> bool:
    """Whether `term` is a word that typo lookups should find: long enough, one word, not a number."""
    return MIN_TYPO_LENGTH <= len(term) <= MAX_TYPO_LENGTH and term.isalnum() and not term.isdigit()


def deletion_keys(term: str) -> set[str]:
    """`term` and `term` with each one letter removed."""
    return {term} | {term[:i] + term[i + 1 :] for i in range(len(term))}


def within_one_edit(candidates: set[str], word: str) -> list[str]:
    """The candidates (other than `word`) one edit from `word` (optimal string alignment: a swap of two
    neighbours is one edit), sorted."""
    return sorted(c for c in candidates if c != word and OSA.distance(c, word, score_cutoff=1) <= 1)
