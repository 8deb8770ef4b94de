"""What evidence keeps verbatim: one allow-list per Kubernetes kind and per AWS operation.

Everything a frame or check reads word for word is listed here by field path; every other string of a
response is replaced by a keyed hash at collection (see redact.py), so a secret that turns up in a field nobody
reads (container args, annotations, tags, descriptions, configuration blobs...) never reaches a pack.

Path syntax: dotted keys; `name[]` is a list under key `name` whose items continue the path; `*` is any key of a
map. A path ends in a rule:

- KEEP: a scalar kept as is (identifiers, enum values, CIDRs, image references, timestamps). A list or map
  found there is not the expected shape and is replaced whole.
- LABELS: a map of Kubernetes labels; keys kept, values kept only for LABEL_KEYS, hashed otherwise (with the
  same key on both sides, so a selector still matches the labels it selects).
- ANNOTATIONS: keys kept, values kept only for ANNOTATION_KEYS.
- SELECTOR: a LabelSelector: matchLabels as LABELS, matchExpressions values by the same rule.
- TAGS / TAG_MAP: AWS tags as [{Key, Value}] or {key: value}; values kept only for TAG_KEYS.
- POLICY: an IAM-style policy document (object or JSON text), kept whole: the checks evaluate it.
- SECRET_DATA: a map whose keys are kept and values replaced by a fixed marker (Secret and ConfigMap data).
- MARKER: replaced whole by a fixed marker (e.g. managedFields, whose keys spell out values).
- JSON(paths) / YAML(paths): text holding a document, parsed and redacted by its own allow-list, re-serialised.

A frame or check that starts reading a new field adds it here, in the same commit; tests/test_redaction.py
proves every path exists in the API's model and that nothing outside the lists survives.
"""

from __future__ import annotations

import dataclasses

KEEP = "keep"
LABELS = "labels"
ANNOTATIONS = "annotations"
SELECTOR = "selector"
TAGS = "tags"
TAG_MAP = "tag_map"
POLICY = "policy"
SECRET_DATA = "secret_data"
MARKER = "marker"


@dataclasses.dataclass(frozen=True)
class Doc:
    """Text holding a JSON or YAML document, redacted by its own allow-list."""

    fmt: str  # "json" | "yaml"
    paths: tuple[tuple[str, object], ...]


def JSON(paths: dict) -> Doc:  # noqa: N802  (reads as a rule name beside KEEP, LABELS, ...)
    return Doc("json", tuple(paths.items()))


def YAML(paths: dict) -> Doc:  # noqa: N802
    return Doc("yaml", tuple(paths.items()))


# ---- label, annotation and tag keys whose values are kept ---------------------------------------------------

# Label values are identifiers under these keys (IAM-06 names applications by app.kubernetes.io/name or app);
# values under any other key are hashed, on objects and in selectors alike.
LABEL_KEYS = {"app", "k8s-app", "kubernetes.io/metadata.name", "kubernetes.io/os", "kubernetes.io/arch",
              "kubernetes.io/hostname", "node.kubernetes.io/instance-type"}
LABEL_PREFIXES = ("app.kubernetes.io/", "pod-security.kubernetes.io/", "topology.kubernetes.io/",
                  "eks.amazonaws.com/")
# Annotations whose values checks read: the IRSA role, the owner of a token Secret, security profiles.
ANNOTATION_KEYS = {"eks.amazonaws.com/role-arn", "eks.amazonaws.com/audience", "eks.amazonaws.com/sts-regional-endpoints",
                   "kubernetes.io/service-account.name", "kubernetes.io/service-account.uid",
                   "seccomp.security.alpha.kubernetes.io/pod"}
ANNOTATION_PREFIXES = ("container.seccomp.security.alpha.kubernetes.io/",
                       "container.apparmor.security.beta.kubernetes.io/")
