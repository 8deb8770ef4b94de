"""Auditing and monitoring domain checks."""

from __future__ import annotations

import pandas as pd

from ..frames import Frames
from ..frames.core import ref
from ..frames.logging import BUCKET_READS
from . import check

GAAD = "aws:iam:GetAccountAuthorizationDetails"  # read through the iam_auth frame
KEY_LOG_TYPES = ["api", "audit", "authenticator"]


def _audited_by_region(f: Frames) -> dict[str, list[str]]:
    """Region -> the audited clusters there: the regions whose trails and detectors a verdict is about (the
    clusters frame lists every cluster of the account; the others' regions were not read)."""
    out: dict[str, list[str]] = {}
    for c in f.clusters[f.clusters["audited"]].itertuples(index=False):
        out.setdefault(c.region, []).append(c.cluster)
    return {r: sorted(n) for r, n in out.items()}
OTHER_LOG_TYPES = ["controllerManager", "scheduler"]


@check("LOG-01", domain="logging", title="EKS control-plane logs go to CloudWatch", severity="high",
       requirements=["R-LOG-1"], frames=("clusters", "log_groups"), params={"log_retention_days": 365},
       practice="The api, audit and authenticator control-plane logs (and ideally controllerManager and scheduler) "
                "are sent to a CloudWatch log group that is kept long enough and encrypted with KMS.",
       rationale="Without audit and authenticator logs nobody can tell who did what in the cluster; logs that "
                 "expire early or sit unencrypted fail incident response and compliance.",
       remediation="aws eks update-cluster-config --logging "
                   "'{\"clusterLogging\":[{\"types\":[\"api\",\"audit\",\"authenticator\",\"controllerManager\","
                   "\"scheduler\"],\"enabled\":true}]}'; set the log group's retention and KMS key.",
       references={"cis_eks": "2.1.1", "securityhub": "EKS.8", "prowler": "eks_control_plane_logging_all_types_enabled"})
