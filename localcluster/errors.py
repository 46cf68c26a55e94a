"""One error type with a cause, the log to read, and a distinct exit status."""

EXIT_USAGE = 2
EXIT_PREFLIGHT = 3      # not root, missing kernel feature or package, port in use
EXIT_BUILD = 4          # a Go build or image build failed
EXIT_COMPONENT = 5      # a component exited or never became healthy during up
EXIT_NOT_UP = 6         # status/kubeconfig asked of a cluster that is not up
EXIT_CLEANUP = 7        # down could not remove everything


class ClusterError(Exception):
    def __init__(self, message: str, exit_code: int, log: str | None = None):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.log = log

    def __str__(self) -> str:
        return self.message + (f" (read {self.log})" if self.log else "")
