"""Auditing and monitoring domain checks."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pandas as pd

from ..collect.steps.iam import GET_ACCOUNT_AUTHORIZATION_DETAILS
from ..collect.steps.logging import LIST_DETECTORS
from ..frames import Frames
from ..frames.core import ref
from ..frames.logging import BUCKET_READS, audited_by_region, covering
from ..policy import action_matches, resource_matches, statements
from . import check
from .common import finding

MANIFEST = "evidence/manifest.json"  # the evidence of a verdict about what was (not) collected


def _log_group_name(cluster: str) -> str:
    """The CloudWatch log group EKS sends a cluster's control-plane logs to."""
    return f"/aws/eks/{cluster}/cluster"


# ---- LOG-01: control-plane logs ----------------------------------------------------------------------------

KEY_LOG_TYPES = ["api", "audit", "authenticator"]
OTHER_LOG_TYPES = ["controllerManager", "scheduler"]


def _log_types_verdicts(c: dict) -> list[dict]:
    """The key log types (FAIL when any is off), and the other two at low severity when some is off."""
    missing = [t for t in KEY_LOG_TYPES if t not in c["log_types_enabled"]]
    out = [finding(c, "FAIL" if missing else "PASS", "cluster", c["arn"],
                   ("log types disabled: " + ", ".join(missing)) if missing
                   else "api, audit and authenticator logs enabled")]
    other = [t for t in OTHER_LOG_TYPES if t not in c["log_types_enabled"]]
    if other:
        out.append(finding(c, "FAIL", "cluster", c["arn"], "log types disabled: " + ", ".join(other),
                           severity="low"))
    return out


def _retention_verdict(c: dict, group: dict, days: int) -> dict:
    kept = group["retention_days"]
    if kept is None or pd.isna(kept):
        problem = "no retention set"
    elif int(kept) < days:
        problem = f"retention {int(kept)} days is under {days}"
    else:
        problem = ""
    return finding(c, "FAIL" if problem else "PASS", "log-group", group["name"],
                   problem or f"retention {int(kept)} days", evidence=group["evidence"], severity="medium")


def _log_group_kms_verdict(c: dict, group: dict) -> dict:
    key = group["kms_key_id"]
    return finding(c, "PASS" if key else "FAIL", "log-group", group["name"],
                   f"encrypted with KMS key {key}" if key else "not encrypted with a KMS key",
                   evidence=group["evidence"], severity="medium")


@check("LOG-01", domain="logging", title="EKS control-plane logs go to CloudWatch", severity="high",
       requirements=["R-LOG-1"], frames=("clusters", "log_groups"), params={"log_retention_days": 365},
       practice="The api, audit and authenticator control-plane logs (and ideally controllerManager and scheduler) "
                "are sent to a CloudWatch log group that is kept long enough and encrypted with KMS.",
       rationale="Without audit and authenticator logs nobody can tell who did what in the cluster; logs that "
                 "expire early or sit unencrypted fail incident response and compliance.",
       remediation="aws eks update-cluster-config --logging "
                   "'{\"clusterLogging\":[{\"types\":[\"api\",\"audit\",\"authenticator\",\"controllerManager\","
                   "\"scheduler\"],\"enabled\":true}]}'; set the log group's retention and KMS key.",
       references={"cis_eks": ["2.1.1"], "securityhub": ["EKS.8"],
                   "prowler": ["eks_control_plane_logging_all_types_enabled"]})
def control_plane_logs_to_cloudwatch(f: Frames, p: dict) -> pd.DataFrame:
    groups = {(g["region"], g["name"]): g for g in f.log_groups.to_dict("records")}
    rows = []
    for c in f.clusters.to_dict("records"):
        rows += _log_types_verdicts(c)
        name = _log_group_name(c["cluster"])
        group = groups.get((c["region"], name))
        if group is None:
            rows.append(finding(c, "FAIL", "log-group", name,
                                "the cluster's log group does not exist, so no control-plane log is kept"))
        else:
            rows += [_retention_verdict(c, group, p["log_retention_days"]), _log_group_kms_verdict(c, group)]
    return pd.DataFrame(rows)


# ---- LOG-02: CloudTrail records the EKS API ------------------------------------------------------------------


def _records(trail: dict, region: str) -> bool:
    """Whether a trail records a region: a multi-region trail, or one whose home is that region."""
    return bool(trail["multi_region"] or trail["home_region"] == region)