def log_01(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    groups = {(g.region, g.name): g for g in f.log_groups.itertuples(index=False)}
    for c in f.clusters.itertuples(index=False):
        base = {"account_id": c.account_id, "region": c.region, "cluster": c.cluster}
        missing = [t for t in KEY_LOG_TYPES if t not in c.log_types_enabled]
        rows.append({**base, "resource_type": "cluster", "resource_id": c.arn, "evidence": c.evidence,
                     "status": "FAIL" if missing else "PASS",
                     "reason": ("log types disabled: " + ", ".join(missing)) if missing
                     else "api, audit and authenticator logs enabled"})
        other = [t for t in OTHER_LOG_TYPES if t not in c.log_types_enabled]
        if other:
            rows.append({**base, "resource_type": "cluster", "resource_id": c.arn, "evidence": c.evidence,
                         "status": "FAIL", "severity": "low", "reason": "log types disabled: " + ", ".join(other)})
        name = f"/aws/eks/{c.cluster}/cluster"
        g = groups.get((c.region, name))
        gbase = {**base, "resource_type": "log-group", "resource_id": name}
        if g is None:
            rows.append({**gbase, "status": "FAIL", "evidence": c.evidence,
                         "reason": "the cluster's log group does not exist, so no control-plane log is kept"})
            continue
        problems = []
        if g.retention_days is None or pd.isna(g.retention_days):
            problems.append("no retention set")
        elif int(g.retention_days) < p["log_retention_days"]:
            problems.append(f"retention {int(g.retention_days)} days is under {p['log_retention_days']}")
        rows.append({**gbase, "evidence": g.evidence, "status": "FAIL" if problems else "PASS",
                     "severity": "medium", "reason": "; ".join(problems) or
                     f"retention {int(g.retention_days)} days"})
        rows.append({**gbase, "evidence": g.evidence, "status": "PASS" if g.kms_key_id else "FAIL",
                     "severity": "medium", "reason": f"encrypted with KMS key {g.kms_key_id}" if g.kms_key_id
                     else "not encrypted with a KMS key"})
    return pd.DataFrame(rows)


def _trail_gaps(t) -> list[str]:
    gaps = []
    if t.is_logging is None:
        gaps.append("logging status not read")
    elif not t.is_logging:
        gaps.append("not logging (stopped)")
    if t.mgmt_reads is None:
        gaps.append("event selectors not read")
    else:
        if not t.mgmt_reads:
            gaps.append("management read events not recorded")
        if not t.mgmt_writes:
            gaps.append("management write events not recorded")
    if not t.log_validation:
        gaps.append("log file validation off")
    return gaps


@check("LOG-02", domain="logging", title="CloudTrail records every EKS action", severity="high",
       requirements=["R-LOG-2"], frames=("clusters", "trails"),
       practice="Every region that runs an EKS cluster is covered by a CloudTrail trail that is logging, records "
                "management read and write events, and validates its log files.",
       rationale="EKS API calls (create, update, delete, access entries, add-ons) are management events; without "
                 "a working trail they leave no record, and without validation the record can be altered unseen.",
       remediation="Create a multi-region (ideally organization) trail recording all management events with log "
                   "file validation on: aws cloudtrail create-trail --is-multi-region-trail "
                   "--enable-log-file-validation ...; aws cloudtrail start-logging.",
       references={"cis_aws": "3.1, 3.2", "securityhub": "CloudTrail.1, CloudTrail.4",
                   "prowler": "cloudtrail_multi_region_enabled"})
def log_02(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    here = _audited_by_region(f)
    regions = sorted(here)
    trails = list(f.trails.itertuples(index=False))
    for t in trails:
        covered = [r for r in regions if t.multi_region or t.home_region == r]
        if not covered:
            continue
        gaps = _trail_gaps(t)
        rows.append({"account_id": t.account_id, "region": t.home_region, "cluster": "", "resource_type": "trail",
                     "resource_id": t.arn, "evidence": t.evidence, "severity": "medium",
                     "status": "FAIL" if gaps else "PASS",
                     "reason": (("; ".join(gaps)) if gaps else "logging, all management events, validation on")
                     + f" (covers {', '.join(covered)}" + (", multi-region" if t.multi_region else "") + ")"})
    for r in regions:
        # The region itself must be covered (a multi-region trail, or one whose home is this region): some
        # trail elsewhere in the account proves nothing here.
        good = [f"{t.name} ({'multi-region' if t.multi_region else 'this region'} trail)" for t in trails
                if (t.multi_region or t.home_region == r) and not _trail_gaps(t)]
        clusters = f"clusters here: {', '.join(here[r])}"
        rows.append({"account_id": f.evidence.account, "region": r, "cluster": "", "resource_type": "region",
                     "resource_id": r, "evidence": "evidence/manifest.json",
                     "status": "PASS" if good else "FAIL",
                     "reason": f"covered by {', '.join(good)}, logging management read and write events with "
                               f"validation on ({clusters})" if good else
                     f"no trail covers this region while logging all management events with validation on "
                     f"({clusters})"})
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


def covering(trails: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """The trails that record some of the given regions: multi-region ones and those whose home is there."""
    if trails.empty:
        return trails
    return trails[trails["multi_region"] | trails["home_region"].isin(regions)]


def _is_wildcard_principal(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        values = [aws] if isinstance(aws, str) else (aws or [])
        return "*" in values
    return False


def public_policy_statements(doc: dict) -> list[str]:
    """Allow statements of a bucket policy that let anyone read objects or list the bucket, in words."""
    from ..policy import action_matches, statements

    out = []
    for i, s in enumerate(statements(doc)):
        anyone = _is_wildcard_principal(s.get("Principal")) or "NotPrincipal" in s  # all but a few = anyone
        if s.get("Effect") != "Allow" or not anyone:
            continue
        keys = {k.lower() for ops in (s.get("Condition") or {}).values() if isinstance(ops, dict) for k in ops}
        if keys & RESTRICTING_KEYS:
            continue
        actions = s.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        not_actions = s.get("NotAction")
        not_actions = [not_actions] if isinstance(not_actions, str) else (not_actions or [])
        if "NotAction" in s:
            hits = [a for a in READ_ACTIONS if not any(action_matches(p, a) for p in not_actions)]
        else:
            hits = [a for a in READ_ACTIONS if any(action_matches(p, a) for p in actions)]
        if hits:
            out.append(f"statement {s.get('Sid') or '#' + str(i + 1)} allows {', '.join(hits)} to Principal *")
    return out


def public_acl_grants(acl: dict) -> list[str]:
    """ACL grants to everyone or to any AWS account, in words."""
    out = []
    for g in acl.get("Grants") or []:
        who = PUBLIC_GROUPS.get((g.get("Grantee") or {}).get("URI", ""))
        if who:
            out.append(f"ACL grants {g.get('Permission', '')} to {who}")
    return out


def _present(value) -> dict | None:
    """A read response, or None when the read failed; absent markers become {}."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return {} if "__absent__" in value else value


def _unread(b, names: list[str]) -> list[str]:
    return [f"{n.replace('_', ' ')} ({BUCKET_READS[n]} {getattr(b, n + '_error')})" for n in names
            if _present(getattr(b, n)) is None]


def _unknown_row(base: dict, b, what: str, missing: list[str]) -> dict:
    """ERROR for a bucket of this account; MANUAL for a bucket held elsewhere (its owner must check)."""
    if b.in_account is False:
        return {**base, "status": "MANUAL", "reason": f"{what}: bucket held by {b.owner}; not readable from "
                f"this account ({'; '.join(missing)}): verify it in the owner account"}
    return {**base, "status": "ERROR", "reason": f"could not verify {what}: {'; '.join(missing)}"}


def bucket_rows(b) -> list[dict]:
    """Public exposure, location and delete protection of one trail bucket."""
    base = {"account_id": b.account_id, "region": "", "cluster": "", "resource_type": "s3-bucket",
            "resource_id": b.arn, "evidence": b.evidence}
    if not b.exists:
        return [{**base, "status": "FAIL", "severity": "critical",
                 "reason": "the trail writes to a bucket that does not exist (S3 answered NoSuchBucket): no log file "
                           "is delivered, and whoever creates a bucket with this name would receive them"}]
    rows = []
    policy, acl = _present(b.policy), _present(b.acl)
    pab, status = _present(b.public_access_block), _present(b.policy_status)
    block = (pab or {}).get("PublicAccessBlockConfiguration") or {}
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
    pab_words = "public access block " + ("on" if block and all(block.get(k) for k in (
        "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")) else "off or partial")
    if exposed:
        rows.append({**base, "status": "FAIL", "severity": "critical",
                     "reason": f"trail logs publicly readable: {'; '.join(exposed)} ({pab_words})"})
    elif pab is not None and restrict and ignore_acls:
        rows.append({**base, "status": "PASS", "reason": "not public: the public access block restricts public "
                     "policies and ignores public ACLs"})
    elif missing := _unread(b, ["policy", "acl", "public_access_block"]):
        rows.append(_unknown_row(base, b, "public access to the trail logs", missing))
    else:
        rows.append({**base, "status": "PASS",
                     "reason": f"not public: no policy statement or ACL grant for anyone ({pab_words})"})

    if b.in_account is None:
        rows.append({**base, "status": "ERROR", "reason": f"could not tell who holds the bucket: {b.owner}"})
    elif b.in_account:
        rows.append({**base, "status": "FAIL", "severity": "medium",
                     "reason": "trail logs kept in the audited account itself: its administrators can alter them; "
                               "send them to a separate log or management account"})
    else:
        rows.append({**base, "status": "PASS", "reason": f"trail logs kept outside this account: held by {b.owner}"})

    lock, versioning = _present(b.object_lock), _present(b.versioning)
    locked = ((lock or {}).get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled") == "Enabled"
    mfa = (versioning or {}).get("MFADelete") == "Enabled"
    if locked or mfa:
        rows.append({**base, "status": "PASS", "severity": "medium",
                     "reason": "log files protected from deletion: " + ("object lock on" if locked else "MFA delete on")})
    elif missing := _unread(b, ["object_lock", "versioning"]):
        rows.append({**_unknown_row(base, b, "object lock or MFA delete", missing), "severity": "medium"})
    else:
        rows.append({**base, "status": "FAIL", "severity": "medium",
                     "reason": "neither object lock nor MFA delete: log files can be deleted or overwritten for good"})
    return rows


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


def _allowed_principal(arn: str, allow: list[str]) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(arn, pat) for pat in allow)


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
       references={"cis_aws": "3.3, 3.5, 3.6 (CloudTrail bucket not public, encrypted, access logged)",
                   "securityhub": "CloudTrail.2, CloudTrail.6, S3.2", "prowler":
                   "cloudtrail_logs_s3_bucket_is_not_publicly_accessible, cloudtrail_kms_encryption_enabled"})
def log_03(f: Frames, p: dict) -> pd.DataFrame:
    allow = p["log_admin_principals"]
    allow = [allow] if isinstance(allow, str) else list(allow or [])
    regions = sorted(_audited_by_region(f))
    trails = covering(f.trail_configs, regions)
    rows = []
    for t in trails.itertuples(index=False):
        rows.append({"account_id": t.account_id, "region": t.home_region, "cluster": "", "resource_type": "trail",
                     "resource_id": t.arn, "evidence": t.evidence, "severity": "medium",
                     "status": "PASS" if t.kms_key_id else "FAIL",
                     "reason": f"log files encrypted with KMS key {t.kms_key_id}" if t.kms_key_id else
                     "log files not encrypted with a KMS key (only S3-managed encryption)"})
    buckets = f.trail_buckets
    buckets = buckets[buckets["bucket"].isin(set(trails["bucket"]))] if not trails.empty else buckets.iloc[0:0]
    for b in buckets.itertuples(index=False):
        rows += bucket_rows(b)
    if trails.empty:
        return pd.DataFrame(rows)
    # An identity policy here cannot reach a bucket held by another account on its own (the bucket policy
    # decides there), so object and bucket-policy rights are asked only of buckets not known to be elsewhere.
    local = [b.bucket for b in buckets.itertuples(index=False) if b.in_account is not False]
    gaad = f.evidence.responses(GAAD)
    if not gaad:
        rows.append({"account_id": f.evidence.account, "region": "", "cluster": "", "resource_type": "evidence",
                     "resource_id": GAAD, "status": "ERROR", "evidence": "evidence/manifest.json",
                     "reason": f"could not verify who can tamper with the logs: IAM authorization details ({GAAD}) "
                               "not collected"})
        return pd.DataFrame(rows)
    gaad_ref = ref(gaad[0][0])
    auth = f.iam_auth
    found = tamper_grants(auth, list(trails["arn"]), local, f.evidence.account)
    # A bucket policy can grant a principal of this account access its identity policies do not.
    unread, evidence = [], {}
    for b in buckets.itertuples(index=False):
        if b.bucket not in local or not b.exists:
            continue
        policy = _present(b.policy)
        if policy is None:
            unread.append(f"bucket policy of {b.bucket}: {b.policy_error}")
            continue
        try:
            granted = bucket_policy_tamper(policy.get("Policy") or {}, b.bucket, f.evidence.account)
        except ValueError as exc:
            unread.append(f"bucket policy of {b.bucket} could not be parsed ({exc})")
            continue
        for who, what in granted.items():
            found.setdefault(who, []).extend(what)
            evidence.setdefault(who, b.evidence)
    principals = {x["arn"] for x in auth.principals()}
    for arn, what in sorted(found.items()):
        ok = _allowed_principal(arn, allow)
        note = "" if ok else (" (" + "; ".join(x for x in (auth.boundary_note(arn) if arn in principals else "",
                                                           "SCPs could narrow this but are not readable from a "
                                                           "member account") if x) + ")")
        rows.append({"account_id": f.evidence.account, "region": "", "cluster": "", "resource_type": "iam-principal",
                     "resource_id": arn,
                     "evidence": evidence.get(arn) if arn not in principals else gaad_ref + "#" + arn.rsplit("/", 1)[-1],
                     "status": "PASS" if ok else "FAIL",
                     "reason": ("log administrator (in log_admin_principals): " if ok else
                                "can stop the trail or delete/rewrite its logs: ") + "; ".join(what) + note})
    if not any(r["status"] == "FAIL" and r["resource_type"] == "iam-principal" for r in rows):
        scope = (f"the {len(trails)} trail(s) recording {', '.join(regions)} (the audited clusters' regions) or "
                 "delete/rewrite their logs")
        account_row = {"account_id": f.evidence.account, "region": "", "cluster": "", "resource_type": "account",
                       "resource_id": f.evidence.account, "evidence": "evidence/manifest.json"}
        if unread:
            rows.append({**account_row, "status": "ERROR",
                         "reason": f"no IAM policy lets a principal outside log_admin_principals stop {scope}, but "
                                   "a bucket policy that could grant it was not read: " + "; ".join(unread)})
        else:
            rows.append({**account_row, "status": "PASS",
                         "reason": f"no IAM user or role outside log_admin_principals may stop {scope}: identity "
                                   "policies within permissions boundaries, and the log buckets' policies "
                                   "(buckets held by another account are governed there)"})
    return pd.DataFrame(rows)


# Tampering with the logs through a bucket policy: its Allow statements that name principals of this account
# (or anyone, unconditioned) and cover these actions on the bucket or its objects.
_POLICY_TAMPER = BUCKET_TAMPER_ACTIONS + OBJECT_TAMPER_ACTIONS


def bucket_policy_tamper(doc, bucket: str, account: str) -> dict[str, list[str]]:
    """Principal (ARN, or "*" for anyone) -> what a bucket policy lets it do to the bucket or its logs."""
    from ..policy import action_matches, resource_matches, statements

    out: dict[str, list[str]] = {}
    targets = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/AWSLogs/{account}/CloudTrail/log.json.gz"]
    for i, s in enumerate(statements(doc)):
        if s.get("Effect") != "Allow" or "NotPrincipal" in s:
            continue
        keys = {k.lower() for ops in (s.get("Condition") or {}).values() if isinstance(ops, dict) for k in ops}
        principal = s.get("Principal")
        values = ["*"] if principal == "*" else (
            [principal.get("AWS")] if isinstance((principal or {}).get("AWS"), str) else
            list((principal or {}).get("AWS") or [])) if isinstance(principal, dict) else []
        who = []
        for v in values:
            if v == "*" and not keys & RESTRICTING_KEYS:
                who.append("*")
            elif isinstance(v, str) and v.startswith(f"arn:aws:iam::{account}:") and not v.endswith(":root"):
                who.append(v)  # the account root delegates to IAM policies, already evaluated
        if not who:
            continue
        acts = s.get("Action") or []
        acts = [acts] if isinstance(acts, str) else acts
        res = s.get("Resource") or []
        res = [res] if isinstance(res, str) else res
        hits = [a for a in _POLICY_TAMPER if any(action_matches(x, a) for x in acts)
                and any(resource_matches(r, t) for r in res for t in targets)]
        if hits:
            label = f"bucket policy of {bucket}, statement {s.get('Sid') or '#' + str(i + 1)}"
            for w in who:
                out.setdefault(w, []).append(f"{', '.join(hits)} on bucket {bucket} (via {label})")
    return out


# ---- LOG-04: GuardDuty watches the clusters ----------------------------------------------------------


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
       references={"cis_eks": "none (GuardDuty is outside the CIS EKS benchmark)",
                   "securityhub": "GuardDuty.1, GuardDuty.5, GuardDuty.7",
                   "prowler": "guardduty_is_enabled, guardduty_eks_audit_log_enabled"})
def log_04(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    det = f.guardduty_detectors
    for region in sorted(_audited_by_region(f)):
        here = det[det["region"] == region]
        base = {"region": region, "cluster": "", "resource_type": "guardduty-detector"}
        if here.empty:
            if any(e.get("region") == region for e in f.evidence.errors("aws:guardduty:ListDetectors")):
                continue  # the engine reports the failed read and its cause
            rows.append({**base, "resource_id": f"guardduty:{region}", "status": "ERROR",
                         "evidence": "evidence/manifest.json",
                         "reason": "could not verify: GuardDuty detectors of this region "
                                   "(aws:guardduty:ListDetectors) were not collected"})
            continue
        for d in here.itertuples(index=False):
            rid = f"guardduty:{region}:{d.detector_id or 'none'}"
            b = {**base, "account_id": d.account_id, "evidence": d.evidence}
            if not d.detector_id:
                rows.append({**b, "resource_id": rid, "status": "FAIL",
                             "reason": "GuardDuty is not enabled in this region: no detector, so neither EKS audit "
                                       "logs nor runtime activity are monitored"})
                continue
            if d.status is None:
                continue  # GetDetector failed: the engine reports the cause for this region
            if d.status != "ENABLED":
                rows.append({**b, "resource_id": rid, "status": "FAIL",
                             "reason": f"GuardDuty detector is {d.status or 'in an unknown state'}, not ENABLED"})
                continue
            rows.append({**b, "resource_id": rid + "/EKS_AUDIT_LOGS",
                         "status": "PASS" if d.eks_audit_logs == "ENABLED" else "FAIL",
                         "reason": "EKS audit-log monitoring enabled" if d.eks_audit_logs == "ENABLED" else
                         f"EKS audit-log monitoring {d.eks_audit_logs or 'not reported (off)'}: the Kubernetes "
                         "audit log is not analysed"})
            rb = {**b, "resource_id": rid + "/RUNTIME_MONITORING", "severity": "medium"}
            if d.runtime_monitoring != "ENABLED":
                state = d.runtime_monitoring or "not reported (off)"
                rows.append({**rb, "status": "FAIL", "reason": f"runtime monitoring {state}: process, file and "
                             "network activity on the nodes is not analysed"})
            elif d.eks_addon_management == "ENABLED":
                rows.append({**rb, "status": "PASS", "reason": "runtime monitoring enabled, with the EKS agent "
                             "add-on managed by GuardDuty"})
            else:
                rows.append({**rb, "status": "MANUAL", "reason": "runtime monitoring enabled but GuardDuty does not "
                             "manage the EKS agent: confirm the aws-guardduty-agent add-on runs on every cluster"})
    return pd.DataFrame(rows)


# ---- LOG-05: alarms on the cluster's audit events ----------------------------------------------------

ALARM_GUIDANCE = ("add metric filters with alarms on the cluster's log group for audit events that need a human, "
                  "e.g. 401/403 responses, anonymous (system:anonymous) requests, changes to the aws-auth ConfigMap "
                  "or access entries, bindings to cluster-admin, and exec/attach into pods")


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
       references={"cis_eks": "none (see CIS AWS Foundations 4.x for the CloudTrail equivalents)",
                   "securityhub": "CloudWatch.1-14 (CloudTrail metric filters)",
                   "prowler": "cloudwatch_log_metric_filter_unauthorized_api_calls (CloudTrail equivalent)"})
def log_05(f: Frames, p: dict) -> pd.DataFrame:
    rows = []
    groups = set(zip(f.log_groups["region"], f.log_groups["name"]))
    mf, al = f.metric_filters, f.alarms
    for c in f.clusters.itertuples(index=False):
        name = f"/aws/eks/{c.cluster}/cluster"
        base = {"account_id": c.account_id, "region": c.region, "cluster": c.cluster, "resource_type": "log-group",
                "resource_id": name, "evidence": c.evidence}
        if (c.region, name) not in groups:
            rows.append({**base, "status": "NOT_APPLICABLE",
                         "reason": "the cluster has no log group to watch (see LOG-01)"})
            continue
        filters = mf[(mf["region"] == c.region) & (mf["log_group"] == name)]
        if filters.empty:
            rows.append({**base, "status": "FAIL",
                         "reason": f"no metric filter or alarm on the cluster's log group: {ALARM_GUIDANCE}"})
            continue
        watched = al[(al["region"] == c.region) & al["metric"].isin(set(filters["metric"]) - {""})]
        live = watched[watched["actions_enabled"] & watched["has_actions"]]
        listed = ", ".join(f"{r.name} ({r.pattern or 'all events'})" for r in filters.itertuples(index=False))
        if live.empty:
            rows.append({**base, "status": "FAIL", "evidence": filters["evidence"].iloc[0],
                         "reason": f"metric filters {listed} but no alarm with actions watches their metrics: "
                                   f"{ALARM_GUIDANCE}"})
        else:
            rows.append({**base, "status": "PASS", "evidence": live["evidence"].iloc[0],
                         "reason": f"metric filters {listed} feed alarms {', '.join(sorted(set(live['name'])))} "
                                   "that notify; review that the patterns cover the events your team needs"})
    return pd.DataFrame(rows)
