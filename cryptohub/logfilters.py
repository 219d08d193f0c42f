"""Logging filters settings.LOGGING names (a module of its own: logging is configured before the
apps are loaded, so it imports nothing of Django's)."""

import logging

# A refused request's log line is cut here: the header it quotes can be 16 KB.
MAX_REFUSAL_MESSAGE_CHARS = 500


class RefusalWithoutTraceback(logging.Filter):
    """Django logs a request it refuses as suspicious (a Host not in ALLOWED_HOSTS, a body past
    the limits) at ERROR with its traceback. That is a client's mistake, not ours: one warning
    line each, bounded, so a client sending them cannot fill the log with stacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = record.getMessage()[:MAX_REFUSAL_MESSAGE_CHARS], ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True
