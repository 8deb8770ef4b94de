"""Identity and the EKS clusters themselves: what every domain builds on.

The inventory steps (inventory=True) are read account-wide whatever --cluster and --region select: the enabled
regions, every cluster in each of them, and every cluster's managed node groups. They are small, and verdicts that
compare against the rest of the account (a role no other cluster uses) need all of them.
"""

from . import each, step

GET_CALLER_IDENTITY = step("sts", "GetCallerIdentity", scope="global").input
# Enabled regions only (AllRegions false): a region not opted in can hold no cluster.
DESCRIBE_REGIONS = step("ec2", "DescribeRegions", scope="global", params={"AllRegions": False}, inventory=True).input
LIST_CLUSTERS = step("eks", "ListClusters", inventory=True).input
DESCRIBE_CLUSTER = step("eks", "DescribeCluster", parent=("eks", "ListClusters"), fanout=each("clusters[]", "name"),
     cluster_param="name", inventory=True).input
LIST_NODEGROUPS = step("eks", "ListNodegroups", parent=("eks", "ListClusters"), fanout=each("clusters[]", "clusterName"),
     cluster_param="clusterName", inventory=True).input
