"""Email: SES identities (domains with Easy DKIM, and addresses), a configuration set, and an SMTP-sending IAM user.

The identities are SES v2 email identities; a domain's DKIM is Easy DKIM (SES holds the key), and its owner must
publish three CNAME records (`dkim_records`) before SES signs and sends for it. The optional configuration set
requires TLS for delivery and collects reputation metrics; the identities send with it by default.

The SMTP user exists for applications that speak SMTP (Airflow, Grafana, ...): an IAM user with the stack's
permissions boundary, one inline policy allowing ``ses:SendRawEmail`` (what the SMTP interface authorises) on this
stack's identities and configuration set only, and one access key whose secret, converted with SES's SigV4
algorithm, is the SMTP password (``aws.iam.AccessKey.ses_smtp_password_v4``). The key id (the SMTP username) and the
password leave the component as secret Outputs only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.naming import NamingContext

#: Easy DKIM key length for new domain identities (SES v2 ``DkimSigningAttributes.NextSigningKeyLength``).
DKIM_KEY_LENGTH = "RSA_2048_BIT"
#: The role part of the SMTP user's and the configuration set's names.
SMTP_USER_ROLE = "smtp"
CONFIGURATION_SET_ROLE = "email"


def smtp_endpoint(region: str) -> str:
    """The SES SMTP endpoint of ``region``: ``email-smtp.<region>.amazonaws.com``.

    SES Developer Guide, "Connecting to an Amazon SES SMTP endpoint": STARTTLS on 587 or 2587, TLS wrapper on 465 or
    2465; every connection must use TLS.
    """
    return f"email-smtp.{region}.amazonaws.com"


def dkim_records(domain: str, tokens: Sequence[str]) -> list[dict[str, str]]:
    """The Easy DKIM CNAME records of ``domain``: ``<token>._domainkey.<domain>`` -> ``<token>.dkim.amazonses.com``.

    Source: Amazon SES API Reference, VerifyDomainDkim ("To create the CNAME records for DKIM authentication, use the
    following values: Name: token._domainkey.example.com, Type: CNAME, Value: token.dkim.amazonses.com").
    """
    return [
        {"name": f"{token}._domainkey.{domain}", "type": "CNAME", "value": f"{token}.dkim.amazonses.com"}
        for token in tokens
    ]


def _tokens(signing: object) -> list[str]:
    """The Easy DKIM tokens of an identity's ``dkimSigningAttributes`` (an output object, or a plain mapping)."""
    tokens = signing.get("tokens") if isinstance(signing, dict) else getattr(signing, "tokens", None)
    return [str(token) for token in tokens or []]


@dataclass(frozen=True)
class EmailArgs:
    """Inputs of Email."""

    naming: NamingContext
    #: Account, partition and region of the identities' ARNs; the permissions boundary of the SMTP user.
    account: AwsContext
    #: Domain identities (Easy DKIM).
    domains: Sequence[str] = ()
    #: Email address identities (SES mails each a verification link).
    addresses: Sequence[str] = ()
    #: A configuration set the identities send with by default (TLS required, reputation metrics).
    configuration_set: bool = False
    #: The SMTP-sending IAM user and its access key.
    smtp_user: bool = True

    def __post_init__(self) -> None:
        """An Email without identities has nothing to send from (the settings refuse it first)."""
        if not self.domains and not self.addresses:
            msg = "EmailArgs needs at least one domain or address"
            raise ValueError(msg)


class Email(pulumi.ComponentResource):
    """SES identities, configuration set and SMTP user.

    Outputs: ``identity_arns`` (identity -> ARN), ``dkim_records`` (domain -> CNAME records),
    ``configuration_set_name``, ``smtp_endpoint`` (plain), ``smtp_username`` and ``smtp_password`` (secret; None
    without the SMTP user).
    """

    identity_arns: dict[str, pulumi.Output[str]]
    dkim_records: pulumi.Output[dict[str, list[dict[str, str]]]]
    configuration_set_name: pulumi.Output[str] | None
    smtp_endpoint: str
    smtp_username: pulumi.Output[str] | None
    smtp_password: pulumi.Output[str] | None

    def __init__(self, name: str, args: EmailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:Email", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = args.account
        configuration_set = None
        resource_arns: list[str] = []
        if args.configuration_set:
            set_name = args.naming.name(CONFIGURATION_SET_ROLE, "ses_configuration_set")
            configuration_set = aws.sesv2.ConfigurationSet(
                f"{name}-configuration-set",
                configuration_set_name=set_name,
                delivery_options={"tls_policy": "REQUIRE"},
                reputation_options={"reputation_metrics_enabled": True},
                sending_options={"sending_enabled": True},
                opts=child,
            )
            resource_arns.append(
                iam.ses_configuration_set_arn(
                    partition=account.partition, region=account.region, account_id=account.account_id, name=set_name
                )
            )
        self.configuration_set_name = configuration_set.configuration_set_name if configuration_set else None

        identities: dict[str, aws.sesv2.EmailIdentity] = {}
        for identity in [*args.domains, *args.addresses]:
            domain = identity in args.domains
            identities[identity] = aws.sesv2.EmailIdentity(
                f"{name}-identity-{identity}",
                email_identity=identity,
                dkim_signing_attributes={"next_signing_key_length": DKIM_KEY_LENGTH} if domain else None,
                configuration_set_name=self.configuration_set_name,
                opts=child,
            )
            resource_arns.append(
                iam.ses_identity_arn(
                    partition=account.partition, region=account.region, account_id=account.account_id, identity=identity
                )
            )
        self.identity_arns = {identity: resource.arn for identity, resource in identities.items()}
        # Positional, in domain order: Output.all() with no keywords answers a list, not a dict (addresses only).
        domains = list(args.domains)
        self.dkim_records = pulumi.Output.all(
            *(identities[domain].dkim_signing_attributes for domain in domains)
        ).apply(
            lambda attributes: {
                domain: dkim_records(domain, _tokens(signing))
                for domain, signing in zip(domains, attributes, strict=True)
            }
        )
        self.smtp_endpoint = smtp_endpoint(account.region)

        self.smtp_username, self.smtp_password = None, None
        if args.smtp_user:
            user = aws.iam.User(
                f"{name}-smtp-user",
                name=args.naming.platform_user(SMTP_USER_ROLE),
                permissions_boundary=account.permissions_boundary,
                opts=child,
            )
            aws.iam.UserPolicy(
                f"{name}-smtp-send",
                name="ses-smtp-send",
                user=user.name,
                # ARNs built from the settings, not read from the identities: the policy is known in a preview.
                policy=json.dumps(iam.ses_smtp_send_policy(resource_arns)),
                opts=child,
            )
            key = aws.iam.AccessKey(f"{name}-smtp-key", user=user.name, opts=child)
            # The SDK marks `secret` and `sesSmtpPasswordV4` secret; the key id is the SMTP username, secret too.
            self.smtp_username = pulumi.Output.secret(key.id)
            self.smtp_password = pulumi.Output.secret(key.ses_smtp_password_v4)
        self.register_outputs(
            {
                "identityArns": self.identity_arns,
                "dkimRecords": self.dkim_records,
                "smtpEndpoint": self.smtp_endpoint,
                **({"smtpUsername": self.smtp_username} if self.smtp_username is not None else {}),
                **({"smtpPassword": self.smtp_password} if self.smtp_password is not None else {}),
            }
        )
