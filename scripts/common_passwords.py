"""Regenerate src/nenguide/api/data/common-passwords.txt from zxcvbn's breach-derived password
list (MIT licence). zxcvbn is not a dependency of nenguide: install it where you run this
(``pip install zxcvbn==4.5.0``), then ``python scripts/common_passwords.py``."""

from __future__ import annotations

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "src/nenguide/api/data/common-passwords.txt"
HEADER = """\
# Common passwords refused by nenguide's password policy (NIST SP 800-63B 5.1.1.2: compare
# against "passwords obtained from previous breach corpuses"). One per line, case-folded, most
# common first. Source: the "passwords" frequency list of zxcvbn 4.5.0 (MIT licence,
# https://github.com/dwolfhub/zxcvbn-python, from Dropbox's zxcvbn), itself from breach data.
# Regenerate with scripts/common_passwords.py.
"""


def main() -> None:
    seen: dict[str, None] = {}
    for p in FREQUENCY_LISTS["passwords"]:
        seen.setdefault(p.casefold(), None)
    OUT.write_text(HEADER + "\n".join(seen) + "\n", encoding="utf-8")
    print(f"{len(seen)} passwords -> {OUT}")


if __name__ == "__main__":
    main()