# AWS tag values kept: the cluster-ownership tags NET-02/NET-05 match on, the classification tags NET-10 reads
# (its default sensitive_repo_tags), and Name. Compared case-insensitively, as NET-10 does.
TAG_KEYS = {"name", "sensitive", "sensitivity", "data-classification", "classification", "confidentiality",
            "elbv2.k8s.aws/cluster", "ingress.k8s.aws/stack", "service.k8s.aws/stack", "eks:cluster-name",
            "eks:nodegroup-name", "aws:eks:cluster-name"}
TAG_PREFIXES = ("kubernetes.io/cluster/", "aws:cloudformation:")


def label_kept(key: object) -> bool:
    return isinstance(key, str) and (key in LABEL_KEYS or key.startswith(LABEL_PREFIXES))


def annotation_kept(key: object) -> bool:
    return isinstance(key, str) and (key in ANNOTATION_KEYS or key.startswith(ANNOTATION_PREFIXES))


def tag_kept(key: object) -> bool:
    return isinstance(key, str) and (key.lower() in TAG_KEYS or key.lower().startswith(TAG_PREFIXES))


# ---- Kubernetes ---------------------------------------------------------------------------------------------


def _under(prefix: str, paths: dict) -> dict:
    return {f"{prefix}.{p}" if prefix else p: rule for p, rule in paths.items()}


def _keep(*paths: str) -> dict:
    return dict.fromkeys(paths, KEEP)


OBJECT_META = {
    **_keep("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "generateName",
            "ownerReferences[].apiVersion", "ownerReferences[].kind", "ownerReferences[].name",
            "ownerReferences[].uid"),
    "labels": LABELS, "annotations": ANNOTATIONS, "managedFields": MARKER,
}
_PROFILES = ("seccompProfile.type", "seccompProfile.localhostProfile", "appArmorProfile.type",
             "appArmorProfile.localhostProfile", "seLinuxOptions.user", "seLinuxOptions.role", "seLinuxOptions.type",
             "seLinuxOptions.level", "windowsOptions.runAsUserName", "windowsOptions.gmsaCredentialSpecName")
POD_SECURITY_CONTEXT = _keep(*_PROFILES, "fsGroupChangePolicy", "sysctls[].name", "seLinuxChangePolicy",
                             "supplementalGroupsPolicy")
CONTAINER_SECURITY_CONTEXT = _keep(*_PROFILES, "procMount", "capabilities.add[]", "capabilities.drop[]")
CONTAINER = {
    **_keep("name", "image", "imagePullPolicy", "ports[].name", "ports[].protocol",
            "ports[].hostIP", "env[].name", "env[].valueFrom.secretKeyRef.name", "env[].valueFrom.secretKeyRef.key",
            "env[].valueFrom.configMapKeyRef.name", "env[].valueFrom.configMapKeyRef.key",
            "env[].valueFrom.fieldRef.fieldPath", "env[].valueFrom.fieldRef.apiVersion",
            "env[].valueFrom.resourceFieldRef.resource", "env[].valueFrom.resourceFieldRef.containerName",
            "envFrom[].secretRef.name", "envFrom[].configMapRef.name", "volumeMounts[].name",
            "volumeMounts[].mountPath", "volumeMounts[].subPath", "volumeMounts[].mountPropagation",
            "resources.limits.*", "resources.requests.*", "restartPolicy", "terminationMessagePolicy"),
    **_under("securityContext", CONTAINER_SECURITY_CONTEXT),
}
POD_SPEC = {
    **_keep("serviceAccountName", "serviceAccount", "nodeName", "priorityClassName", "runtimeClassName",
            "restartPolicy", "dnsPolicy", "preemptionPolicy", "schedulerName", "imagePullSecrets[].name",
            "tolerations[].key", "tolerations[].operator", "tolerations[].effect", "volumes[].name",
            "volumes[].csi.driver", "volumes[].csi.nodePublishSecretRef.name", "volumes[].hostPath.path",
            "volumes[].hostPath.type", "volumes[].secret.secretName", "volumes[].secret.items[].key",
            "volumes[].secret.items[].path", "volumes[].configMap.name", "volumes[].emptyDir.medium",
            "volumes[].persistentVolumeClaim.claimName", "volumes[].projected.sources[].serviceAccountToken.audience",
            "volumes[].projected.sources[].serviceAccountToken.path", "volumes[].projected.sources[].secret.name",
            "volumes[].projected.sources[].configMap.name", "os.name"),
    "nodeSelector": LABELS,
    **_under("securityContext", POD_SECURITY_CONTEXT),
    **_under("containers[]", CONTAINER), **_under("initContainers[]", CONTAINER),
    **_under("ephemeralContainers[]", {**CONTAINER, "targetContainerName": KEEP}),
}
TEMPLATE = {**_under("metadata", OBJECT_META), **_under("spec", POD_SPEC)}
COMMON = {**_keep("apiVersion", "kind"), **_under("metadata", OBJECT_META)}
WORKLOAD = {**COMMON, "spec.selector": SELECTOR, **_under("spec.template", TEMPLATE)}
JOB = {**WORKLOAD, **_keep("status.startTime", "status.completionTime", "status.conditions[].type",
                           "status.conditions[].status")}
