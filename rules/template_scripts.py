"""Where a template's `|safe` lands inside a `<script>` element, and whether its value is a
user's data (PYS208's evidence).

Inside `<script>` HTML escaping does not apply at all: the browser ends the element at the
first `</script>` in the text, whatever the JavaScript around it. So
`var keys = {{ user.hotkeys|json_dumps|safe }};` lets a user who saves `</script><script>…`
in their hotkeys run script in every page that renders it (label-studio 1.21.0's
`base.html`). Django's `json_script` filter and Jinja's `tojson` escape `<`, `>` and `&` for
exactly this; `escapejs` escapes for a JavaScript string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SCRIPT_OPEN = re.compile(r"<script\b", re.I)
_SCRIPT_CLOSE = re.compile(r"</script\s*>", re.I)
# Script tags, and the comments that hide them: a template comment (`{# #}`,
# `{% comment %}`…`{% endcomment %}`), which the engine drops before rendering, and an HTML
# comment outside a script (inside one, `<!--` is script text and `</script>` still ends it).
_MARKS = re.compile(r"<script\b|</script\s*>|<!--|-->|\{#|#\}|\{%-?\s*(?:end)?comment\b[^%]*%\}",
                    re.I)

# Words of a value's name that say it belongs to a user of the site (`user.custom_hotkeys`,
# `request.user.profile`, `member_settings`, `author.bio`), split at `.` and `_`.
USER_WORDS = frozenset({"user", "users", "profile", "profiles", "author", "owner", "member",
                        "members", "customer", "account", "comment", "comments", "submission",
                        "input"})
# What the request carries from the client (`request.GET`, `request.args`, `req.json`).
REQUEST_NAMES = frozenset({"request", "req"})
REQUEST_INPUT = frozenset({"get", "post", "cookies", "meta", "headers", "args", "form",
                           "values", "json", "data", "query_params", "body", "path",
                           "full_path", "session", "files"})
# Operator configuration: set by whoever deploys the site, not by its users
# (`settings.EDITOR_KEYMAP`, `config.THEME`): judged noise in label-studio's `base.html`.
CONFIG_ROOTS = frozenset({"settings", "config", "conf", "app_settings", "site_settings",
                          "constants"})
_UPPER = re.compile(r"[A-Z][A-Z0-9_]*")
# Names of URLs (`user.avatar_url`, `profile.link`): storage and `reverse()` percent-encode
# `<` and `"`, so a URL cannot end the script element.
_URL_WORDS = frozenset({"url", "uri", "href", "link", "src"})
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*")


@dataclass
class ScriptTracker:
    """Follows `<script …>` … `</script>` over a template's lines, in order."""

    inside: bool = False
    # Offsets in the current line where the state flips, with the state after each flip.
    _flips: list[tuple[int, bool]] = field(default_factory=list)
    _start: bool = False

    # The end of the comment the tracker is in ("-->", "#}", "endcomment"), or "".
    _comment: str = ""

    def feed(self, line: str) -> None:
        """Read the next line (call once per line, before asking `in_script`). A script
        tag inside a comment is not one (`{# <script> #}`, `<!-- <script> -->`)."""
        self._start = self.inside
        self._flips = []
        state = self.inside
        for match in _MARKS.finditer(line):
            mark = match.group().lower()
            if self._comment:
                if mark == self._comment or (self._comment == "endcomment"
                                             and "endcomment" in mark):
                    self._comment = ""
                continue
            if mark == "{#" or (mark == "<!--" and not state):
                self._comment = "#}" if mark == "{#" else "-->"
                continue
            if mark.startswith("{%"):
                self._comment = "" if "endcomment" in mark else "endcomment"
                continue
            if mark in ("<!--", "-->", "#}"):
                continue
            opening = _SCRIPT_OPEN.match(mark) is not None
            if opening != state:
                state = opening
                self._flips.append((match.start(), state))
        self.inside = state

    def in_script(self, offset: int) -> bool:
        """Is `offset` of the current line inside a `<script>` element (its opening tag
        included: a value in its attributes is as dangerous)?"""
        state = self._start
        for at, after in self._flips:
            if at > offset:
                break
            state = after
        return state


def value_name(text: str) -> str:
    """The dotted name a filter chain starts from (`user.custom_hotkeys` of
    `user.custom_hotkeys|json_dumps_ensure_ascii`), or "" when it starts otherwise."""
    match = _DOTTED.match(text.strip())
    return re.sub(r"\s+", "", match.group()) if match else ""


def is_user_data(name: str) -> bool:
    """Does a template value's name say it holds a user's data or the request's input?

    `user.custom_hotkeys`, `request.user.settings`, `user_hotkeys`, `request.GET.q`,
    `comment.body`: yes. Operator configuration (`settings.EDITOR_KEYMAP`, UPPER_CASE
    constants), URLs (`user.avatar_url`) and names that say nothing of a user
    (`versions`, `feature_flags`, `request.server_id`): no.
    """
    parts = [p for p in name.split(".") if p]
    if not parts or parts[0].lower() in CONFIG_ROOTS:
        return False
    words = [w for part in parts for w in part.lower().split("_") if w]
    if words and words[-1] in _URL_WORDS:
        return False
    if parts[0] in REQUEST_NAMES and len(parts) > 1 and parts[1].lower() in REQUEST_INPUT:
        return True  # before the UPPER_CASE test: `request.GET`
    if any(_UPPER.fullmatch(part) for part in parts):
        return False
    return any(word in USER_WORDS for word in words)