def _trail_gaps(t: dict) -> list[str]:
    gaps = []
    if t["is_logging"] is None:
        gaps.append("logging status not read")
    elif not t["is_logging"]:
        gaps.append("not logging (stopped)")
    if t["mgmt_reads"] is None:
        gaps.append("event selectors not read")
    else:
        if not t["mgmt_reads"]:
            gaps.append("management read events not recorded")
        if not t["mgmt_writes"]:
            gaps.append("management write events not recorded")
    if not t["log_validation"]:
        gaps.append("log file validation off")
    return gaps


def _trail_verdict(t: dict, covered: list[str]) -> dict:
    gaps = _trail_gaps(t)
    verdict = "; ".join(gaps) if gaps else "logging, all management events, validation on"
    covers = ", ".join(covered) + (", multi-region" if t["multi_region"] else "")
    return finding(t, "FAIL" if gaps else "PASS", "trail", t["arn"], f"{verdict} (covers {covers})",
                   severity="medium", region=t["home_region"])


def _region_verdict(account: str, region: str, clusters: list[str], trails: list[dict]) -> dict:
    """The region itself must be covered (a multi-region trail, or one whose home is this region): some trail
    elsewhere in the account proves nothing here."""
    good = [f"{t['name']} ({'multi-region' if t['multi_region'] else 'this region'} trail)" for t in trails
            if _records(t, region) and not _trail_gaps(t)]
    here = f"clusters here: {', '.join(clusters)}"
    reason = (f"covered by {', '.join(good)}, logging management read and write events with validation on "
              f"({here})" if good else
              f"no trail covers this region while logging all management events with validation on ({here})")
    return finding(None, "PASS" if good else "FAIL", "region", region, reason, evidence=MANIFEST,
                   account_id=account, region=region)


@check("LOG-02", domain="logging", title="CloudTrail records every EKS action", severity="high",
       requirements=["R-LOG-2"], frames=("clusters", "trails"),
       practice="Every region that runs an EKS cluster is covered by a CloudTrail trail that is logging, records "
                "management read and write events, and validates its log files.",
       rationale="EKS API calls (create, update, delete, access entries, add-ons) are management events; without "
                 "a working trail they leave no record, and without validation the record can be altered unseen.",
       remediation="Create a multi-region (ideally organization) trail recording all management events with log "
                   "file validation on: aws cloudtrail create-trail --is-multi-region-trail "
                   "--enable-log-file-validation ...; aws cloudtrail start-logging.",
       references={"securityhub": ["CloudTrail.1", "CloudTrail.4"], "prowler": ["cloudtrail_multi_region_enabled"]})
def cloudtrail_records_eks_actions(f: Frames, p: dict) -> pd.DataFrame:
    here = audited_by_region(f)
    regions = sorted(here)
    trails = f.trails.to_dict("records")
    rows = []
    for t in trails:
        covered = [r for r in regions if _records(t, r)]
        if covered:
            rows.append(_trail_verdict(t, covered))
    rows += [_region_verdict(f.evidence.account, r, here[r], trails) for r in regions]
    return pd.DataFrame(rows)


# ---- LOG-03: who can read or change the CloudTrail logs ------------------------------------------------

TRAIL_TAMPER_ACTIONS = ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                        "cloudtrail:PutEventSelectors"]
# A lifecycle rule can expire every log file as surely as deleting them, so it counts as rewriting the logs.
BUCKET_TAMPER_ACTIONS = ["s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"]
OBJECT_TAMPER_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
PUBLIC_GROUPS = {"http://acs.amazonaws.com/groups/global/AllUsers": "everyone (AllUsers)",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account (AuthenticatedUsers)"}
# Condition keys that tie a wildcard principal to a known account, organisation, source or network.
RESTRICTING_KEYS = {"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:principalorgid",
                    "aws:principalaccount", "aws:principalarn", "aws:sourcevpc", "aws:sourcevpce",
                    "aws:principalorgpaths", "aws:userid", "aws:username"}
READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]


# -- reading a bucket policy or ACL

def _as_list(value) -> list:
    """A policy field that may be one string or a list, as a list."""
    return [value] if isinstance(value, str) else list(value or [])


def _aws_principals(principal) -> list:
    """The AWS principals a statement names ("*" for anyone); service and federated principals are not AWS's."""
    if principal == "*":
        return ["*"]
    return _as_list(principal.get("AWS")) if isinstance(principal, dict) else []


