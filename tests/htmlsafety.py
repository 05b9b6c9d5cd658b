"""An HTML checker for tests: nothing in the markup may execute in a browser."""

from html.parser import HTMLParser

_DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "link", "meta",
                   "base", "form", "frame", "frameset", "applet", "template"}
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background"}


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
            if name == "style":
                self.problems.append(f"{tag}[style]")
            if name in _URL_ATTRS and value is not None:
                url = "".join(value.split()).lower()
                if not url.startswith(("http://", "https://", "mailto:", "/", "#")) and ":" in url.split("/")[0]:
                    self.problems.append(f"{tag}[{name}={value!r}]")


def unsafe_parts(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems


def assert_safe_html(html: str) -> None:
    problems = unsafe_parts(html)
    assert not problems, f"executable markup survived: {problems} in {html!r}"
