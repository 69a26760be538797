"""User-facing errors. The CLI prints any `TTSBenchError` as one line and exits with code 2."""

from __future__ import annotations


class TTSBenchWarning(UserWarning):
    """Something the user should know that does not stop the job (a torn line skipped and redone).
    The CLI prints each distinct one once, as `ttsbench: warning: ...`."""


class TTSBenchError(Exception):
    """An error the user can fix: bad input, a missing model, an unknown name."""


class UnknownNameError(TTSBenchError, KeyError):
    """A registry lookup of a name that nothing registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(TTSBenchError):
    """Two plugins registered the same name."""


class InputError(TTSBenchError):
    """Bad input data: a missing or corrupt wav, an empty text, an unsafe utterance id."""


class MissingModelError(TTSBenchError):
    """A model file is not where the config says; the message names the file and where to get it."""


class MissingDependencyError(TTSBenchError):
    """An optional package is not installed; the message names the extra to install."""


class SynthesisError(TTSBenchError):
    """A system produced unusable audio for one utterance (NaN, silence, empty)."""


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none (a bare
    IndexError, an empty OSError): what a one-line error quotes from a library's exception."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