def _condition_keys(statement: dict) -> set[str]:
    return {k.lower() for ops in (statement.get("Condition") or {}).values() if isinstance(ops, dict) for k in ops}


def _statement_label(statement: dict, i: int) -> str:
    return f"statement {statement.get('Sid') or '#' + str(i + 1)}"


def public_policy_statements(doc: dict) -> list[str]:
    """Allow statements of a bucket policy that let anyone read objects or list the bucket, in words."""
    out = []
    for i, s in enumerate(statements(doc)):
        anyone = "*" in _aws_principals(s.get("Principal")) or "NotPrincipal" in s  # all but a few = anyone
        if s.get("Effect") != "Allow" or not anyone or _condition_keys(s) & RESTRICTING_KEYS:
            continue
        if "NotAction" in s:
            hits = [a for a in READ_ACTIONS if not any(action_matches(p, a) for p in _as_list(s.get("NotAction")))]
        else:
            hits = [a for a in READ_ACTIONS if any(action_matches(p, a) for p in _as_list(s.get("Action")))]
        if hits:
            out.append(f"{_statement_label(s, i)} allows {', '.join(hits)} to Principal *")
    return out


def public_acl_grants(acl: dict) -> list[str]:
    """ACL grants to everyone or to any AWS account, in words."""
    out = []
    for g in acl.get("Grants") or []:
        who = PUBLIC_GROUPS.get((g.get("Grantee") or {}).get("URI", ""))
        if who:
            out.append(f"ACL grants {g.get('Permission', '')} to {who}")
    return out


# Tampering with the logs through a bucket policy: its Allow statements that name principals of this account
# (or anyone, unconditioned) and cover these actions on the bucket or its objects.
_POLICY_TAMPER = BUCKET_TAMPER_ACTIONS + OBJECT_TAMPER_ACTIONS


def _local_grantees(statement: dict, account: str) -> list[str]:
    """Whom an Allow statement grants to that this account's IAM does not already answer for: "*" (anyone,
    unconditioned) and this account's users and roles (the account root delegates to IAM policies, already
    evaluated)."""
    if statement.get("Effect") != "Allow" or "NotPrincipal" in statement:
        return []
    restricted = bool(_condition_keys(statement) & RESTRICTING_KEYS)
    who = []
    for v in _aws_principals(statement.get("Principal")):
        if v == "*" and not restricted:
            who.append("*")
        elif isinstance(v, str) and v.startswith(f"arn:aws:iam::{account}:") and not v.endswith(":root"):
            who.append(v)
    return who


def bucket_policy_tamper(doc, bucket: str, account: str) -> dict[str, list[str]]:
    """Principal (ARN, or "*" for anyone) -> what a bucket policy lets it do to the bucket or its logs."""
    out: dict[str, list[str]] = {}
    targets = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/AWSLogs/{account}/CloudTrail/log.json.gz"]
    for i, s in enumerate(statements(doc)):
        who = _local_grantees(s, account)
        if not who:
            continue
        acts, res = _as_list(s.get("Action")), _as_list(s.get("Resource"))
        hits = [a for a in _POLICY_TAMPER if any(action_matches(x, a) for x in acts)
                and any(resource_matches(r, t) for r in res for t in targets)]
        if hits:
            label = f"bucket policy of {bucket}, {_statement_label(s, i)}"
            for w in who:
                out.setdefault(w, []).append(f"{', '.join(hits)} on bucket {bucket} (via {label})")
    return out


# -- one trail bucket: public, held where, protected from deletion

