"""The one password policy, used by ``nenguide user create``, the users API and every other
place a password is set (NIST SP 800-63B, section 5.1.1.2, "memorized secrets"):

* at least :data:`MIN_LENGTH` characters (counted after Unicode NFKC normalisation) and at most
  :data:`MAX_LENGTH`; spaces count, and are kept as typed (nothing strips them, anywhere);
* no control characters (a NUL or a newline is a typing accident or an attack, not a secret);
* not the user name, and not containing it;
* not in the list of common passwords shipped with the package (``data/common-passwords.txt``,
  30,000 breached passwords), nor one repeated character or a run such as ``abcdefghij``;
* no composition rules (no "one digit, one symbol"): 800-63B advises against them.

A refused password gets the error code ``weak_password`` with the reason.
"""

from __future__ import annotations

import itertools
import unicodedata
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 10
MAX_LENGTH = 1000
WEAK_PASSWORD = "weak_password"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (resources.files("nenguide.api") / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def normalise(password: str) -> str:
    """NFKC, as 800-63B asks before a password is hashed or compared."""
    return unicodedata.normalize("NFKC", password)


def _is_run(text: str) -> bool:
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be used (for ``username``), or None when it may."""
    pw = normalise(password)
    if len(pw) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if len(pw) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    if any(unicodedata.category(ch) == "Cc" for ch in pw):
        return "the password must not contain control characters (such as NUL or a line break)"
    folded = pw.casefold()
    if username and len(username) >= 3 and username.casefold() in folded:
        return "the password must not contain the user name"
    if folded.strip() in common_passwords() or _is_run(folded.strip()):
        return (
            "this password is too common (it is on the list of passwords known from breaches, "
            "or is a run of characters); choose a longer phrase of unrelated words"
        )
    return None