PEER = {"podSelector": SELECTOR, "namespaceSelector": SELECTOR, **_keep("ipBlock.cidr", "ipBlock.except[]")}
PORTS = _keep("ports[].protocol", "ports[].port")
RULES = _keep("apiGroups[]", "resources[]", "verbs[]", "resourceNames[]", "nonResourceURLs[]")
BINDING = {**COMMON, **_keep("roleRef.apiGroup", "roleRef.kind", "roleRef.name", "subjects[].kind",
                             "subjects[].name", "subjects[].namespace", "subjects[].apiGroup")}

K8S: dict[str, dict] = {
    "Namespace": {**COMMON, **_keep("status.phase")},
    "Node": {**COMMON, **_keep("spec.providerID", "spec.taints[].key", "spec.taints[].effect",
                               "status.nodeInfo.kubeletVersion",
                               "status.nodeInfo.kubeProxyVersion", "status.nodeInfo.osImage",
                               "status.nodeInfo.containerRuntimeVersion", "status.nodeInfo.kernelVersion",
                               "status.nodeInfo.operatingSystem", "status.nodeInfo.architecture", "status.addresses[].type", "status.addresses[].address")},
    "Pod": {**COMMON, **_under("spec", POD_SPEC),
            **_keep("status.phase", "status.containerStatuses[].name", "status.containerStatuses[].image",
                    "status.containerStatuses[].imageID", "status.initContainerStatuses[].name",
                    "status.initContainerStatuses[].image", "status.initContainerStatuses[].imageID")},
    "ServiceAccount": {**COMMON, **_keep("secrets[].name", "secrets[].namespace", "secrets[].kind",
                                         "imagePullSecrets[].name")},
    "Secret": {**COMMON, "type": KEEP, "data": SECRET_DATA, "stringData": SECRET_DATA},
    "ConfigMap": {**COMMON, "data": SECRET_DATA, "binaryData": SECRET_DATA},
    "Service": {**COMMON, "spec.selector": LABELS,
                **_keep("spec.type", "spec.clusterIP", "spec.clusterIPs[]", "spec.externalIPs[]",
                        "spec.loadBalancerSourceRanges[]", "spec.loadBalancerClass", "spec.externalTrafficPolicy",
                        "spec.internalTrafficPolicy", "spec.ipFamilies[]", "spec.ipFamilyPolicy",
                        "spec.sessionAffinity", "spec.ports[].name", "spec.ports[].protocol",
                        "spec.ports[].appProtocol", "spec.ports[].targetPort", "status.loadBalancer.ingress[].ip",
                        "status.loadBalancer.ingress[].hostname")},
    "Deployment": {**WORKLOAD, **_keep("spec.strategy.type")},
    "DaemonSet": {**WORKLOAD, **_keep("spec.updateStrategy.type")},
    "StatefulSet": {**WORKLOAD, **_keep("spec.updateStrategy.type", "spec.serviceName", "spec.podManagementPolicy")},
    "ReplicaSet": WORKLOAD,
    "Job": JOB,
    "CronJob": {**COMMON, **_keep("spec.schedule", "spec.timeZone", "spec.concurrencyPolicy",
                                  "status.lastScheduleTime", "status.lastSuccessfulTime"),
                **_under("spec.jobTemplate.metadata", OBJECT_META), "spec.jobTemplate.spec.selector": SELECTOR,
                **_under("spec.jobTemplate.spec.template", TEMPLATE)},
    "NetworkPolicy": {**COMMON, "spec.podSelector": SELECTOR, **_keep("spec.policyTypes[]"),
                      **_under("spec.ingress[].from[]", PEER), **_under("spec.ingress[]", PORTS),
                      **_under("spec.egress[].to[]", PEER), **_under("spec.egress[]", PORTS)},
    "Role": {**COMMON, **_under("rules[]", RULES)},
    "ClusterRole": {**COMMON, **_under("rules[]", RULES), "aggregationRule.clusterRoleSelectors[]": SELECTOR},
    "RoleBinding": BINDING,
    "ClusterRoleBinding": BINDING,
    "SecurityGroupPolicy": {**COMMON, "spec.podSelector": SELECTOR, "spec.serviceAccountSelector": SELECTOR,
                            **_keep("spec.securityGroups.groupIds[]")},
}
# kube-system/aws-auth: the IAM checks read its mappings; any other key or field is hashed.
AWS_AUTH = {**K8S["ConfigMap"], "data": None,
            "data.mapRoles": YAML(_keep("[].rolearn", "[].username", "[].groups[]")),
            "data.mapUsers": YAML(_keep("[].userarn", "[].username", "[].groups[]")),
            "data.mapAccounts": YAML(_keep("[]"))}

