"""An HTML checker for tests: nothing in the markup may execute in a browser.

It reads markup the way a browser would for the parts that matter: entities are decoded in
attribute values (`java&#x09;script:`), white space and control characters vanish from URLs,
and tag and attribute names are case-insensitive. Anything it cannot vouch for (comments,
declarations, processing instructions, form and media elements) counts as a problem too: the
sanitizer never emits them, so their presence means something got through.
"""

import re
from html.parser import HTMLParser

_DANGEROUS_TAGS = {
    "script", "iframe", "object", "embed", "svg", "math", "style", "link", "meta", "base",
    "form", "frame", "frameset", "applet", "template", "noscript", "input", "button",
    "textarea", "select", "option", "video", "audio", "source", "track", "portal", "isindex",
    "bgsound", "marquee", "image", "xmp", "plaintext", "noembed", "noframes", "animate", "set",
    "foreignobject", "use", "handler", "listener", "xss",
}
_URL_ATTRS = {
    "href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background",
    "cite", "longdesc", "ping", "data", "codebase", "dynsrc", "lowsrc", "manifest", "icon",
    "profile", "usemap", "archive", "classid",
}
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
# Browsers drop these anywhere in a URL before reading its scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _unsafe_url(value: str) -> bool:
    url = _URL_NOISE.sub("", value).lower()
    scheme = _SCHEME.match(url)
    return scheme is not None and not url.startswith(_SAFE_SCHEMES)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name in ("style", "formaction", "srcdoc", "http-equiv"):
                self.problems.append(f"{tag}[{name}]")
            if name in _URL_ATTRS and value is not None:
                candidates = [part.split()[0] for part in value.split(",") if part.strip()] \
                    if name == "srcset" else [value]
                if any(_unsafe_url(url) for url in candidates):
                    self.problems.append(f"{tag}[{name}={value!r}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"<!--{data[:40]}-->")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"<!{decl[:40]}>")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"<![{data[:40]}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"<?{data[:40]}>")


def unsafe_parts(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems


def assert_safe_html(html: str) -> None:
    problems = unsafe_parts(html)
    assert not problems, f"executable markup survived: {problems} in {html!r}"
