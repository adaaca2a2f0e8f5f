"""The one error family s2i raises; only the CLI turns it into an exit code."""


class S2IError(Exception):
    """A failure the user can act on: `message` says what broke, `hint` how to fix it."""

    exit_code = 1

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.replace("\n", " ").strip()
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(S2IError):
    """Bad input caught before any work was done."""

    exit_code = 2


class RegistryError(S2IError):
    """The registry refused or failed a request."""

    def __init__(self, message: str, hint: str = "", status: int = 0, temporary: bool = False, retry_after: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.temporary = temporary
        self.retry_after = retry_after  # the registry's Retry-After header, when it sent one


class AuthError(RegistryError):
    """The registry refused our credentials, or we had none."""
