"""Which input changes make a provider replace a resource, by type token, for an offline diff of two plans.

A rule is a dotted path of wire input keys (camelCase, as `tools.harness.Registration.inputs` holds them):
``"vpcConfig.subnetIds"``, ``"spec.selector"``. A changed path replaces the resource when it equals a rule, lies
below one (rule ``spec.selector`` covers ``spec.selector.matchLabels.app``) or has a rule below it (a new
``vpcConfig`` as a whole covers ``vpcConfig.subnetIds``). List indexes (``"[0]"``) are ignored when matching, so
rule ``additionalConfigurations.name`` covers ``additionalConfigurations[1].name``.

Where the rules were read (every `SOURCES` entry names its file, ``repo@ref:path``):

* Kubernetes: pulumi/pulumi-kubernetes ``provider/pkg/provider/diff.go`` (``forceNewProperties``) and
  ``helm_release.go`` (``Diff``: ``forceNewFields``) at commit ``94977969d``; the fetched snapshot has no tag past
  v4.32.0, and neither file changed between v4.32.0 and that commit (the installed SDK is 4.34.2).
* AWS: hashicorp/terraform-provider-aws ``internal/service/<svc>/<resource>.go``, ``ForceNew: true`` (SDKv2) and
  ``RequiresReplace`` (plugin framework). The repository is over the 500 MiB fetch limit, so the files were read
  from the search index, one stored version each (the commit is in `SOURCES`), not at one tag. pulumi-aws 7.51.1
  bridges a 6.x release past v6.61.0 (pulumi-aws v7.43.0's release notes: "Upgrade terraform-provider-aws to
  v6.61.0"); the exact tag was not pinned. ``ForceNewIf``/``CustomizeDiff`` replacements that depend on old and new
  values together are left out of the table and named in the entry's note.
* tls: hashicorp/terraform-provider-tls ``internal/provider/resource_*.go`` at the snapshot's HEAD (2026-04-28, tags to
  v4.2.1); vault: hashicorp/terraform-provider-vault ``vault/resource_*.go`` at HEAD (tags to v5.11.0);
  spotinst: spotinst/terraform-provider-spotinst ``spotinst/ocean_aws/`` at HEAD (tags to v1.240.0).

Not modelled: the top-level ``region`` input every regional AWS resource has since pulumi-aws 7 (Terraform AWS
6 "Enhanced Region Support"); whether changing it replaces was not found in the sources read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

_TF_AWS = "hashicorp/terraform-provider-aws"
_PULUMI_K8S = "pulumi/pulumi-kubernetes@94977969d"
_TLS = "hashicorp/terraform-provider-tls@HEAD(2026-04-28)"
_VAULT = "hashicorp/terraform-provider-vault@HEAD(2026-08-20)"
_SPOTINST = "spotinst/terraform-provider-spotinst@HEAD(2026-08-14)"


def _aws(commit: str, path: str, note: str = "") -> str:
    """A SOURCES entry for a Terraform AWS file read from the index at ``commit``."""
    where = f"{_TF_AWS}@{commit[:10]}:internal/service/{path}"
    return f"{where}; {note}" if note else where


# The Terraform AWS provider's replace-on-change attributes, as Pulumi wire paths, with the file each was read from.
_AWS: dict[str, tuple[tuple[str, ...], str]] = {
    "aws:autoscaling/tag:Tag": (
        ("autoscalingGroupName", "tag.key"),
        _aws("050ac11163", "autoscaling/group_tag.go"),
    ),
    "aws:cloudwatch/eventRule:EventRule": (
        ("eventBusName", "name", "namePrefix"),
        _aws("0cdab4ae09", "events/rule.go"),
    ),
    "aws:cloudwatch/eventTarget:EventTarget": (
        ("eventBusName", "rule", "targetId"),
        _aws("0762c41e20", "events/target.go"),
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        ("logGroupClass", "name", "namePrefix"),
        _aws("0073593e7d", "logs/group.go"),
    ),
    "aws:codebuild/project:Project": (
        ("name",),
        _aws(
            "00a35305dc",
            "codebuild/project.go",
            "partly read: the schema through secondary_artifacts (no other ForceNew there); source, vpc_config and "
            "the later blocks unverified",
        ),
    ),
    "aws:codebuild/webhook:Webhook": (("projectName",), _aws("01c08000dd", "codebuild/webhook.go")),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        ("vpcId",),
        _aws("01f4311146", "ec2/vpc_default_security_group.go"),
    ),
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": (
        ("vpcId",),
        _aws("08923b68b5", "ec2/vpc_egress_only_internet_gateway.go"),
    ),
    "aws:ec2/eip:Eip": (
        ("address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"),
        _aws("01606926a0", "ec2/ec2_eip.go"),
    ),
    "aws:ec2/flowLog:FlowLog": (
        (
            "deliverCrossAccountRole",
            "destinationOptions",
            "eniId",
            "iamRoleArn",
            "logDestination",
            "logDestinationType",
            "logFormat",
            "maxAggregationInterval",
            "regionalNatGatewayId",
            "subnetId",
            "trafficType",
            "transitGatewayAttachmentId",
            "transitGatewayId",
            "vpcId",
        ),
        _aws("00a35305dc", "ec2/vpc_flow_log.go", "every argument but tags forces replacement"),
    ),
    "aws:ec2/internetGateway:InternetGateway": (
        (),
        _aws("08923b68b5", "ec2/vpc_internet_gateway.go", "nothing forces replacement (vpc_id re-attaches)"),
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        ("name", "namePrefix"),
        _aws(
            "025e4f81ca",
            "ec2/ec2_launch_template.go",
            "every other argument creates a new template version in place (the update's updateKeys); the name "
            "and name_prefix schema lines fell outside the read range",
        ),
    ),
    "aws:ec2/natGateway:NatGateway": (
        ("allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId"),
        _aws(
            "04088eaa54",
            "ec2/vpc_nat_gateway.go",
            "the stored version predates regional NAT gateways: the SDK's availabilityMode, "
            "availabilityZoneAddresses and vpcId are unverified",
        ),
    ),
    "aws:ec2/route:Route": (
        ("destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId", "routeTableId"),
        _aws("0128541e07", "ec2/vpc_route.go"),
    ),
    "aws:ec2/routeTable:RouteTable": (("vpcId",), _aws("022092419b", "ec2/vpc_route_table.go")),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        ("gatewayId", "subnetId"),
        _aws("0be71beb45", "ec2/vpc_route_table_association.go"),
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        ("description", "name", "namePrefix", "vpcId"),
        _aws("01606926a0", "ec2/vpc_security_group.go"),
    ),
    "aws:ec2/subnet:Subnet": (
        (
            "availabilityZone",
            "availabilityZoneId",
            "cidrBlock",
            "ipv4IpamPoolId",
            "ipv4NetmaskLength",
            "ipv6IpamPoolId",
            "ipv6Native",
            "ipv6NetmaskLength",
            "outpostArn",
            "vpcId",
        ),
        _aws(
            "00cda125a1",
            "ec2/vpc_subnet.go",
            "ipv6_cidr_block replaces only when assign_ipv6_address_on_creation was true (ForceNewIf)",
        ),
    ),
    "aws:ec2/tag:Tag": (
        ("key", "resourceId"),
        (
            f"{_TF_AWS}:internal/service/ec2 aws_ec2_tag; UNVERIFIED: the resource's file is not in the index; "
            "resource_id and key make its ID, value is updated in place"
        ),
    ),
    "aws:ec2/vpc:Vpc": (
        ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"),
        _aws("00081ce41c", "ec2/vpc_.go"),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        (
            "dnsOptions.privateDnsPreference",
            "dnsOptions.privateDnsSpecifiedDomains",
            "resourceConfigurationArn",
            "serviceName",
            "serviceNetworkArn",
            "serviceRegion",
            "vpcEndpointType",
            "vpcId",
        ),
        _aws(
            "008db85aad",
            "ec2/vpc_endpoint.go",
            "private_dns_enabled replaces too when the endpoint type is not Interface (CustomizeDiff)",
        ),
    ),
    "aws:eks/accessEntry:AccessEntry": (
        ("clusterName", "principalArn", "type"),
        _aws("01f4311146", "eks/access_entry.go"),
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
        ("accessScope", "clusterName", "policyArn", "principalArn"),
        _aws("01f4311146", "eks/access_policy_association.go"),
    ),
    "aws:eks/addon:Addon": (("addonName", "clusterName"), _aws("00a35305dc", "eks/addon.go")),
    "aws:eks/cluster:Cluster": (
        (
            "accessConfig.bootstrapClusterCreatorAdminPermissions",
            "bootstrapSelfManagedAddons",
            "kubernetesNetworkConfig.ipFamily",
            "kubernetesNetworkConfig.serviceIpv4Cidr",
            "name",
            "outpostConfig.controlPlaneInstanceType",
            "outpostConfig.controlPlanePlacement.groupName",
            "remoteNetworkConfig",
            "roleArn",
        ),
        _aws(
            "00555dc5b3",
            "eks/cluster.go",
            "vpc_config (subnet_ids, security_group_ids, endpoint access) updates in place; removing "
            "encryption_config and changing an existing compute_config.node_role_arn replace (CustomizeDiff); the "
            "stored version predates the SDK's controlPlaneScalingConfig, deletionProtection and kube*Config "
            "inputs, which are unverified",
        ),
    ),
    "aws:eks/nodeGroup:NodeGroup": (
        (
            "amiType",
            "capacityType",
            "clusterName",
            "diskSize",
            "instanceTypes",
            "launchTemplate.id",
            "launchTemplate.name",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "remoteAccess",
            "subnetIds",
        ),
        _aws(
            "012e0a32f0",
            "eks/node_group.go",
            "launch_template.version, scaling_config, labels and taints update in place; the SDK's warmPoolConfig "
            "is newer than the stored version and unverified",
        ),
    ),
    "aws:guardduty/detector:Detector": (
        (),
        _aws("0060af2313", "guardduty/detector.go", "nothing forces replacement"),
    ),
    "aws:guardduty/detectorFeature:DetectorFeature": (
        ("additionalConfigurations.name", "detectorId", "name"),
        _aws("0f87934c9f", "guardduty/detector_feature.go"),
    ),
    "aws:iam/accessKey:AccessKey": (("pgpKey", "user"), _aws("1271cd2293", "iam/access_key.go")),
    "aws:iam/instanceProfile:InstanceProfile": (
        ("name", "namePrefix", "path"),
        _aws("013f1736b9", "iam/instance_profile.go"),
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        ("url",),
        _aws("01606926a0", "iam/openid_connect_provider.go"),
    ),
    "aws:iam/policy:Policy": (
        ("description", "name", "namePrefix", "path"),
        _aws("01ccd9a2d1", "iam/policy.go"),
    ),
    "aws:iam/role:Role": (("name", "namePrefix", "path"), _aws("0040ea6911", "iam/role.go")),
    "aws:iam/rolePolicy:RolePolicy": (("name", "namePrefix", "role"), _aws("02f97af85f", "iam/role_policy.go")),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        ("policyArn", "role"),
        _aws("04c79849db", "iam/role_policy_attachment.go"),
    ),
    "aws:iam/user:User": (
        (),
        _aws("058fd401f2", "iam/user.go", "nothing forces replacement (name and path are renamed in place)"),
    ),
    "aws:iam/userPolicy:UserPolicy": (("name", "namePrefix", "user"), _aws("02f97af85f", "iam/user_policy.go")),
    "aws:kms/alias:Alias": (("name", "namePrefix"), _aws("01c08000dd", "kms/alias.go")),
    "aws:kms/key:Key": (
        ("customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"),
        _aws("00a35305dc", "kms/key.go"),
    ),
    "aws:sesv2/emailIdentity:EmailIdentity": (("emailIdentity",), _aws("0214c421e3", "sesv2/email_identity.go")),
    "aws:sqs/queue:Queue": (("fifoQueue", "name", "namePrefix"), _aws("00a35305dc", "sqs/queue.go")),
    "aws:sqs/queuePolicy:QueuePolicy": (("queueUrl",), _aws("0148137dc6", "sqs/queue_policy.go")),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        ("securityGroupId",),
        _aws(
            "050ac11163",
            "ec2/vpc_security_group_egress_rule.go",
            "shares the rule schema of vpc_security_group_ingress_rule.go (security_group_id RequiresReplace); "
            "changing the source kind (cidr_ipv4 to referenced_security_group_id, ...) replaces too (ModifyPlan)",
        ),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        ("securityGroupId",),
        _aws(
            "00a3220940",
            "ec2/vpc_security_group_ingress_rule.go",
            "changing the source kind (cidr_ipv4 to referenced_security_group_id, ...) replaces too (ModifyPlan)",
        ),
    ),
}

# The tls provider: RequiresReplace (and requireReplaceIfStateContainsPEMString for the PEM inputs).
_TLS_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "tls:index/certRequest:CertRequest": (
        ("dnsNames", "ipAddresses", "privateKeyPem", "subject", "uris"),
        f"{_TLS}:internal/provider/resource_cert_request.go",
    ),
    "tls:index/locallySignedCert:LocallySignedCert": (
        (
            "allowedUses",
            "caCertPem",
            "caPrivateKeyPem",
            "certRequestPem",
            "isCaCertificate",
            "maxPathLength",
            "setSubjectKeyId",
            "validityPeriodHours",
        ),
        (
            f"{_TLS}:internal/provider/resource_locally_signed_cert.go; early_renewal_hours replaces once "
            "ready_for_renewal turns true (common_cert.go)"
        ),
    ),
    "tls:index/privateKey:PrivateKey": (
        ("algorithm", "ecdsaCurve", "rsaBits"),
        f"{_TLS}:internal/provider/resource_private_key.go",
    ),
    "tls:index/selfSignedCert:SelfSignedCert": (
        (
            "allowedUses",
            "dnsNames",
            "ipAddresses",
            "isCaCertificate",
            "maxPathLength",
            "privateKeyPem",
            "setAuthorityKeyId",
            "setSubjectKeyId",
            "subject",
            "uris",
            "validityPeriodHours",
        ),
        (
            f"{_TLS}:internal/provider/resource_self_signed_cert.go; early_renewal_hours replaces once "
            "ready_for_renewal turns true (common_cert.go)"
        ),
    ),
}

_VAULT_NAMESPACE = "namespace is ForceNew on every resource (internal/provider/schema_util.go GetNamespaceSchema)"

# The vault provider: ForceNew: true, plus the namespace every resource is given.
_VAULT_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "vault:aws/authBackendClient:AuthBackendClient": (
        ("backend", "namespace"),
        f"{_VAULT}:vault/resource_aws_auth_backend_client.go; {_VAULT_NAMESPACE}",
    ),
    "vault:aws/authBackendRole:AuthBackendRole": (
        ("authType", "backend", "namespace", "role"),
        (
            f"{_VAULT}:vault/resource_aws_auth_backend_role.go; resolve_aws_unique_ids true to false replaces "
            f"(CustomizeDiff); {_VAULT_NAMESPACE}"
        ),
    ),
    "vault:aws/secretBackend:SecretBackend": (
        ("local", "namespace"),
        (
            f"{_VAULT}:vault/resource_aws_secret_backend.go; path replaces only where remount is unsupported "
            f"(Vault < 1.10) or disable_remount is set; {_VAULT_NAMESPACE}"
        ),
    ),
    "vault:aws/secretBackendRole:SecretBackendRole": (
        ("backend", "name", "namespace", "roleArns"),
        f"{_VAULT}:vault/resource_aws_secret_backend_role.go; {_VAULT_NAMESPACE}",
    ),
    "vault:index/audit:Audit": (
        ("description", "local", "namespace", "options", "path", "type"),
        f"{_VAULT}:vault/resource_audit.go; {_VAULT_NAMESPACE}",
    ),
    "vault:index/authBackend:AuthBackend": (
        ("local", "namespace", "type"),
        f"{_VAULT}:vault/resource_auth_backend.go; {_VAULT_NAMESPACE}",
    ),
    "vault:index/mount:Mount": (
        ("externalEntropyAccess", "local", "namespace", "sealWrap", "type"),
        f"{_VAULT}:vault/resource_mount.go; path is remounted in place; {_VAULT_NAMESPACE}",
    ),
    "vault:index/policy:Policy": (
        ("name", "namespace"),
        f"{_VAULT}:vault/resource_policy.go; {_VAULT_NAMESPACE}",
    ),
    "vault:kubernetes/authBackendConfig:AuthBackendConfig": (
        ("backend", "namespace"),
        f"{_VAULT}:vault/resource_kubernetes_auth_backend_config.go; {_VAULT_NAMESPACE}",
    ),
    "vault:kubernetes/authBackendRole:AuthBackendRole": (
        ("backend", "namespace", "roleName"),
        f"{_VAULT}:vault/resource_kubernetes_auth_backend_role.go; {_VAULT_NAMESPACE}",
    ),
}

_SPOTINST_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "spotinst:aws/ocean:Ocean": (
        (),
        (
            f"{_SPOTINST}:spotinst/resource_spotinst_ocean_aws.go, spotinst/ocean_aws*/fields_*.go; nothing forces "
            "replacement (no ForceNew, no CustomizeDiff)"
        ),
    ),
}

# Provider resources: a replaced provider replaces every resource it manages.
_PROVIDER_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "pulumi:providers:aws": (
        (),
        (
            "pulumi/pulumi-aws#5656 (2025-07-15): the region ForcesProviderReplace behaviour was removed in the v7 "
            "major, so a region change no longer replaces the provider; read from the thread, not the code "
            "(UNVERIFIED in pulumi-aws@v7.51.1 provider/resources.go)"
        ),
    ),
    "pulumi:providers:kubernetes": (
        ("cluster", "clusterIdentifier", "context", "kubeconfig", "renderYamlToDirectory"),
        (
            f"{_PULUMI_K8S}:provider/pkg/provider/provider.go DiffConfig; kubeconfig, context and cluster replace "
            "only when the active cluster changes or the value is unknown; an unchanged clusterIdentifier "
            "suppresses every replacement"
        ),
    ),
    "pulumi:providers:spotinst": (
        (),
        (
            "pulumi/pulumi-terraform-bridge: DiffConfig replaces only for config marked ForcesProviderReplace; "
            "UNVERIFIED that pulumi-spotinst marks none (not read)"
        ),
    ),
    "pulumi:providers:tls": (
        (),
        (
            "pulumi/pulumi-terraform-bridge: DiffConfig replaces only for config marked ForcesProviderReplace; "
            "UNVERIFIED that pulumi-tls marks none (not read)"
        ),
    ),
    "pulumi:providers:vault": (
        (),
        (
            "pulumi/pulumi-terraform-bridge: DiffConfig replaces only for config marked ForcesProviderReplace; "
            "UNVERIFIED that pulumi-vault marks none (not read)"
        ),
    ),
}

_DIFF_GO = f"{_PULUMI_K8S}:provider/pkg/provider/diff.go forceNewProperties"
_HELM_GO = f"{_PULUMI_K8S}:provider/pkg/provider/helm_release.go Diff forceNewFields"
_HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_METADATA = ("metadata.name", "metadata.namespace")


def _selector(prefix: str) -> tuple[str, ...]:
    """diff.go labelSelectorForceNewProperties: the selector and its parts."""
    return (prefix, *(f"{prefix}.{part}" for part in ("matchExpressions", "matchLabels")))


def _containers(*prefixes: str) -> tuple[str, ...]:
    """diff.go containerForceNewProperties (``[*]`` dropped: indexes are ignored when matching)."""
    fields = [
        "args",
        "command",
        "env",
        "image",
        "imagePullPolicy",
        "lifecycle",
        "livenessProbe",
        "ports",
        "readinessProbe",
        "resources",
        "securityContext",
        "stdin",
        "stdinOnce",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "tty",
        "volumeDevices",
        "volumeMounts",
        "workingDir",
    ]
    return tuple(f"{prefix}.{field}" for prefix in prefixes for field in fields)


_POD_SPEC = [
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostname",
    "imagePullSecrets",
    "nodeName",
    "nodeSelector",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "volumes",
]

_PV_SOURCES = [
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
]

_WORKLOAD = _selector("spec.selector")
_STATEFUL_SET = (
    "spec.podManagementPolicy",
    "spec.revisionHistoryLimit",
    "spec.serviceName",
    "spec.volumeClaimTemplates",
    *_WORKLOAD,
)
_JOB = ("spec.completions", "spec.parallelism", "spec.template", *_WORKLOAD)
_ROLE_BINDING = ("roleRef",)

# diff.go's forceNew table: (group, version, kind) -> the kind's fields beyond metadata.name/namespace.
_CORE_V1: dict[str, tuple[str, ...]] = {
    "PersistentVolume": tuple(f"spec.{source}" for source in _PV_SOURCES),
    "PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.storageClassName",
        "spec.volumeName",
        *_selector("spec.selector"),
    ),
    "Pod": (
        *(f"spec.{field}" for field in _POD_SPEC),
        *_containers("spec.containers", "spec.initContainers"),
    ),
    "ResourceQuota": ("spec.scopes",),
    "Service": ("spec.clusterIP",),
}
_KIND_FIELDS: dict[tuple[str, str, str], tuple[str, ...]] = {
    **{("core", "v1", kind): fields for kind, fields in _CORE_V1.items()},
    ("apps", "v1beta1", "StatefulSet"): _STATEFUL_SET,
    **{
        ("apps", version, kind): fields
        for version in ("v1beta2", "v1")
        for kind, fields in (("DaemonSet", _WORKLOAD), ("Deployment", _WORKLOAD), ("StatefulSet", _STATEFUL_SET))
    },
    ("policy", "v1beta1", "PodDisruptionBudget"): ("spec",),
    **{
        ("rbac.authorization.k8s.io", version, kind): _ROLE_BINDING
        for version in ("v1alpha1", "v1beta1", "v1")
        for kind in ("ClusterRoleBinding", "RoleBinding")
    },
    ("storage.k8s.io", "v1", "StorageClass"): ("parameters", "provisioner"),
    **{("batch", version, "Job"): _JOB for version in ("v1beta1", "v1", "v2alpha1")},
}
_KNOWN_GROUPS = frozenset(group for group, _, _ in _KIND_FIELDS)

# Secrets and ConfigMaps are immutable unless the provider sets enableSecretMutable / enableConfigMapMutable
# (both off by default; this program sets neither): diff.go's clients.IsSecret / IsConfigMap branches.
_SECRET = ("type", "stringData", "data")
_CONFIG_MAP = ("binaryData", "data")

_K8S_TOKEN = re.compile(r"^kubernetes:(?P<group>[^/:]+)/(?P<version>[^:]+):(?P<kind>[A-Za-z0-9]+)$")


def _kubernetes_rules(group: str, version: str, kind: str) -> tuple[str, ...]:
    """What diff.go's forceNewProperties returns for one kind (custom resources: metadata only)."""
    extra: tuple[str, ...] = ()
    if (group, version, kind) == ("core", "v1", "Secret"):
        extra = _SECRET
    elif (group, version, kind) in _KIND_FIELDS:
        extra = _KIND_FIELDS[(group, version, kind)]
    elif (group, version, kind) == ("core", "v1", "ConfigMap"):
        extra = _CONFIG_MAP
    return (*_METADATA, *extra)


