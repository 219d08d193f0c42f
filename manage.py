#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptohub.settings")
    from django.core.management import execute_from_command_line

    from common.audit import set_process_actor

    if len(sys.argv) > 1:  # the audit trail's actor of what this command changes
        set_process_actor(f"command:{sys.argv[1]}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
