"""AWS reads for the IAM domain.

IAM is read once, whole, with GetAccountAuthorizationDetails; per-user calls only add what GAAD lacks (access
keys, console passwords, MFA devices). EKS identity settings (pod identity, access entries, add-ons, node groups)
and ECR repository policies complete the picture.
"""

from __future__ import annotations

from . import each, step

_GAAD = ("iam", "GetAccountAuthorizationDetails")
_USERS = each("UserDetailList[].UserName", "UserName")
_CLUSTERS = each("clusters[]", "clusterName")

GET_ACCOUNT_AUTHORIZATION_DETAILS = step("iam", "GetAccountAuthorizationDetails", scope="global").input
LIST_ACCESS_KEYS = step("iam", "ListAccessKeys", scope="global", parent=_GAAD, fanout=_USERS).input
GET_LOGIN_PROFILE = step("iam", "GetLoginProfile", scope="global", parent=_GAAD, fanout=_USERS, absent_codes=("NoSuchEntity",)).input
LIST_MFA_DEVICES = step("iam", "ListMFADevices", scope="global", parent=_GAAD, fanout=_USERS).input
LIST_OPEN_ID_CONNECT_PROVIDERS = step("iam", "ListOpenIDConnectProviders", scope="global").input

LIST_POD_IDENTITY_ASSOCIATIONS = step("eks", "ListPodIdentityAssociations", parent=("eks", "ListClusters"), fanout=_CLUSTERS,
     cluster_param="clusterName").input
LIST_ACCESS_ENTRIES = step("eks", "ListAccessEntries", parent=("eks", "ListClusters"), fanout=_CLUSTERS, cluster_param="clusterName").input
LIST_ADDONS = step("eks", "ListAddons", parent=("eks", "ListClusters"), fanout=_CLUSTERS, cluster_param="clusterName").input


def per_cluster(list_key: str, param: str):
    """Fan out over a per-cluster list (ListNodegroups, ListAddons) whose response does not name its cluster.

    The collector calls fan-outs with (parent_response, region); the cluster name is a parameter of the parent
    call, not part of its response, so it is taken from ``parent_params`` when the collector passes them (or
    from a ``clusterName`` the response may carry). Without it no call can be made: the frames then report the
    listed items as not described, and the checks that need them ERROR.
    """

    def fan(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
        cluster = (parent_params or {}).get("clusterName") or data.get("clusterName")
        if not cluster:
            return []
        return [{"clusterName": cluster, param: name} for name in data.get(list_key) or [] if name]

    return fan


DESCRIBE_NODEGROUP = step("eks", "DescribeNodegroup", parent=("eks", "ListNodegroups"), fanout=per_cluster("nodegroups", "nodegroupName"),
     cluster_param="clusterName", inventory=True).input
DESCRIBE_ADDON = step("eks", "DescribeAddon", parent=("eks", "ListAddons"), fanout=per_cluster("addons", "addonName"),
     cluster_param="clusterName").input

GET_REPOSITORY_POLICY = step("ecr", "GetRepositoryPolicy", parent=("ecr", "DescribeRepositories"),
     fanout=each("repositories[].repositoryName", "repositoryName"), absent_codes=("RepositoryPolicyNotFoundException",)).input