def rules_for(type_token: str) -> tuple[str, ...]:
    """The replace-on-change paths of a type; any ``kubernetes:<group>/<version>:<Kind>`` kind is derived generically.

    Raises:
        KeyError: ``type_token`` is neither a Kubernetes kind nor a type of the table.
    """
    if type_token == _HELM_RELEASE:
        return ("name", "namespace")
    match = _K8S_TOKEN.match(type_token)
    if match is not None:
        return _kubernetes_rules(match["group"], match["version"], match["kind"])
    for table in (_AWS, _TLS_RULES, _VAULT_RULES, _SPOTINST_RULES, _PROVIDER_RULES):
        if type_token in table:
            return table[type_token][0]
    msg = f"no replace-on-change rules for {type_token!r}: read its provider's schema and add it to replace_rules"
    raise KeyError(msg)


def _kubernetes_source(type_token: str) -> str:
    """Where a Kubernetes kind's rules come from."""
    if type_token == _HELM_RELEASE:
        return _HELM_GO
    match = _K8S_TOKEN.match(type_token)
    if match is None or match["group"] not in _KNOWN_GROUPS:
        return f"{_DIFF_GO}; a custom resource (its group is not in the forceNew table): metadata.name/namespace"
    return _DIFF_GO


# The Kubernetes types the program registers (dev, prod, the variants and the seeds); rules_for covers any other.
_KUBERNETES_TYPES = (
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:argoproj.io/v1alpha1:AppProject",
    "kubernetes:argoproj.io/v1alpha1:Application",
    "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:example.com/v1:Widget",
    _HELM_RELEASE,
    "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    "kubernetes:karpenter.sh/v1:NodePool",
    "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
    "kubernetes:source.toolkit.fluxcd.io/v1:HelmRepository",
    "kubernetes:storage.k8s.io/v1:StorageClass",
)

