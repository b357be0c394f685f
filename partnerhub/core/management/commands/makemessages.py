"""makemessages without fuzzy matching: a new message stays untranslated (and the qa check says so)
instead of silently borrowing the translation of a similar-looking one."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
