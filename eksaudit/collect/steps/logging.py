"""AWS reads for the logging domain: CloudWatch log groups and CloudTrail."""

from . import each, step

step("logs", "DescribeLogGroups")
step("cloudtrail", "DescribeTrails")
step("cloudtrail", "GetTrailStatus", parent=("cloudtrail", "DescribeTrails"), fanout=each("trailList[].TrailARN", "Name"))
step("cloudtrail", "GetEventSelectors", parent=("cloudtrail", "DescribeTrails"),
     fanout=each("trailList[].TrailARN", "TrailName"))