# ---- AWS ----------------------------------------------------------------------------------------------------

_POLICY_REFS = {**_keep("PolicyName", "PolicyArn")}
_INLINE = {"PolicyName": KEEP, "PolicyDocument": POLICY}
_BOUNDARY = _keep("PermissionsBoundary.PermissionsBoundaryType", "PermissionsBoundary.PermissionsBoundaryArn")
_ROLE = {**_keep("Path", "RoleName", "RoleId", "Arn", "CreateDate", "RoleLastUsed.LastUsedDate",
                 "RoleLastUsed.Region"),
         "AssumeRolePolicyDocument": POLICY, "Tags": TAGS, **_BOUNDARY}
_INSTANCE_PROFILE = {**_keep("Path", "InstanceProfileName", "InstanceProfileId", "Arn", "CreateDate"),
                     **_under("Roles[]", {**_ROLE})}
_SEVERITY_COUNTS = {"findingSeverityCounts.*": KEEP}
_SCAN_STATUS = _keep("imageScanStatus.status", "imageScanStatus.description")
_IMAGE_MANIFEST = JSON({
    **_keep("schemaVersion", "mediaType", "artifactType", "config.mediaType", "config.digest", "layers[].mediaType",
            "layers[].digest", "manifests[].mediaType", "manifests[].digest", "manifests[].platform.architecture",
            "manifests[].platform.os", "manifests[].platform.variant",
            "annotations.org\\.opencontainers\\.image\\.base\\.name",
            "annotations.org\\.opencontainers\\.image\\.base\\.digest"),
})
_LIFECYCLE = JSON(_keep("rules[].rulePriority", "rules[].selection.tagStatus", "rules[].selection.tagPrefixList[]",
                        "rules[].selection.countType", "rules[].selection.countUnit", "rules[].action.type"))
_SELECTOR_FIELDS = _keep("Field", "Equals[]", "StartsWith[]", "EndsWith[]", "NotEquals[]", "NotStartsWith[]",
                         "NotEndsWith[]")
_PERMISSION = {**_keep("IpProtocol", "IpRanges[].CidrIp", "Ipv6Ranges[].CidrIpv6", "PrefixListIds[].PrefixListId",
                       "UserIdGroupPairs[].GroupId", "UserIdGroupPairs[].GroupName", "UserIdGroupPairs[].UserId",
                       "UserIdGroupPairs[].VpcId", "UserIdGroupPairs[].PeeringStatus",
                       "UserIdGroupPairs[].VpcPeeringConnectionId")}