def _present(value) -> dict | None:
    """A read response, or None when the read failed; absent markers become {}."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return {} if "__absent__" in value else value


def _unread(b: dict, names: list[str]) -> list[str]:
    return [f"{n.replace('_', ' ')} ({BUCKET_READS[n]} {b[n + '_error']})" for n in names if _present(b[n]) is None]


def _unreadable_verdict(b: dict, what: str, missing: list[str], severity: str | None = None) -> dict:
    """ERROR for a bucket of this account; MANUAL for a bucket held elsewhere (its owner must check)."""
    if b["in_account"] is False:
        return finding(b, "MANUAL", "s3-bucket", b["arn"], f"{what}: bucket held by {b['owner']}; not readable "
                       f"from this account ({'; '.join(missing)}): verify it in the owner account", severity=severity)
    return finding(b, "ERROR", "s3-bucket", b["arn"], f"could not verify {what}: {'; '.join(missing)}",
                   severity=severity)


def _public_exposure(b: dict, block: dict) -> list[str]:
    """What makes the bucket's logs readable by anyone, in words (a public access block setting cancels it)."""
    policy, acl, status = _present(b["policy"]), _present(b["acl"]), _present(b["policy_status"])
    restrict, ignore_acls = bool(block.get("RestrictPublicBuckets")), bool(block.get("IgnorePublicAcls"))
    exposed = []
    if policy and policy.get("Policy") and not restrict:
        try:
            exposed += public_policy_statements(policy["Policy"])
        except ValueError as exc:
            exposed.append(f"bucket policy could not be parsed ({exc}), so it cannot be shown to be private")
    if acl and not ignore_acls:
        exposed += public_acl_grants(acl)
    if status and (status.get("PolicyStatus") or {}).get("IsPublic") and not restrict:
        exposed.append("S3 reports the bucket policy as public")
    return exposed


def _public_access_verdict(b: dict) -> dict:
    pab = _present(b["public_access_block"])
    block = (pab or {}).get("PublicAccessBlockConfiguration") or {}
    exposed = _public_exposure(b, block)
    pab_words = "public access block " + ("on" if block and all(block.get(k) for k in (
        "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")) else "off or partial")
    if exposed:
        return finding(b, "FAIL", "s3-bucket", b["arn"],
                       f"trail logs publicly readable: {'; '.join(exposed)} ({pab_words})", severity="critical")
    if pab is not None and block.get("RestrictPublicBuckets") and block.get("IgnorePublicAcls"):
        return finding(b, "PASS", "s3-bucket", b["arn"], "not public: the public access block restricts public "
                       "policies and ignores public ACLs")
    if missing := _unread(b, ["policy", "acl", "public_access_block"]):
        return _unreadable_verdict(b, "public access to the trail logs", missing)
    return finding(b, "PASS", "s3-bucket", b["arn"],
                   f"not public: no policy statement or ACL grant for anyone ({pab_words})")


def _holder_verdict(b: dict) -> dict:
    if b["in_account"] is None:
        return finding(b, "ERROR", "s3-bucket", b["arn"], f"could not tell who holds the bucket: {b['owner']}")
    if b["in_account"]:
        return finding(b, "FAIL", "s3-bucket", b["arn"], "trail logs kept in the audited account itself: its "
                       "administrators can alter them; send them to a separate log or management account",
                       severity="medium")
    return finding(b, "PASS", "s3-bucket", b["arn"], f"trail logs kept outside this account: held by {b['owner']}")


