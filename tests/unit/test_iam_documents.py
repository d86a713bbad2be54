from components import iam_documents as iam

ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = (
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)


def test_irsa_trust_is_scoped_to_one_service_account_and_the_sts_audience():
    doc = iam.irsa_trust_policy(oidc_provider_arn=PROVIDER, issuer_url=ISSUER, namespace="daft", service_account="daft")
    (statement,) = doc["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": PROVIDER}
    host = ISSUER.removeprefix("https://")
    assert statement["Condition"] == {
        "StringEquals": {f"{host}:sub": "system:serviceaccount:daft:daft", f"{host}:aud": "sts.amazonaws.com"}
    }
    assert "*" not in str(statement["Condition"])


def test_s3_access_policy_lists_buckets_and_objects_only_of_the_given_buckets():
    doc = iam.s3_access_policy(["arn:aws:s3:::b2", "arn:aws:s3:::b1"])
    listing, objects = doc["Statement"]
    assert listing["Resource"] == ["arn:aws:s3:::b1", "arn:aws:s3:::b2"]
    assert objects["Resource"] == ["arn:aws:s3:::b1/*", "arn:aws:s3:::b2/*"]
    assert "s3:PutObject" in objects["Action"]
    read_only = iam.s3_access_policy(["arn:aws:s3:::b1"], read_only=True)["Statement"][1]
    assert read_only["Action"] == ["s3:GetObject"]


def test_kms_key_policy_limits_service_use_to_the_account():
    doc = iam.kms_key_policy(account_id="123456789012", partition="aws", service_principals=["logs.amazonaws.com"])
    admin, services = doc["Statement"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_compact_length_ignores_whitespace():
    doc = iam.document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert iam.compact_length(doc) == len(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    )


def test_managed_policy_arn_uses_the_partition():
    assert iam.managed_policy_arn("aws-us-gov", "AmazonEKSClusterPolicy") == (
        "arn:aws-us-gov:iam::aws:policy/AmazonEKSClusterPolicy"
    )
