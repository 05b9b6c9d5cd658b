# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Related posts: key terms of title + body (Bo1 model), scored term at a time, plus shared tags.

Whoosh's `Or` of ~30 clauses walks a deep tree of union matchers and re-plans it every ten
documents: 300 ms and more at 100,000 posts. Key terms are rare by construction (Bo1 favours
them), so adding up each term's postings into a dict is exact BM25F for the same query and
touches only a few thousand postings. Terms that occur in more than `COMMON_FRACTION` of the
posts say little about similarity and are skipped. Shared tags boost documents found by the
terms; tag postings (thousands of posts each) are read only when the text has no key terms.
"""

from collections.abc import Sequence
from heapq import nlargest

from whoosh.classify import Bo1Model
from whoosh.lang.snowball.english import EnglishStemmer
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search.docinfo import DocInfo
from search.documents import RelatedHit
from search.scoring import SegmentCache, TermAtATime, best_scored

stem = EnglishStemmer().stem
KEY_TERMS = 12
TITLE_TERMS = 4
TAG_BOOST = 1.5
MAX_TEXT_CHARS = 20_000
MAX_REASONS = 5
#: Terms in more than this share of the documents are not scored (see module docstring).
COMMON_FRACTION = 0.01
#: ...but a term in fewer documents than this is always cheap enough to score.
COMMON_MIN = 1000


#: Function words the index keeps (its stop list is short, for phrase search) but that never
#: explain why two posts are alike; matched on stems, since key terms come out stemmed.
_FUNCTION_WORDS = (
    "about above actually after again against all almost also although always am among another "
    "any anyone anything are around back because been before being below between both but "
    "could did does doing done down during each either else enough even ever every few first "
    "get gets getting got had has having he her here hers him his how however i into its it's "
    "just last least less let like made make makes many me might more most much must my "
    "never next no nor now off often once one only other others our out over own per perhaps "
    "quite rather really same say says see seem seems she should since so some something "
    "still such than then there these they thing things those though through thus too under "
    "until up upon very was way ways well were what whatever when where whether which while "
    "who whom whose why within without would yes yet"
).split()
_STEMMED_FUNCTION_WORDS = frozenset(stem(w) for w in _FUNCTION_WORDS) | frozenset(_FUNCTION_WORDS)


def key_terms(searcher: Searcher, title: str, content: str) -> tuple[
    list[tuple[str, float]], dict[str, str]
]:
    """(stemmed term, weight): the terms that best tell this text apart from the collection;
    and for each, the first word of the text with that stem, so reasons read as words."""
    text = f"{title}\n{content[:MAX_TEXT_CHARS]}"
    spans: dict[str, tuple[int, int]] = {}
    body = bo1_terms(searcher, "content", text, KEY_TERMS, spans)
    heading = bo1_terms(searcher, "title", title, TITLE_TERMS) if title else []
    weights: dict[str, float] = {}
    for term, weight in [*body, *heading]:
        if term not in _STEMMED_FUNCTION_WORDS:
            weights[term] = max(weights.get(term, 0.0), weight)
    terms = sorted(weights.items(), key=lambda kv: -kv[1])
    # The title starts the text, so its terms have spans too.
    names = {t: text[spans[t][0] : spans[t][1]].lower() for t, _ in terms if t in spans}
    return terms, names


def bo1_terms(
    searcher: Searcher, fieldname: str, text: str, number: int,
    spans: dict[str, tuple[int, int]] | None = None,
) -> list[tuple[str, float]]:
    """The `number` terms of `text` that best tell it apart from the collection, by Whoosh's
    Bo1 model, normalised: what `searcher.key_terms_from_text(fieldname, text, number)` returns
    (tests/search/test_suggest_related.py compares them), at about half the cost. Whoosh
    indexes the text for it (positions encoded for every word), asks for each word whether
    the index has it and only then for its frequency, converting each word to bytes and back;
    here the words are counted straight from the analyser and their collection frequencies
    come from the searcher's memo (search/terms.py), 0 for a word the index lacks.

    `spans`, when given, gets the character span of each term's first word in `text` (the
    same pass: a second one, to name the reasons, was a tenth of a related-posts request)."""
    field = searcher.schema[fieldname]
    weights: dict[str, float] = {}
    get = weights.get
    if spans is None:
        for token in field.analyzer(text, positions=True, boosts=True, mode="index"):
            if not token.stopped:
                weights[token.text] = get(token.text, 0.0) + token.boost
    else:
        for token in field.analyzer(text, positions=True, boosts=True, chars=True, mode="index"):
            if not token.stopped:
                word = token.text
                if word not in weights:
                    spans[word] = (token.startchar, token.endchar)
                weights[word] = get(word, 0.0) + token.boost
    if not weights:
        return []
    boost = field.format.field_boost
    reader = searcher.reader()
    model = Bo1Model(reader.doc_count_all(), reader.field_length(fieldname))
    top_total = sum(weights.values()) * boost
    frequency = reader.frequency
    scored: list[tuple[float, str]] = []
    best = 0.0
    for word, weight in weights.items():
        cf = frequency(fieldname, word.encode("utf-8"))
        if cf:
            score = model.score(weight * boost, cf, top_total)
            best = max(best, score)
            scored.append((score, word))
    norm = model.normalizer(best, top_total)
    ranked = sorted(((score / norm, word) for score, word in scored), key=lambda x: (-x[0], x[1]))
    return [(word, score) for score, word in ranked[:number]]


def _accumulate(
    fast: TermAtATime, clauses: list[tuple[str, str, float]], scores: dict[int, float]
) -> list[tuple[str, dict[int, float]]]:
    """Add each clause's BM25F score (as Whoosh computes it for a Term query) per document;
    returns each clause's term and its scores, to tell afterwards which terms a post shares.
    (Hidden documents are dropped by the caller once, not checked at every posting.)"""
    parts: list[tuple[str, dict[int, float]]] = []
    for fieldname, text, boost in clauses:
        part: dict[int, float] = {}
        for sub, offset in fast.searcher.leaf_searchers():
            fast.add_segment(part, sub.reader(), offset, Term(fieldname, text, boost=boost))
        parts.append((text, part))
        if not scores:
            scores.update(part)
            continue
        get = scores.get
        for docnum, score in part.items():
            scores[docnum] = get(docnum, 0.0) + score
    return parts


def related_hits(
    searcher: Searcher,
    info: DocInfo,
    title: str,
    content: str,
    tags: Sequence[str],
    hidden: set[int],
    limit: int,
    segments: SegmentCache | None = None,
) -> list[RelatedHit]:
    segments = segments if segments is not None else SegmentCache()
    fast = TermAtATime(searcher, segments)
    terms, names = key_terms(searcher, title, content)
    if not terms and not tags:
        return []
    reader = searcher.reader()
    common = max(COMMON_MIN, int(searcher.doc_count() * COMMON_FRACTION))
    top = max((w for _, w in terms), default=1.0) or 1.0
    clauses = [
        (fieldname, term, weight / top)
        for term, weight in terms
        for fieldname in ("content", "title")
        if reader.doc_frequency(fieldname, term) <= common
    ]
    hidden = hidden | info.deleted
    scores: dict[int, float] = {}
    parts = _accumulate(fast, clauses, scores)
    _drop(scores, hidden)
    tagset = set(tags)
    if tagset:
        if not scores:
            _accumulate(fast, [("tags", t, TAG_BOOST) for t in tagset], scores)
            _drop(scores, hidden)
        else:
            # Same score as a Term("tags", t, boost=TAG_BOOST) clause would add.
            scores = _add_tag_scores(info, _tag_scores(searcher, tagset), scores, limit)
    best = [(d, scores[d]) for d in best_scored(scores, limit)]
    order = {t: i for i, (t, _) in enumerate(terms)}
    hits = []
    for docnum, score in best:
        stored = segments.stored(reader, docnum)
        found = {text for text, part in parts if docnum in part}
        shared = sorted(found, key=lambda t: order.get(t, len(order)))
        hits.append(
            RelatedHit(
                post_id=int(stored["post_id"]),
                slug=stored.get("slug", ""),
                score=float(score),
                terms=[names.get(t, t) for t in shared[:MAX_REASONS]],
                tags=[t for t in tags if t in info.tags[docnum]],
            )
        )
    return hits


def _drop(scores: dict[int, float], hidden: set[int]) -> None:
    """Remove the hidden documents from `scores`, walking whichever of the two is smaller."""
    gone = [d for d in hidden if d in scores] if len(hidden) < len(scores) else [
        d for d in scores if d in hidden
    ]
    for docnum in gone:
        del scores[docnum]


def _add_tag_scores(
    info: DocInfo, tag_score: dict[str, float], scores: dict[int, float], limit: int
) -> dict[int, float]:
    """`scores` with each shared tag's score added, for the documents that can still reach
    the best `limit`: a document can gain at most the sum of the tag scores, so one scoring
    below the `limit`-th best score less that sum never gets there (and is left out)."""
    bonus = sum(tag_score.values())
    pool = scores
    if bonus > 0 and len(scores) > limit > 0:
        floor = nlargest(limit, scores.values())[-1] - bonus
        pool = {d: s for d, s in scores.items() if s >= floor}
    for docnum in pool:
        for t in info.tags[docnum]:
            pool[docnum] += tag_score.get(t, 0.0)
    return pool


def _tag_scores(searcher: Searcher, tags: set[str]) -> dict[str, float]:
    """The score a tag clause gives a document that has the tag (tags have no length or tf)."""
    out: dict[str, float] = {}
    context = searcher.context()
    for sub, _offset in searcher.leaf_searchers():
        for t in tags:
            if t in out or ("tags", t) not in sub.reader():
                continue
            m = Term("tags", t, boost=TAG_BOOST).matcher(sub, context)
            if m.is_active():
                out[t] = float(m.score())
    return out
