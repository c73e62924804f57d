"""Tokenizer for run filters and order_by clauses: text in, positioned tokens out.

The tokenizer knows nothing about fields or keywords; it only splits the text:

- ``NAME``: a word of unicode letters/digits, ``_``, ``.`` and ``/`` starting with a letter or
  ``_`` (``status``, ``metrics.train/loss``, ``params.optim.lr``, ``AND``). The parser decides
  whether a name is a keyword, a bare attribute or ``<prefix>.<key>``.
- ``NUMBER``: ``12``, ``-0.5``, ``+3``, ``.5``, ``1e-3`` (a sign is part of the number: there is no
  arithmetic in the grammar).
- ``STRING``: ``'single quoted'`` with ``''`` as an escaped quote.
- ``QUOTED``: ``"double quoted"`` or a ```backticked``` name, with the doubled quote character
  as an escape; a key after ``metrics.`` or a string value on the right (the parser decides).
- ``OP``: ``= == != <> < <= > >=``; ``LPAREN``, ``RPAREN``, ``COMMA``; ``EOF`` at the end.

Every token carries its start position (an index into the text) so errors can point at it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from nbtrack.errors import FilterError

NAME_PUNCTUATION = frozenset("_./")
OPERATORS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")


class Kind(enum.Enum):
    """What a token is."""

    NAME = "name"
    NUMBER = "number"
    STRING = "string"
    QUOTED = "quoted name or string"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    EOF = "end of input"


@dataclass(frozen=True)
class Token:
    """One token: its kind, its source text, its value (unquoted/unescaped) and where it starts."""

    kind: Kind
    text: str
    value: str
    position: int

    def describe(self) -> str:
        """How to name this token in an error message."""
        if self.kind is Kind.EOF:
            return "end of input"
        return repr(self.text) if len(self.text) <= 40 else repr(self.text[:37] + "...")


def _starts_name(char: str) -> bool:
    return char.isalpha() or char == "_"


def _continues_name(char: str) -> bool:
    return char.isalnum() or char in NAME_PUNCTUATION


def _digits_end(text: str, index: int) -> int:
    # ASCII digits only: float() would accept other unicode digits, the grammar does not.
    while index < len(text) and "0" <= text[index] <= "9":
        index += 1
    return index


def _number_end(text: str, start: int) -> int | None:
    """End of the number (with an optional sign) starting at ``start``, or None if there is none."""
    index = start
    if index < len(text) and text[index] in "+-":
        index += 1
    integer_end = _digits_end(text, index)
    has_digits = integer_end > index
    index = integer_end
    if index < len(text) and text[index] == ".":
        fraction_end = _digits_end(text, index + 1)
        has_digits = has_digits or fraction_end > index + 1
        index = fraction_end
    if not has_digits:
        return None
    if index < len(text) and text[index] in "eE":
        exponent_start = index + 1
        if exponent_start < len(text) and text[exponent_start] in "+-":
            exponent_start += 1
        exponent_end = _digits_end(text, exponent_start)
        if exponent_end == exponent_start:
            raise FilterError("expected digits after the exponent 'e' of a number", text, index)
        index = exponent_end
    return index


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Value and end of the quoted text starting at ``start``; a doubled quote is one quote."""
    quote = text[start]
    parts: list[str] = []
    index = start + 1
    while True:
        close = text.find(quote, index)
        if close < 0:
            what = "string" if quote == "'" else "quoted name"
            raise FilterError(f"unterminated {what}, expected a closing {quote}", text, start)
        parts.append(text[index:close])
        if close + 1 < len(text) and text[close + 1] == quote:
            parts.append(quote)
            index = close + 2
            continue
        return "".join(parts), close + 1


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with an EOF token; FilterError on a stray character."""
    tokens: list[Token] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        start = index
        if _starts_name(char):
            index += 1
            while index < length and _continues_name(text[index]):
                index += 1
            word = text[start:index]
            tokens.append(Token(Kind.NAME, word, word, start))
            continue
        if char in "'\"`":
            value, index = _quoted(text, start)
            kind = Kind.STRING if char == "'" else Kind.QUOTED
            tokens.append(Token(kind, text[start:index], value, start))
            continue
        if char.isdigit() or char in "+-.":
            end = _number_end(text, start)
            if end is None:
                raise FilterError(f"unexpected {char!r}, expected a number", text, start)
            if end < length and _continues_name(text[end]):
                junk_end = end
                while junk_end < length and _continues_name(text[junk_end]):
                    junk_end += 1
                raise FilterError(f"invalid number {text[start:junk_end]!r}", text, start)
            tokens.append(Token(Kind.NUMBER, text[start:end], text[start:end], start))
            index = end
            continue
        operator = next((op for op in OPERATORS if text.startswith(op, start)), None)
        if operator is not None:
            value = "=" if operator == "==" else "!=" if operator == "<>" else operator
            tokens.append(Token(Kind.OP, operator, value, start))
            index += len(operator)
            continue
        single = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA}.get(char)
        if single is None:
            hint = " (did you mean '!='?)" if char == "!" else ""
            raise FilterError(f"unexpected character {char!r}{hint}", text, start)
        tokens.append(Token(single, char, char, start))
        index += 1
    tokens.append(Token(Kind.EOF, "", "", length))
    return tokens
