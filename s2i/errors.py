"""The one error family s2i raises, and the exit codes they map to; only the CLI turns them into an exit."""

# Every exit status s2i itself gives, in one place (the CLI and the README's table read these).
EXIT_OK = 0
EXIT_FAILED = 1  # the work failed for another reason: the local store, the disk, a file
EXIT_USAGE = 2  # bad input caught before any work: flags, s2i.toml, references, environment
EXIT_DETECTION = 3  # no buildpack recognises the app
EXIT_BUILD = 4  # the build in the sandbox failed or hit a limit
EXIT_REGISTRY = 5  # a registry refused, failed or could not be reached
EXIT_AUTH = 6  # a registry refused our credentials, or we had none
EXIT_INTERNAL = 70  # a bug in s2i (an unexpected exception); -v shows the traceback
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_FAILED: "the work failed (local store, disk, files)",
    EXIT_USAGE: "bad input caught before any work (flags, s2i.toml, references, environment)",
    EXIT_DETECTION: "no buildpack recognises the app",
    EXIT_BUILD: "the build failed or hit a limit (time, processes, memory)",
    EXIT_REGISTRY: "a registry refused, failed or could not be reached",
    EXIT_AUTH: "a registry refused the credentials, or there were none",
    EXIT_INTERNAL: "internal error in s2i (a bug; -v shows the traceback)",
    EXIT_INTERRUPTED: "interrupted",
}


class S2IError(Exception):
    """A failure the user can act on: `message` says what broke, `hint` how to fix it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.replace("\n", " ").strip()
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(S2IError):
    """Bad input caught before any work was done."""

    exit_code = EXIT_USAGE


class DetectionError(UsageError):
    """No buildpack recognises the app (caught before any work, like a usage error)."""

    exit_code = EXIT_DETECTION


class BuildError(S2IError):
    """The app's build failed in the sandbox, or hit a limit."""

    exit_code = EXIT_BUILD


class RegistryError(S2IError):
    """The registry refused or failed a request."""

    exit_code = EXIT_REGISTRY

    def __init__(self, message: str, hint: str = "", status: int = 0, temporary: bool = False, retry_after: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.temporary = temporary
        self.retry_after = retry_after  # the registry's Retry-After header, when it sent one


class AuthError(RegistryError):
    """The registry refused our credentials, or we had none."""

    exit_code = EXIT_AUTH
