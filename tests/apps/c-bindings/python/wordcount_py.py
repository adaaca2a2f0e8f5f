"""Pure Python fallback of the bindings."""


def count(text: str) -> int:
    return len(text.split())
