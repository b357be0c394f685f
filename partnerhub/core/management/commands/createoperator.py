"""Create the operator organisation (the vendor) and its first staff account."""

from __future__ import annotations

import getpass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from partnerhub.access.perms import Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.orgs.models import Membership, Organisation


class Command(BaseCommand):
    help = "Create the operator organisation and an owner account for it (asks for a password)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org-name", required=True, help="Name of the vendor, e.g. 'Example Hosting AG'.")
        parser.add_argument("--email", required=True, help="Email address of the first operator staff member.")
        parser.add_argument("--name", default="", help="Display name of that person.")
        parser.add_argument("--password", default=None, help="Password (asked interactively when omitted).")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        if Organisation.objects.filter(is_operator=True).exists():
            raise CommandError("An operator organisation exists already; invite further staff from its members page.")
        if User.objects.filter(email=email).exists():
            raise CommandError(f"An account with {email} exists already.")
        password = options["password"] or getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=options["name"])
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            org = Organisation.objects.create(
                name=options["org_name"], slug=slugify(options["org_name"])[:60] or "operator", is_operator=True
            )
            membership = Membership.objects.create(user=user, org=org, role=Role.OWNER)
            user.active_org = org
            user.save(update_fields=["active_org"])
            record(Actor.system(user), "org.operator_created", org=org, obj=membership, after={"email": email})
        self.stdout.write(self.style.SUCCESS(f"Operator organisation '{org.name}' created; {email} is its owner."))