def _deletion_verdict(b: dict) -> dict:
    lock, versioning = _present(b["object_lock"]), _present(b["versioning"])
    locked = ((lock or {}).get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
    mfa = (versioning or {}).get("MFADelete") == "Enabled"
    if locked or mfa:
        return finding(b, "PASS", "s3-bucket", b["arn"], "log files protected from deletion: "
                       + ("object lock on" if locked else "MFA delete on"), severity="medium")
    if missing := _unread(b, ["object_lock", "versioning"]):
        return _unreadable_verdict(b, "object lock or MFA delete", missing, severity="medium")
    return finding(b, "FAIL", "s3-bucket", b["arn"], "neither object lock nor MFA delete: log files can be "
                   "deleted or overwritten for good", severity="medium")


def _bucket_verdicts(b: dict) -> list[dict]:
    """Public exposure, location and delete protection of one trail bucket."""
    if not b["exists"]:
        return [finding(b, "FAIL", "s3-bucket", b["arn"], "the trail writes to a bucket that does not exist (S3 "
                        "answered NoSuchBucket): no log file is delivered, and whoever creates a bucket with this "
                        "name would receive them", severity="critical")]
    return [_public_access_verdict(b), _holder_verdict(b), _deletion_verdict(b)]


def _trail_encryption_verdict(t: dict) -> dict:
    key = t["kms_key_id"]
    return finding(t, "PASS" if key else "FAIL", "trail", t["arn"],
                   f"log files encrypted with KMS key {key}" if key else
                   "log files not encrypted with a KMS key (only S3-managed encryption)",
                   severity="medium", region=t["home_region"])


# -- who may stop the trails or delete and rewrite their logs

def _grant_words(g) -> str:
    """Which statement allows it: the policy, and the statement's Sid or (without one) its Action and Resource."""
    where = g.policy_name or g.policy_arn or "policy"
    kind = "managed policy" if g.source.endswith("managed") else "inline policy"
    owner = f" of group {g.source[6:].split('/', 1)[0]}" if g.source.startswith("group:") else ""
    if g.sid:
        stmt = f"statement {g.sid}"
    else:
        acts = ("NotAction " + ",".join(g.not_actions)) if g.not_actions else ",".join(g.actions)
        res = ("NotResource " + ",".join(g.not_resources)) if g.not_resources else ",".join(g.resources)
        stmt = f"statement Allow {acts} on {res}"
    return f"{kind} {where}{owner}, {stmt}" + (" (with a condition)" if g.has_condition else "")


def tamper_grants(auth, trail_arns: list[str], buckets: list[str], account: str) -> dict[str, list[str]]:
    """Principal ARN -> what it may do to the trails or their logs, one entry per allowing statement
    ("<statement>: <actions> on <targets>; ...").

    Service-linked roles (AWS-managed) and groups (their members are users, which carry the group's policies)
    are left out. Object deletion is asked for both any object and a log file under the CloudTrail prefix, so a
    statement scoped to AWSLogs/ is caught too.
    """
    principals = {p["arn"]: p for p in auth.principals()}
    questions: list[tuple[str, str, str]] = []  # (action, resource, target in words)
    for arn in trail_arns:
        label = "trail " + arn.rsplit("/", 1)[-1]
        questions += [(a, arn, label) for a in TRAIL_TAMPER_ACTIONS]
    for b in buckets:
        questions += [(a, f"arn:aws:s3:::{b}", f"bucket {b}") for a in BUCKET_TAMPER_ACTIONS]
        for obj in (f"arn:aws:s3:::{b}/*", f"arn:aws:s3:::{b}/AWSLogs/{account}/CloudTrail/log.json.gz"):
            questions += [(a, obj, f"logs in {b}") for a in OBJECT_TAMPER_ACTIONS]
    found: dict[str, dict[str, dict[str, list[str]]]] = {}  # principal -> statement -> action -> targets
    for action, resource, label in questions:
        for arn, grants in auth.who_can(action, resource).items():
            p = principals.get(arn, {})
            if p.get("type") == "group" or p.get("service_linked"):
                continue
            for g in grants:
                targets = found.setdefault(arn, {}).setdefault(_grant_words(g), {}).setdefault(action, [])
                if label not in targets:
                    targets.append(label)
    out: dict[str, list[str]] = {}
    for arn, by_statement in found.items():
        for stmt, by_action in by_statement.items():
            groups: dict[tuple[str, ...], list[str]] = {}
            for action, targets in by_action.items():
                groups.setdefault(tuple(targets), []).append(action)
            what = "; ".join(f"{', '.join(actions)} on {', '.join(targets)}" for targets, actions in groups.items())
            out.setdefault(arn, []).append(f"{what} (via {stmt})")
    return out


def _bucket_policy_grants(buckets: list[dict], local: list[str], account: str
                          ) -> tuple[dict[str, list[str]], dict[str, str], list[str]]:
    """What the log buckets' own policies let principals of this account do (a bucket policy can grant access
    their identity policies do not): principal -> grants, principal -> the granting bucket's evidence, and the
    bucket policies that could not be read."""
    granted: dict[str, list[str]] = {}
    evidence: dict[str, str] = {}
    unread: list[str] = []
    for b in buckets:
        if b["bucket"] not in local or not b["exists"]:
            continue
        policy = _present(b["policy"])
        if policy is None:
            unread.append(f"bucket policy of {b['bucket']}: {b['policy_error']}")
            continue
        try:
            by_principal = bucket_policy_tamper(policy.get("Policy") or {}, b["bucket"], account)
        except ValueError as exc:
            unread.append(f"bucket policy of {b['bucket']} could not be parsed ({exc})")
            continue
        for who, what in by_principal.items():
            granted.setdefault(who, []).extend(what)
            evidence.setdefault(who, b["evidence"])
    return granted, evidence, unread


def _allowed_principal(arn: str, allow: list[str]) -> bool:
    return any(fnmatchcase(arn, pat) for pat in allow)


def _tamperer_verdict(auth, account: str, arn: str, what: list[str], allow: list[str], in_iam: bool,
                      evidence: str | None) -> dict:
    """PASS for a named log administrator; FAIL for anyone else, with what could narrow the grant."""
    if _allowed_principal(arn, allow):
        return finding(None, "PASS", "iam-principal", arn, "log administrator (in log_admin_principals): "
                       + "; ".join(what), evidence=evidence, account_id=account)
    limits = [x for x in (auth.boundary_note(arn) if in_iam else "",
                          "SCPs could narrow this but are not readable from a member account") if x]
    return finding(None, "FAIL", "iam-principal", arn, "can stop the trail or delete/rewrite its logs: "
                   + "; ".join(what) + f" ({'; '.join(limits)})", evidence=evidence, account_id=account)


def _no_tamperer_verdict(account: str, trails: int, regions: list[str], unread: list[str]) -> dict:
    scope = (f"the {trails} trail(s) recording {', '.join(regions)} (the audited clusters' regions) or "
             "delete/rewrite their logs")
    if unread:
        return finding(None, "ERROR", "account", account,
                       f"no IAM policy lets a principal outside log_admin_principals stop {scope}, but a bucket "
                       "policy that could grant it was not read: " + "; ".join(unread),
                       evidence=MANIFEST, account_id=account)
    return finding(None, "PASS", "account", account,
                   f"no IAM user or role outside log_admin_principals may stop {scope}: identity policies within "
                   "permissions boundaries, and the log buckets' policies (buckets held by another account are "
                   "governed there)", evidence=MANIFEST, account_id=account)


def _tamper_verdicts(f: Frames, trails: pd.DataFrame, buckets: list[dict], allow: list[str],
                     regions: list[str]) -> list[dict]:
    """A row per principal that may stop the trails or delete/rewrite their logs, or one account row saying
    nobody outside the log administrators may."""
    account = f.evidence.account
    gaad = f.evidence.responses(GET_ACCOUNT_AUTHORIZATION_DETAILS)
    if not gaad:
        return [finding(None, "ERROR", "account", account, "could not verify who can tamper with the logs: IAM "
                        f"authorization details ({GET_ACCOUNT_AUTHORIZATION_DETAILS}) not collected",
                        evidence=MANIFEST, account_id=account)]
    gaad_ref = ref(gaad[0][0])
    auth = f.iam_auth
    # An identity policy here cannot reach a bucket held by another account on its own (the bucket policy
    # decides there), so object and bucket-policy rights are asked only of buckets not known to be elsewhere.
    local = [b["bucket"] for b in buckets if b["in_account"] is not False]
    found = tamper_grants(auth, list(trails["arn"]), local, account)
    granted, evidence, unread = _bucket_policy_grants(buckets, local, account)
    for who, what in granted.items():
        found.setdefault(who, []).extend(what)
    principals = {x["arn"] for x in auth.principals()}
    rows = []
    for arn, what in sorted(found.items()):
        in_iam = arn in principals  # else named by a bucket policy only
        where = gaad_ref + "#" + arn.rsplit("/", 1)[-1] if in_iam else evidence.get(arn)
        rows.append(_tamperer_verdict(auth, account, arn, what, allow, in_iam, where))
    if not any(r["status"] == "FAIL" for r in rows):
        rows.append(_no_tamperer_verdict(account, len(trails), regions, unread))
    return rows


@check("LOG-03", domain="logging", title="CloudTrail logs readable and changeable only by a few", severity="high",
       requirements=["R-LOG-3"], frames=("clusters", "trail_configs", "trail_buckets", "iam_auth"),
       params={"log_admin_principals": []},
       practice="The trail's S3 bucket is not public, lives in a separate log or management account, keeps log "
                "files from deletion (object lock or MFA delete), the trail is KMS-encrypted, and only a short, "
                "named list of principals may stop the trail or delete and rewrite its logs.",
       rationale="Whoever can stop a trail or delete its files can hide what they did on the cluster; public logs "
                 "tell an attacker everything about the account.",
       remediation="Deliver trails to a bucket in a dedicated log account with the public access block on and "
                   "object lock (or MFA delete); encrypt the trail with a KMS key (aws cloudtrail update-trail "
                   "--kms-key-id ...); remove cloudtrail:StopLogging/DeleteTrail/UpdateTrail/PutEventSelectors and "
                   "s3:DeleteObject*/PutBucketPolicy on the log bucket from everyone but the log administrators "
                   "(list them in the log_admin_principals parameter), or deny them with an SCP.",
       references={"securityhub": ["CloudTrail.2", "CloudTrail.6", "S3.2"],
                   "prowler": ["cloudtrail_logs_s3_bucket_is_not_publicly_accessible",
                               "cloudtrail_kms_encryption_enabled"]})
def cloudtrail_logs_guarded(f: Frames, p: dict) -> pd.DataFrame:
    allow = _as_list(p["log_admin_principals"])
    regions = sorted(audited_by_region(f))
    trails = covering(f.trail_configs, regions)
    buckets = f.trail_buckets
    buckets = buckets[buckets["bucket"].isin(set(trails["bucket"]))] if not trails.empty else buckets.iloc[0:0]
    buckets = buckets.to_dict("records")
    rows = [_trail_encryption_verdict(t) for t in trails.to_dict("records")]
    for b in buckets:
        rows += _bucket_verdicts(b)
    if not trails.empty:
        rows += _tamper_verdicts(f, trails, buckets, allow, regions)
    return pd.DataFrame(rows)


# ---- LOG-04: GuardDuty watches the clusters ----------------------------------------------------------


def _audit_log_verdict(d: dict, rid: str) -> dict:
    on = d["eks_audit_logs"] == "ENABLED"
    return finding(d, "PASS" if on else "FAIL", "guardduty-detector", rid + "/EKS_AUDIT_LOGS",
                   "EKS audit-log monitoring enabled" if on else
                   f"EKS audit-log monitoring {d['eks_audit_logs'] or 'not reported (off)'}: the Kubernetes audit "
                   "log is not analysed")


def _runtime_verdict(d: dict, rid: str) -> dict:
    rid += "/RUNTIME_MONITORING"
    if d["runtime_monitoring"] != "ENABLED":
        state = d["runtime_monitoring"] or "not reported (off)"
        return finding(d, "FAIL", "guardduty-detector", rid, f"runtime monitoring {state}: process, file and "
                       "network activity on the nodes is not analysed", severity="medium")
    if d["eks_addon_management"] == "ENABLED":
        return finding(d, "PASS", "guardduty-detector", rid, "runtime monitoring enabled, with the EKS agent "
                       "add-on managed by GuardDuty", severity="medium")
    return finding(d, "MANUAL", "guardduty-detector", rid, "runtime monitoring enabled but GuardDuty does not "
                   "manage the EKS agent: confirm the aws-guardduty-agent add-on runs on every cluster",
                   severity="medium")


def _detector_verdicts(d: dict) -> list[dict]:
    rid = f"guardduty:{d['region']}:{d['detector_id'] or 'none'}"
    if not d["detector_id"]:
        return [finding(d, "FAIL", "guardduty-detector", rid, "GuardDuty is not enabled in this region: no "
                        "detector, so neither EKS audit logs nor runtime activity are monitored")]
    if d["status"] is None:
        return []  # GetDetector failed: the engine reports the cause for this region
    if d["status"] != "ENABLED":
        return [finding(d, "FAIL", "guardduty-detector", rid,
                        f"GuardDuty detector is {d['status'] or 'in an unknown state'}, not ENABLED")]
    return [_audit_log_verdict(d, rid), _runtime_verdict(d, rid)]


@check("LOG-04", domain="logging", title="GuardDuty monitors EKS audit logs and runtime", severity="high",
       requirements=["R-LOG-1"], frames=("clusters", "guardduty_detectors"),
       practice="In every region that runs an EKS cluster, GuardDuty is enabled with EKS audit-log monitoring and "
                "runtime monitoring (with the EKS agent managed by GuardDuty or deployed on every cluster).",
       rationale="Control-plane logs nobody reads catch nothing: GuardDuty turns the audit log and node runtime "
                 "activity into findings such as anonymous access, exec into kube-system pods or crypto mining.",
       remediation="aws guardduty create-detector --enable (or update-detector) --features "
                   "'[{\"Name\":\"EKS_AUDIT_LOGS\",\"Status\":\"ENABLED\"},{\"Name\":\"RUNTIME_MONITORING\","
                   "\"Status\":\"ENABLED\",\"AdditionalConfiguration\":[{\"Name\":\"EKS_ADDON_MANAGEMENT\","
                   "\"Status\":\"ENABLED\"}]}]'; in an organization, enable it from the delegated administrator.",
       references={"securityhub": ["GuardDuty.1", "GuardDuty.5", "GuardDuty.7"],
                   "prowler": ["guardduty_is_enabled", "guardduty_eks_audit_log_enabled"]})
def guardduty_monitors_eks(f: Frames, p: dict) -> pd.DataFrame:
    det = f.guardduty_detectors
    rows = []
    for region in sorted(audited_by_region(f)):
        here = det[det["region"] == region]
        if not here.empty:
            for d in here.to_dict("records"):
                rows += _detector_verdicts(d)
        elif not any(e.get("region") == region for e in f.evidence.errors(LIST_DETECTORS)):
            # (a failed ListDetectors is reported by the engine, with its cause)
            rows.append(finding(None, "ERROR", "guardduty-detector", f"guardduty:{region}", "could not verify: "
                                f"GuardDuty detectors of this region ({LIST_DETECTORS}) were not collected",
                                evidence=MANIFEST, region=region))
    return pd.DataFrame(rows)


# ---- LOG-05: alarms on the cluster's audit events ----------------------------------------------------

ALARM_GUIDANCE = ("add metric filters with alarms on the cluster's log group for audit events that need a human, "
                  "e.g. 401/403 responses, anonymous (system:anonymous) requests, changes to the aws-auth ConfigMap "
                  "or access entries, bindings to cluster-admin, and exec/attach into pods")


def _alarm_verdict(c: dict, group: str, filters: pd.DataFrame, alarms: pd.DataFrame) -> dict:
    """FAIL unless some metric filter on the log group feeds an alarm with actions."""
    if filters.empty:
        return finding(c, "FAIL", "log-group", group,
                       f"no metric filter or alarm on the cluster's log group: {ALARM_GUIDANCE}")
    watched = alarms[(alarms["region"] == c["region"]) & alarms["metric"].isin(set(filters["metric"]) - {""})]
    live = watched[watched["actions_enabled"] & watched["has_actions"]]
    listed = ", ".join(f"{r.name} ({r.pattern or 'all events'})" for r in filters.itertuples(index=False))
    if live.empty:
        return finding(c, "FAIL", "log-group", group, f"metric filters {listed} but no alarm with actions watches "
                       f"their metrics: {ALARM_GUIDANCE}", evidence=filters["evidence"].iloc[0])
    return finding(c, "PASS", "log-group", group, f"metric filters {listed} feed alarms "
                   f"{', '.join(sorted(set(live['name'])))} that notify; review that the patterns cover the events "
                   "your team needs", evidence=live["evidence"].iloc[0])


@check("LOG-05", domain="logging", title="Alarms on the cluster's audit events", severity="medium",
       requirements=["R-LOG-1"], frames=("clusters", "log_groups", "metric_filters", "alarms"),
       practice="The cluster's CloudWatch log group has metric filters on security-relevant audit events, each "
                "watched by an alarm that notifies someone.",
       rationale="Logs are evidence after the fact; an alarm on suspicious audit events is what shortens the time "
                 "an intruder stays unnoticed. Which events matter depends on the team: the check proves that "
                 "something watches the log and notifies; a person reviews the patterns.",
       remediation="aws logs put-metric-filter --log-group-name /aws/eks/<cluster>/cluster --filter-pattern "
                   "'{ $.responseStatus.code = 403 }' ...; aws cloudwatch put-metric-alarm ... --alarm-actions "
                   "<SNS topic>. Review the patterns with the team that answers the alarms.",
       references={})
def alarms_on_cluster_audit_events(f: Frames, p: dict) -> pd.DataFrame:
    groups = set(zip(f.log_groups["region"], f.log_groups["name"]))
    mf, al = f.metric_filters, f.alarms
    rows = []
    for c in f.clusters.to_dict("records"):
        name = _log_group_name(c["cluster"])
        if (c["region"], name) in groups:
            filters = mf[(mf["region"] == c["region"]) & (mf["log_group"] == name)]
            rows.append(_alarm_verdict(c, name, filters, al))
        else:
            rows.append(finding(c, "NOT_APPLICABLE", "log-group", name,
                                "the cluster has no log group to watch (see LOG-01)"))
    return pd.DataFrame(rows)
