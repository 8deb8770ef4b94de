"""AWS reads for the logging domain: CloudWatch log groups, CloudTrail and its buckets, GuardDuty, alarms."""

from __future__ import annotations

from . import each, step

DESCRIBE_LOG_GROUPS = step("logs", "DescribeLogGroups").input
DESCRIBE_METRIC_FILTERS = step("logs", "DescribeMetricFilters").input
DESCRIBE_ALARMS = step("cloudwatch", "DescribeAlarms").input
DESCRIBE_TRAILS = step("cloudtrail", "DescribeTrails").input
GET_TRAIL_STATUS = step("cloudtrail", "GetTrailStatus", parent=("cloudtrail", "DescribeTrails"), fanout=each("trailList[].TrailARN", "Name")).input
GET_EVENT_SELECTORS = step("cloudtrail", "GetEventSelectors", parent=("cloudtrail", "DescribeTrails"),
     fanout=each("trailList[].TrailARN", "TrailName")).input


def trail_buckets(data: dict, region: str, parent_params: dict | None = None) -> list[dict]:
    """One call per distinct bucket named by the trails a region lists (shadow copies of multi-region trails
    included, so a trail whose home region is not audited still has its bucket read)."""
    out: list[str] = []
    for t in data.get("trailList") or []:
        name = t.get("S3BucketName")
        if name and name not in out:
            out.append(name)
    return [{"Bucket": b} for b in out]


_TRAILS = ("cloudtrail", "DescribeTrails")
# The account's own buckets: a trail bucket missing from this list is held by another account.
LIST_BUCKETS = step("s3", "ListBuckets", scope="global").input
GET_BUCKET_POLICY = step("s3", "GetBucketPolicy", parent=_TRAILS, fanout=trail_buckets, absent_codes=("NoSuchBucketPolicy",)).input
GET_BUCKET_POLICY_STATUS = step("s3", "GetBucketPolicyStatus", parent=_TRAILS, fanout=trail_buckets, absent_codes=("NoSuchBucketPolicy",)).input
GET_BUCKET_ACL = step("s3", "GetBucketAcl", parent=_TRAILS, fanout=trail_buckets).input
GET_PUBLIC_ACCESS_BLOCK = step("s3", "GetPublicAccessBlock", parent=_TRAILS, fanout=trail_buckets,
     absent_codes=("NoSuchPublicAccessBlockConfiguration",)).input
GET_OBJECT_LOCK_CONFIGURATION = step("s3", "GetObjectLockConfiguration", parent=_TRAILS, fanout=trail_buckets,
     absent_codes=("ObjectLockConfigurationNotFoundError",)).input
GET_BUCKET_VERSIONING = step("s3", "GetBucketVersioning", parent=_TRAILS, fanout=trail_buckets).input

LIST_DETECTORS = step("guardduty", "ListDetectors").input
GET_DETECTOR = step("guardduty", "GetDetector", parent=("guardduty", "ListDetectors"), fanout=each("DetectorIds[]", "DetectorId")).input
