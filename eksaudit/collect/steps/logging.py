"""AWS reads for the logging domain: CloudWatch log groups, CloudTrail and its buckets, GuardDuty, alarms."""

from __future__ import annotations

from . import each, step

step("logs", "DescribeLogGroups")
step("logs", "DescribeMetricFilters")
step("cloudwatch", "DescribeAlarms")
step("cloudtrail", "DescribeTrails")
step("cloudtrail", "GetTrailStatus", parent=("cloudtrail", "DescribeTrails"), fanout=each("trailList[].TrailARN", "Name"))
step("cloudtrail", "GetEventSelectors", parent=("cloudtrail", "DescribeTrails"),
     fanout=each("trailList[].TrailARN", "TrailName"))


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
step("s3", "ListBuckets", scope="global")
step("s3", "GetBucketPolicy", parent=_TRAILS, fanout=trail_buckets, absent_codes=("NoSuchBucketPolicy",))
step("s3", "GetBucketPolicyStatus", parent=_TRAILS, fanout=trail_buckets, absent_codes=("NoSuchBucketPolicy",))
step("s3", "GetBucketAcl", parent=_TRAILS, fanout=trail_buckets)
step("s3", "GetPublicAccessBlock", parent=_TRAILS, fanout=trail_buckets,
     absent_codes=("NoSuchPublicAccessBlockConfiguration",))
step("s3", "GetObjectLockConfiguration", parent=_TRAILS, fanout=trail_buckets,
     absent_codes=("ObjectLockConfigurationNotFoundError",))
step("s3", "GetBucketVersioning", parent=_TRAILS, fanout=trail_buckets)

step("guardduty", "ListDetectors")
step("guardduty", "GetDetector", parent=("guardduty", "ListDetectors"), fanout=each("DetectorIds[]", "DetectorId"))