_ACL_OWNER = _keep("Owner.DisplayName", "Owner.ID")

AWS: dict[tuple[str, str], dict] = {
    ("sts", "GetCallerIdentity"): _keep("Account", "Arn", "UserId"),
    ("eks", "ListClusters"): _keep("clusters[]"),
    ("eks", "DescribeCluster"): {
        **_under("cluster", {
            **_keep("name", "arn", "version", "roleArn", "status", "platformVersion", "endpoint", "createdAt",
                    "certificateAuthority.data", "resourcesVpcConfig.vpcId", "resourcesVpcConfig.subnetIds[]",
                    "resourcesVpcConfig.securityGroupIds[]", "resourcesVpcConfig.clusterSecurityGroupId",
                    "resourcesVpcConfig.publicAccessCidrs[]", "logging.clusterLogging[].types[]",
                    "encryptionConfig[].resources[]", "encryptionConfig[].provider.keyArn", "identity.oidc.issuer",
                    "accessConfig.authenticationMode", "kubernetesNetworkConfig.serviceIpv4Cidr",
                    "kubernetesNetworkConfig.serviceIpv6Cidr", "kubernetesNetworkConfig.ipFamily",
                    "upgradePolicy.supportType"),
            "tags": TAG_MAP})},
    ("eks", "ListNodegroups"): _keep("nodegroups[]"),
    ("eks", "DescribeNodegroup"): _under("nodegroup", {
        **_keep("nodegroupName", "nodegroupArn", "clusterName", "version", "releaseVersion", "status",
                "capacityType", "instanceTypes[]", "subnets[]", "amiType", "nodeRole", "createdAt",
                "remoteAccess.ec2SshKey", "remoteAccess.sourceSecurityGroups[]",
                "resources.autoScalingGroups[].name", "resources.remoteAccessSecurityGroup", "launchTemplate.name",
                "launchTemplate.id", "launchTemplate.version", "taints[].key", "taints[].effect"),
        "labels": LABELS, "tags": TAG_MAP}),
    ("eks", "ListPodIdentityAssociations"): _keep(
        "associations[].clusterName", "associations[].namespace", "associations[].serviceAccount",
        "associations[].associationArn", "associations[].associationId", "associations[].ownerArn"),
    ("eks", "ListAccessEntries"): _keep("accessEntries[]"),
    ("eks", "ListAddons"): _keep("addons[]"),
    ("eks", "DescribeAddon"): _under("addon", {
        **_keep("addonName", "clusterName", "status", "addonVersion", "addonArn", "createdAt", "modifiedAt",
                "serviceAccountRoleArn", "podIdentityAssociations[]", "owner", "publisher"),
        "tags": TAG_MAP}),
    ("iam", "GetAccountAuthorizationDetails"): {
        **_under("UserDetailList[]", {
            **_keep("Path", "UserName", "UserId", "Arn", "CreateDate", "GroupList[]"),
            **_under("UserPolicyList[]", _INLINE), **_under("AttachedManagedPolicies[]", _POLICY_REFS),
            "Tags": TAGS, **_BOUNDARY}),
        **_under("GroupDetailList[]", {
            **_keep("Path", "GroupName", "GroupId", "Arn", "CreateDate"),
            **_under("GroupPolicyList[]", _INLINE), **_under("AttachedManagedPolicies[]", _POLICY_REFS)}),
        **_under("RoleDetailList[]", {
            **_ROLE, **_under("InstanceProfileList[]", _INSTANCE_PROFILE),
            **_under("RolePolicyList[]", _INLINE), **_under("AttachedManagedPolicies[]", _POLICY_REFS)}),
        **_under("Policies[]", {
            **_keep("PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "CreateDate", "UpdateDate",
                    "PermissionsBoundaryUsageCount"),
            **_keep("PolicyVersionList[].VersionId", "PolicyVersionList[].CreateDate"),
            "PolicyVersionList[].Document": POLICY}),
    },
    ("iam", "ListAccessKeys"): _keep("AccessKeyMetadata[].UserName", "AccessKeyMetadata[].AccessKeyId",
                                     "AccessKeyMetadata[].Status", "AccessKeyMetadata[].CreateDate"),
    ("iam", "GetLoginProfile"): _keep("LoginProfile.UserName", "LoginProfile.CreateDate"),
    ("iam", "ListMFADevices"): _keep("MFADevices[].UserName", "MFADevices[].SerialNumber", "MFADevices[].EnableDate"),
    ("iam", "ListOpenIDConnectProviders"): _keep("OpenIDConnectProviderList[].Arn"),
    ("ecr", "GetRepositoryPolicy"): {**_keep("registryId", "repositoryName"), "policyText": POLICY},
    ("ecr", "DescribeRepositories"): _under("repositories[]", _keep(
        "repositoryArn", "registryId", "repositoryName", "repositoryUri", "createdAt", "imageTagMutability",
        "imageTagMutabilityExclusionFilters[].filterType", "imageTagMutabilityExclusionFilters[].filter",
        "encryptionConfiguration.encryptionType", "encryptionConfiguration.kmsKey")),
    ("ecr", "GetRegistryScanningConfiguration"): _keep(
        "registryId", "scanningConfiguration.scanType", "scanningConfiguration.rules[].scanFrequency",
        "scanningConfiguration.rules[].repositoryFilters[].filter",
        "scanningConfiguration.rules[].repositoryFilters[].filterType"),
    ("ecr", "DescribeImages"): _under("imageDetails[]", {
        **_keep("registryId", "repositoryName", "imageDigest", "imageTags[]", "imagePushedAt",
                "imageManifestMediaType", "artifactMediaType", "lastRecordedPullTime", "imageStatus",
                "imageScanFindingsSummary.imageScanCompletedAt",
                "imageScanFindingsSummary.vulnerabilitySourceUpdatedAt"),
        **_SCAN_STATUS, **_under("imageScanFindingsSummary", _SEVERITY_COUNTS)}),
    ("ecr", "GetLifecyclePolicy"): {**_keep("registryId", "repositoryName", "lastEvaluatedAt"),
                                    "lifecyclePolicyText": _LIFECYCLE},
    ("ecr", "DescribeImageScanFindings"): {
        **_keep("registryId", "repositoryName", "imageId.imageDigest", "imageId.imageTag",
                "imageScanFindings.imageScanCompletedAt", "imageScanFindings.vulnerabilitySourceUpdatedAt",
                "imageScanFindings.findings[].name", "imageScanFindings.findings[].uri",
                "imageScanFindings.findings[].severity",
                "imageScanFindings.enhancedFindings[].severity", "imageScanFindings.enhancedFindings[].status",
                "imageScanFindings.enhancedFindings[].packageVulnerabilityDetails.vulnerabilityId"),
        **_SCAN_STATUS, **_under("imageScanFindings", _SEVERITY_COUNTS)},
    ("ecr", "BatchGetImage"): {
        **_keep("images[].registryId", "images[].repositoryName", "images[].imageId.imageDigest",
                "images[].imageId.imageTag", "images[].imageManifestMediaType", "failures[].imageId.imageDigest",
                "failures[].imageId.imageTag", "failures[].failureCode", "failures[].failureReason"),
        "images[].imageManifest": _IMAGE_MANIFEST},
    ("ecr", "ListTagsForResource"): {"tags": TAGS},
    ("logs", "DescribeLogGroups"): _under("logGroups[]", _keep(
        "logGroupName", "arn", "logGroupArn", "creationTime", "kmsKeyId", "logGroupClass", "dataProtectionStatus")),
    ("logs", "DescribeMetricFilters"): _under("metricFilters[]", _keep(
        "filterName", "filterPattern", "logGroupName", "creationTime", "metricTransformations[].metricName",
        "metricTransformations[].metricNamespace", "metricTransformations[].metricValue")),
    ("cloudwatch", "DescribeAlarms"): {
        **_under("MetricAlarms[]", _keep(
            "AlarmName", "AlarmArn", "AlarmActions[]", "OKActions[]", "InsufficientDataActions[]", "StateValue",
            "MetricName", "Namespace", "Statistic", "ComparisonOperator", "Dimensions[].Name", "Dimensions[].Value",
            "Metrics[].Id", "Metrics[].MetricStat.Metric.MetricName", "Metrics[].MetricStat.Metric.Namespace",
            "Metrics[].MetricStat.Metric.Dimensions[].Name", "Metrics[].MetricStat.Metric.Dimensions[].Value",
            "Metrics[].MetricStat.Stat", "Metrics[].Expression")),
        **_under("CompositeAlarms[]", _keep("AlarmName", "AlarmArn", "AlarmActions[]", "StateValue"))},
    ("cloudtrail", "DescribeTrails"): _under("trailList[]", _keep(
        "Name", "S3BucketName", "S3KeyPrefix", "SnsTopicName", "SnsTopicARN", "HomeRegion", "TrailARN",
        "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "KmsKeyId")),
    ("cloudtrail", "GetTrailStatus"): _keep(
        "LatestDeliveryError", "LatestNotificationError", "LatestDeliveryTime", "LatestNotificationTime",
        "StartLoggingTime", "StopLoggingTime", "LatestCloudWatchLogsDeliveryError",
        "LatestCloudWatchLogsDeliveryTime", "LatestDigestDeliveryTime", "LatestDigestDeliveryError"),
    ("cloudtrail", "GetEventSelectors"): {
        **_keep("TrailARN", "EventSelectors[].ReadWriteType", "EventSelectors[].DataResources[].Type",
                "EventSelectors[].DataResources[].Values[]", "EventSelectors[].ExcludeManagementEventSources[]",
                "AdvancedEventSelectors[].Name"),
        **_under("AdvancedEventSelectors[].FieldSelectors[]", _SELECTOR_FIELDS)},
    ("s3", "ListBuckets"): {**_keep("Buckets[].Name", "Buckets[].CreationDate", "Buckets[].BucketRegion"),
                            **_ACL_OWNER},
    ("s3", "GetBucketPolicy"): {"Policy": POLICY},
    ("s3", "GetBucketPolicyStatus"): {},
    ("s3", "GetBucketAcl"): {**_ACL_OWNER, **_keep(
        "Grants[].Grantee.DisplayName", "Grants[].Grantee.ID", "Grants[].Grantee.Type", "Grants[].Grantee.URI",
        "Grants[].Permission")},
    ("s3", "GetPublicAccessBlock"): {},
    ("s3", "GetObjectLockConfiguration"): _keep(
        "ObjectLockConfiguration.ObjectLockEnabled", "ObjectLockConfiguration.Rule.DefaultRetention.Mode"),
    ("s3", "GetBucketVersioning"): _keep("Status", "MFADelete"),
    ("guardduty", "ListDetectors"): _keep("DetectorIds[]"),
    ("guardduty", "GetDetector"): {
        **_keep("CreatedAt", "UpdatedAt", "ServiceRole", "Status", "FindingPublishingFrequency",
                "DataSources.CloudTrail.Status", "DataSources.DNSLogs.Status", "DataSources.FlowLogs.Status",
                "DataSources.S3Logs.Status", "DataSources.Kubernetes.AuditLogs.Status",
                "DataSources.MalwareProtection.ScanEc2InstanceWithFindings.EbsVolumes.Status",
                "Features[].Name", "Features[].Status", "Features[].UpdatedAt",
                "Features[].AdditionalConfiguration[].Name", "Features[].AdditionalConfiguration[].Status"),
        "Tags": TAG_MAP},
    ("ec2", "DescribeRegions"): _under("Regions[]", _keep("RegionName", "Endpoint", "OptInStatus")),
    ("ec2", "DescribeVpcs"): _under("Vpcs[]", {
        **_keep("VpcId", "CidrBlock", "State", "OwnerId", "IsDefault", "DhcpOptionsId", "InstanceTenancy",
                "CidrBlockAssociationSet[].CidrBlock", "CidrBlockAssociationSet[].AssociationId",
                "CidrBlockAssociationSet[].CidrBlockState.State", "Ipv6CidrBlockAssociationSet[].Ipv6CidrBlock",
                "Ipv6CidrBlockAssociationSet[].AssociationId", "Ipv6CidrBlockAssociationSet[].Ipv6CidrBlockState.State"),
        "Tags": TAGS}),
    ("ec2", "DescribeSecurityGroups"): _under("SecurityGroups[]", {
        **_keep("GroupId", "GroupName", "VpcId", "OwnerId", "SecurityGroupArn"),
        **_under("IpPermissions[]", _PERMISSION), **_under("IpPermissionsEgress[]", _PERMISSION), "Tags": TAGS}),
    ("ec2", "DescribeVpcEndpoints"): _under("VpcEndpoints[]", {
        **_keep("VpcEndpointId", "VpcEndpointType", "VpcId", "ServiceName", "State", "OwnerId", "CreationTimestamp",
                "Groups[].GroupId", "Groups[].GroupName", "SubnetIds[]", "RouteTableIds[]", "NetworkInterfaceIds[]",
                "DnsEntries[].DnsName", "DnsEntries[].HostedZoneId", "IpAddressType"),
        "PolicyDocument": POLICY, "Tags": TAGS}),
    ("ec2", "DescribeSubnets"): _under("Subnets[]", {
        **_keep("SubnetId", "SubnetArn", "VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId", "OwnerId",
                "State", "Ipv6CidrBlockAssociationSet[].Ipv6CidrBlock"),
        "Tags": TAGS}),
    ("elbv2", "DescribeLoadBalancers"): _under("LoadBalancers[]", _keep(
        "LoadBalancerArn", "DNSName", "CanonicalHostedZoneId", "CreatedTime", "LoadBalancerName", "Scheme", "VpcId",
        "State.Code", "Type", "AvailabilityZones[].ZoneName", "AvailabilityZones[].SubnetId", "SecurityGroups[]",
        "IpAddressType")),
    ("elbv2", "DescribeListeners"): _under("Listeners[]", _keep(
        "ListenerArn", "LoadBalancerArn", "Protocol", "SslPolicy", "Certificates[].CertificateArn", "AlpnPolicy[]",
        "DefaultActions[].Type", "DefaultActions[].TargetGroupArn", "DefaultActions[].RedirectConfig.Protocol",
        "DefaultActions[].RedirectConfig.Port", "DefaultActions[].RedirectConfig.StatusCode",
        "DefaultActions[].ForwardConfig.TargetGroups[].TargetGroupArn")),
    ("elbv2", "DescribeTags"): {"TagDescriptions[].ResourceArn": KEEP, "TagDescriptions[].Tags": TAGS},
    ("elbv2", "DescribeSSLPolicies"): _under("SslPolicies[]", _keep(
        "Name", "SslProtocols[]", "Ciphers[].Name", "SupportedLoadBalancerTypes[]")),
    ("kms", "DescribeKey"): _under("KeyMetadata", _keep(
        "AWSAccountId", "KeyId", "Arn", "CreationDate", "KeyUsage", "KeyState", "Origin", "KeyManager", "KeySpec",
        "CustomerMasterKeySpec", "EncryptionAlgorithms[]", "DeletionDate")),
    ("kms", "ListAliases"): _under("Aliases[]", _keep("AliasName", "AliasArn", "TargetKeyId", "CreationDate",
                                                     "LastUpdatedDate")),
    ("secretsmanager", "ListSecrets"): _under("SecretList[]", {
        **_keep("ARN", "Name", "KmsKeyId", "RotationLambdaARN", "RotationRules.ScheduleExpression",
                "RotationRules.Duration", "LastRotatedDate", "LastChangedDate", "LastAccessedDate", "DeletedDate",
                "NextRotationDate", "CreatedDate", "OwningService", "PrimaryRegion", "SecretVersionsToStages.*[]"),
        "Tags": TAGS}),
}