_TABLES = {**_AWS, **_TLS_RULES, **_VAULT_RULES, **_SPOTINST_RULES, **_PROVIDER_RULES}

#: Input property paths (the wire inputs' camelCase keys, dotted for nested: "vpcConfig.subnetIds", "spec.selector")
#: whose change makes the provider replace the resource, by type token.
REPLACE_ON_CHANGE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        **{token: rules for token, (rules, _) in _TABLES.items()},
        **{token: rules_for(token) for token in _KUBERNETES_TYPES},
    }
)

#: Where each type's entry was read (repo@ref:path), by type token.
SOURCES: Mapping[str, str] = MappingProxyType(
    {
        **{token: source for token, (_, source) in _TABLES.items()},
        **{token: _kubernetes_source(token) for token in _KUBERNETES_TYPES},
    }
)

_INDEX = re.compile(r"\[[^\]]*\]")


def _parts(path: str) -> tuple[str, ...]:
    """A dotted path's keys, list indexes dropped (``"a[0].b"`` -> ``("a", "b")``)."""
    return tuple(part for part in _INDEX.sub("", path).split(".") if part)


def _related(changed: tuple[str, ...], rule: tuple[str, ...]) -> bool:
    """True when one path equals the other or lies below it."""
    shorter = min(len(changed), len(rule))
    return changed[:shorter] == rule[:shorter]


def replacing_paths(type_token: str, changed: Iterable[str]) -> list[str]:
    """The changed paths (dotted, list indexes as "[0]") that replace a resource of this type: a path replaces when it equals a rule or lies below it (rule "spec.selector" covers "spec.selector.matchLabels.app") or a rule lies below it (changing "vpcConfig" as a whole covers rule "vpcConfig.subnetIds")."""  # noqa: E501 - the signature's contract, kept verbatim
    rules = [_parts(rule) for rule in rules_for(type_token)]
    return [path for path in changed if any(_related(_parts(path), rule) for rule in rules)]
