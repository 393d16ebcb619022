"""C identifiers from model-supplied names.

Tensor names in a .tflite file are arbitrary strings ("serving_default_x:0", "a;b", "1x",
"int"). Every identifier the generated code takes from a model goes through here: invalid
characters become '_', a leading digit gets a prefix, C keywords and reserved names get a
suffix, and collisions (also between upper-cased macro forms) are numbered.
"""

from __future__ import annotations

import re

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
_Imaginary _Noreturn _Static_assert _Thread_local bool true false NULL asm typeof
""".split())


#: Macros of the C library headers the package and its harnesses include, and C's main:
#: a struct member of that name would be macro-expanded or confusing.
LIBC_NAMES = frozenset("""
NULL EOF errno assert offsetof stdin stdout stderr BUFSIZ RAND_MAX EXIT_SUCCESS EXIT_FAILURE
SIZE_MAX PTRDIFF_MAX PTRDIFF_MIN SIG_ATOMIC_MAX WCHAR_MAX WCHAR_MIN main
""".split())
_STDINT_MACRO = re.compile(r"U?INT(8|16|32|64|MAX|PTR|_LEAST\d+|_FAST\d+)_(MAX|MIN|C)$")


def generated_prefixes(prefix: str) -> tuple[str, ...]:
    """Identifier prefixes the generated code defines macros with (``MODEL_OK``,
    ``MODEL_WORKSPACE_SIZE``, ``MODEL_INPUT_X_SHAPE``..., ``BYOC_CONST``...): names taken
    from a model must not start with them."""
    return (f"{prefix.upper()}_", "BYOC_")


def c_identifier(name: str, fallback: str = "tensor") -> str:
    """A valid, non-reserved C identifier derived from ``name`` (ASCII only)."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", name)
    ident = re.sub(r"_+", "_", ident).strip("_") or fallback
    if ident[0].isdigit():
        ident = f"t_{ident}"
    if ident in C_KEYWORDS or ident.startswith("__") or re.match(r"_[A-Z]", ident):
        ident = f"{ident}_"
    return ident


def unique_identifiers(names: list[str], fallback: str = "tensor",
                       reserved_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Sanitise each name and make the results unique, also in upper case (for macros).
    Names that would equal a generated or C library macro (``reserved_prefixes``, see
    ``generated_prefixes``; ``LIBC_NAMES``, ``INT8_MAX``...) get a ``t_`` prefix."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = c_identifier(name, fallback)
        if base.startswith(reserved_prefixes) or base in LIBC_NAMES or \
                _STDINT_MACRO.match(base.upper()):
            base = f"t_{base}"
        ident, n = base, 2
        while ident.upper() in seen:
            ident, n = f"{base}_{n}", n + 1
        seen.add(ident.upper())
        out.append(ident)
    return out


def c_comment(text: str) -> str:
    """Text safe inside a /* */ comment (one line, no comment terminators)."""
    return " ".join(text.replace("*/", "* /").replace("/*", "/ *").split())


def c_string(text: str) -> str:
    """Text safe inside a C string literal."""
    return "".join(ch if ch.isalnum() or ch in " _-.,:()[]x/" else "_" for ch in text)
