import re

from anyascii import anyascii

_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 80


def slugify(text: str, max_length: int = MAX_SLUG) -> str:
    """An ASCII slug: 'Crème brûlée à Zürich' -> 'creme-brulee-a-zurich'."""
    slug = _NON_WORD.sub("-", anyascii(text).lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-")
