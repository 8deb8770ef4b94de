"""Identity and the EKS clusters themselves: what every domain builds on."""

from . import each, step

step("sts", "GetCallerIdentity", scope="global")
step("eks", "ListClusters")
step("eks", "DescribeCluster", parent=("eks", "ListClusters"), fanout=each("clusters[]", "name"),
     cluster_param="name")
step("eks", "ListNodegroups", parent=("eks", "ListClusters"), fanout=each("clusters[]", "clusterName"),
     cluster_param="clusterName")
