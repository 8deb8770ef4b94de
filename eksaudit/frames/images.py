"""Frames for the images domain: ECR repositories, images, scans and manifests; running images resolved
against ECR; attached kube-bench and Docker Bench results."""

from __future__ import annotations

import json
import re

import pandas as pd

from ..collect.attachments import DOCKER_BENCH, KUBE_BENCH
from ..collect.faults import describe
from ..collect.kubernetes import CRONJOBS, JOBS
from ..collect.steps.images import (
    BATCH_GET_IMAGE,
    DESCRIBE_IMAGE_SCAN_FINDINGS,
    DESCRIBE_IMAGES,
    DESCRIBE_REPOSITORIES,
    GET_LIFECYCLE_POLICY,
    GET_REGISTRY_SCANNING_CONFIGURATION,
)
from ..ingest import docker_bench, kube_bench
from . import Frames, frame
from .core import ref
from .kubernetes import WORKLOAD_INPUTS
from .kubernetes import _pod_spec as workload_spec

ECR_RE = re.compile(r"^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def split_image(image: str) -> dict:
    """registry, repository, tag, digest of an image reference, with Docker Hub's implicit defaults."""
    name, digest = (image.split("@", 1) + [""])[:2]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", name if "/" in name else f"library/{name}"
    tag = ""
    if ":" in path.rsplit("/", 1)[-1]:
        path, tag = path.rsplit(":", 1)
    if not tag and not digest:
        tag = "latest"
    m = ECR_RE.match(registry)
    return {"registry": registry, "repository": path, "tag": tag, "digest": digest,
            "ecr_account": m.group(1) if m else "", "ecr_region": m.group(3) if m else ""}


@frame("ecr_repositories", [DESCRIBE_REPOSITORIES])
def ecr_repositories(f: Frames) -> pd.DataFrame:
    """One row per ECR repository: account_id, region, repository, arn, uri, encryption_type, kms_key,
    scan_on_push, tag_mutability, created, evidence."""
    rows = []
    for entry, data in f.evidence.responses(DESCRIBE_REPOSITORIES):
        for r in data.get("repositories", []):
            enc = r.get("encryptionConfiguration") or {}
            rows.append({
                "account_id": entry["account"], "region": entry["region"], "repository": r.get("repositoryName", ""),
                "arn": r.get("repositoryArn", ""), "uri": r.get("repositoryUri", ""),
                "encryption_type": enc.get("encryptionType", ""), "kms_key": enc.get("kmsKey", ""),
                "scan_on_push": bool((r.get("imageScanningConfiguration") or {}).get("scanOnPush")),
                "tag_mutability": r.get("imageTagMutability", ""), "created": r.get("createdAt", ""),
                "evidence": ref(entry, r.get("repositoryName", "")),
            })
    cols = ["account_id", "region", "repository", "arn", "uri", "encryption_type", "kms_key", "scan_on_push",
            "tag_mutability", "created", "evidence"]
    return pd.DataFrame(rows, columns=cols)


# ---- shared helpers -------------------------------------------------------------------------------------

SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"]
COUNT_COLS = [s.lower() for s in SEVERITIES]  # one finding count column per severity
ECR_IMAGE_INPUTS = [DESCRIBE_REPOSITORIES, DESCRIBE_IMAGES, DESCRIBE_IMAGE_SCAN_FINDINGS]


def collected_at(ev) -> pd.Timestamp:
    """The reference time for ages: when collection started (so the same evidence always gives the same verdict)."""
    return pd.Timestamp(ev.collected_at)


def _ts(value) -> pd.Timestamp | None:
    if value in (None, "") or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        t = pd.Timestamp(value, unit="s") if isinstance(value, (int, float)) else pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


# ---- ECR --------------------------------------------------------------------------------------------------


@frame("ecr_registry_scanning", [GET_REGISTRY_SCANNING_CONFIGURATION])
def ecr_registry_scanning(f: Frames) -> pd.DataFrame:
    """One row per audited region: account_id, region, scan_type (BASIC|ENHANCED), rules (list of
    {scanFrequency, repositoryFilters}), evidence."""
    rows = []
    for entry, data in f.evidence.responses(GET_REGISTRY_SCANNING_CONFIGURATION):
        cfg = data.get("scanningConfiguration") or {}
        rows.append({"account_id": entry["account"], "region": entry["region"],
                     "scan_type": cfg.get("scanType", "BASIC"), "rules": list(cfg.get("rules") or []),
                     "evidence": ref(entry)})
    return pd.DataFrame(rows, columns=["account_id", "region", "scan_type", "rules", "evidence"])


def filter_matches(pattern: str, repository: str) -> bool:
    """ECR WILDCARD repository filter: `*` matches any run of characters, the rest literally."""
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), repository) is not None


def scan_coverage(repo: dict, registry: dict | None) -> tuple[bool | None, str]:
    """Whether new images of a repository get scanned, and how: (covered, explanation); None when unknown."""
    if registry is None:
        return None, "the registry scanning configuration could not be read"
    rules = [(r.get("scanFrequency", ""), flt.get("filter", "")) for r in registry["rules"]
             for flt in r.get("repositoryFilters") or []]
    hit = [(freq, flt) for freq, flt in rules if filter_matches(flt, repo["repository"])]
    if registry["scan_type"] == "ENHANCED":
        if hit:
            return True, f"registry enhanced scanning ({hit[0][0]}) covers it through filter '{hit[0][1]}'"
        return False, "registry enhanced scanning is on but no rule's filter matches this repository"
    if repo["scan_on_push"]:
        return True, "scan on push is on"
    if hit:
        return True, f"registry basic scanning ({hit[0][0]}) covers it through filter '{hit[0][1]}'"
    return False, "scan on push is off and no registry scanning rule covers it"


@frame("ecr_lifecycle_policies", [GET_LIFECYCLE_POLICY])
def ecr_lifecycle_policies(f: Frames) -> pd.DataFrame:
    """One row per GetLifecyclePolicy read: account_id, region, repository, status (present|absent|error),
    rule_count, cause (why it could not be read), evidence."""
    rows = []
    for e in f.evidence.by_input.get(GET_LIFECYCLE_POLICY, []):
        base = {"account_id": e["account"], "region": e["region"], "repository": e["params"].get("repositoryName", "")}
        if e["status"] != "ok":
            rows.append({**base, "status": "error", "rule_count": 0, "cause": describe(e.get("error", {})),
                         "evidence": "evidence/manifest.json"})
            continue
        data = f.evidence.load(e)
        if "__absent__" in data:
            rows.append({**base, "status": "absent", "rule_count": 0, "cause": "", "evidence": ref(e)})
            continue
        try:
            n = len(json.loads(data.get("lifecyclePolicyText") or "{}").get("rules") or [])
        except (ValueError, AttributeError):
            n = -1
        rows.append({**base, "status": "present", "rule_count": n, "cause": "", "evidence": ref(e)})
    return pd.DataFrame(rows, columns=["account_id", "region", "repository", "status", "rule_count", "cause",
                                       "evidence"])


@frame("ecr_images", [DESCRIBE_IMAGES, DESCRIBE_IMAGE_SCAN_FINDINGS])
def ecr_images(f: Frames) -> pd.DataFrame:
    """One row per image in the audited ECR repositories.

    Columns: account_id, region, registry_id, repository, digest, tags (list), pushed_at (UTC Timestamp or NaT),
    last_pulled_at, size_bytes, scan_status (COMPLETE, ACTIVE, FAILED, IN_PROGRESS, ... or NOT_SCANNED, or
    UNKNOWN when the scan lookup failed), scan_detail, scan_completed_at, one count column per severity
    (critical, high, medium, low, informational, undefined), evidence, scan_evidence.
    """
    ev = f.evidence
    scans: dict[tuple, tuple[dict, dict | None]] = {}
    for e in ev.by_input.get(DESCRIBE_IMAGE_SCAN_FINDINGS, []):
        key = (e["region"], e["params"].get("repositoryName", ""), (e["params"].get("imageId") or {}).get("imageDigest"))
        scans[key] = (e, ev.load(e) if e["status"] == "ok" else None)
    rows = []
    for entry, data in ev.responses(DESCRIBE_IMAGES):
        for d in data.get("imageDetails") or []:
            repo, digest = d.get("repositoryName", entry["params"].get("repositoryName", "")), d.get("imageDigest", "")
            summary = d.get("imageScanFindingsSummary") or {}
            status = (d.get("imageScanStatus") or {}).get("status", "")
            detail = (d.get("imageScanStatus") or {}).get("description", "")
            counts = summary.get("findingSeverityCounts") or {}
            completed = summary.get("imageScanCompletedAt")
            scan_ref = ref(entry, digest)
            lookup = scans.get((entry["region"], repo, digest))
            if not summary and lookup is not None:
                le, ld = lookup
                scan_ref = ref(le) if le["status"] == "ok" else "evidence/manifest.json"
                if ld is None:
                    status, detail = "UNKNOWN", (f"the scan lookup failed ({DESCRIBE_IMAGE_SCAN_FINDINGS} "
                                               f"{describe(le.get('error', {}))})")
                elif "__absent__" in ld:
                    status, detail = "NOT_SCANNED", "ECR has no scan of this image (ScanNotFoundException)"
                else:
                    status = (ld.get("imageScanStatus") or {}).get("status", status)
                    detail = (ld.get("imageScanStatus") or {}).get("description", detail)
                    found = ld.get("imageScanFindings") or {}
                    counts = found.get("findingSeverityCounts") or {}
                    completed = found.get("imageScanCompletedAt")
            if not status:
                status, detail = "NOT_SCANNED", "DescribeImages shows no scan of this image"
            rows.append({
                "account_id": entry["account"], "region": entry["region"], "registry_id": d.get("registryId", ""),
                "repository": repo, "digest": digest, "tags": list(d.get("imageTags") or []),
                "pushed_at": _ts(d.get("imagePushedAt")), "last_pulled_at": _ts(d.get("lastRecordedPullTime")),
                "size_bytes": d.get("imageSizeInBytes"), "scan_status": status, "scan_detail": detail,
                "scan_completed_at": _ts(completed),
                **{c: int(counts.get(s, 0) or 0) for s, c in zip(SEVERITIES, COUNT_COLS)},
                "evidence": ref(entry, digest), "scan_evidence": scan_ref,
            })
    cols = ["account_id", "region", "registry_id", "repository", "digest", "tags", "pushed_at", "last_pulled_at",
            "size_bytes", "scan_status", "scan_detail", "scan_completed_at", *COUNT_COLS,
            "evidence", "scan_evidence"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("pushed_at", "last_pulled_at", "scan_completed_at"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out


BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


@frame("ecr_image_bases", [BATCH_GET_IMAGE])
def ecr_image_bases(f: Frames) -> pd.DataFrame:
    """One row per image whose manifest was requested: account_id, region, repository, digest, status
    (read|not-found|error|unparsable), media_type, base_name and base_digest (the OCI base-image annotations, ""
    when absent), cause, evidence."""
    rows = []
    for e in f.evidence.by_input.get(BATCH_GET_IMAGE, []):
        repo = e["params"].get("repositoryName", "")
        base = {"account_id": e["account"], "region": e["region"], "repository": repo}
        if e["status"] != "ok":
            for i in e["params"].get("imageIds") or []:
                rows.append({**base, "digest": i.get("imageDigest", ""), "status": "error", "media_type": "",
                             "base_name": "", "base_digest": "", "cause": describe(e.get("error", {})),
                             "evidence": "evidence/manifest.json"})
            continue
        data = f.evidence.load(e)
        for img in data.get("images") or []:
            digest = (img.get("imageId") or {}).get("imageDigest", "")
            try:
                manifest = json.loads(img.get("imageManifest") or "")
                notes = manifest.get("annotations") or {} if isinstance(manifest, dict) else {}
                status, cause = "read", ""
            except ValueError as exc:
                manifest, notes, status, cause = {}, {}, "unparsable", f"the manifest is not JSON: {exc}"
            rows.append({**base, "digest": digest, "status": status,
                         "media_type": img.get("imageManifestMediaType") or (manifest or {}).get("mediaType", ""),
                         "base_name": str(notes.get(BASE_NAME, "")), "base_digest": str(notes.get(BASE_DIGEST, "")),
                         "cause": cause, "evidence": ref(e, digest)})
        for fail in data.get("failures") or []:
            rows.append({**base, "digest": (fail.get("imageId") or {}).get("imageDigest", ""), "status": "not-found",
                         "media_type": "", "base_name": "", "base_digest": "",
                         "cause": f"{fail.get('failureCode', '')}: {fail.get('failureReason', '')}", "evidence": ref(e)})
    cols = ["account_id", "region", "repository", "digest", "status", "media_type", "base_name", "base_digest",
            "cause", "evidence"]
    return pd.DataFrame(rows, columns=cols).drop_duplicates(["region", "repository", "digest"], keep="first")


@frame("container_images", WORKLOAD_INPUTS + ECR_IMAGE_INPUTS)
def container_images(f: Frames) -> pd.DataFrame:
    """One row per container (the `containers` identity columns) with its image resolved against ECR.

    Added columns: registry, repository, tag, digest (as referenced), ecr_account, ecr_region, match (matched |
    not-audited-ecr (not an ECR registry of the audited account) | region-not-audited | repositories-unreadable |
    repository-missing | images-unreadable | image-missing), match_detail, image_digest, image_tags, pushed_at,
    scan_status, scan_detail, scan_completed_at, the severity counts, tag_mutability, scan_on_push, image_evidence.
    """
    ev = f.evidence
    c = f.containers
    # Regions whose ECR was read (the inventory reaches every region, ECR only the selected ones).
    audited_regions = set(ev.manifest.get("regions") or []) | {
        e["region"] for e in ev.by_input.get(DESCRIBE_REPOSITORIES, []) if e["region"]}
    repos = {(r.region, r.repository): r for r in f.ecr_repositories.itertuples(index=False)}
    repo_errors = {e["region"]: describe(e.get("error", {})) for e in ev.errors(DESCRIBE_REPOSITORIES)}
    image_errors = {(e["region"], e["params"].get("repositoryName", "")): describe(e.get("error", {}))
                    for e in ev.errors(DESCRIBE_IMAGES)}
    images = f.ecr_images
    by_repo = {k: g for k, g in images.groupby(["region", "repository"])} if not images.empty else {}
    resolved: dict[str, dict] = {}  # image -> its resolution: estates run far fewer images than containers
    for image in c["image"].unique():
        parts = split_image(image)
        out = {**{k: parts[k] for k in ("registry", "repository", "tag", "digest", "ecr_account", "ecr_region")},
               "match": "", "match_detail": "", "image_digest": "", "image_tags": [], "pushed_at": None,
               "scan_status": "", "scan_detail": "", "scan_completed_at": None,
               **dict.fromkeys(COUNT_COLS, 0), "tag_mutability": "", "scan_on_push": None,
               "image_evidence": ""}
        region, repo_name = parts["ecr_region"], parts["repository"]
        if parts["ecr_account"] != ev.account or not parts["ecr_account"]:
            out["match"], out["match_detail"] = "not-audited-ecr", f"{parts['registry']} is not an ECR registry of " \
                                                                   f"the audited account"
        elif region not in audited_regions:
            out["match"], out["match_detail"] = "region-not-audited", f"ECR region {region} was not audited"
        elif region in repo_errors:
            out["match"], out["match_detail"] = "repositories-unreadable", \
                f"ECR repositories in {region} could not be listed ({DESCRIBE_REPOSITORIES} {repo_errors[region]})"
        elif (region, repo_name) not in repos:
            out["match"], out["match_detail"] = "repository-missing", \
                f"repository {repo_name} does not exist in {region}"
        else:
            r = repos[(region, repo_name)]
            out["tag_mutability"], out["scan_on_push"] = r.tag_mutability, r.scan_on_push
            if (region, repo_name) in image_errors:
                out["match"], out["match_detail"] = "images-unreadable", \
                    f"the images of {repo_name} could not be listed " \
                    f"({DESCRIBE_IMAGES} {image_errors[(region, repo_name)]})"
            else:
                g = by_repo.get((region, repo_name))
                hit = None
                if g is not None:
                    sel = g[g["digest"] == parts["digest"]] if parts["digest"] else \
                        g[g["tags"].map(lambda t, tag=parts["tag"]: tag in t)]
                    hit = sel.iloc[0] if not sel.empty else None
                if hit is None:
                    ident = parts["digest"] or f"tag {parts['tag']}"
                    out["match"], out["match_detail"] = "image-missing", f"{ident} is not in repository {repo_name}"
                else:
                    out.update({"match": "matched", "match_detail": f"{repo_name}@{hit['digest']}",
                                "image_digest": hit["digest"], "image_tags": hit["tags"],
                                "pushed_at": hit["pushed_at"], "scan_status": hit["scan_status"],
                                "scan_detail": hit["scan_detail"], "scan_completed_at": hit["scan_completed_at"],
                                **{c: int(hit[c]) for c in COUNT_COLS},
                                "image_evidence": hit["scan_evidence"]})
        resolved[image] = out
    added = ["registry", "repository", "tag", "digest", "ecr_account", "ecr_region", "match", "match_detail",
             "image_digest", "image_tags", "pushed_at", "scan_status", "scan_detail", "scan_completed_at", *COUNT_COLS,
             "tag_mutability", "scan_on_push", "image_evidence"]
    # One row per distinct image, then spread over its containers in one take.
    per_image = pd.DataFrame(list(resolved.values()), columns=added)
    for col in ("pushed_at", "scan_completed_at"):
        per_image[col] = pd.to_datetime(per_image[col], utc=True)
    if c.empty:
        return pd.concat([c, per_image.iloc[:0]], axis=1)
    at = pd.Index(list(resolved)).get_indexer(c["image"])
    return pd.concat([c.reset_index(drop=True), per_image.take(at).reset_index(drop=True)], axis=1)


# ---- attached benchmark results ---------------------------------------------------------------------------


def _file_name(entry: dict) -> str:
    """The name an attached file was given (its evidence path when it has none)."""
    return entry["params"].get("name", entry["path"])


def _file_time(entry: dict, parsed_at) -> tuple[pd.Timestamp | None, str]:
    if parsed_at is not None:
        return pd.Timestamp(parsed_at), "time recorded in the file"
    modified = (entry.get("params") or {}).get("modified")
    if modified:
        return pd.Timestamp(int(modified), unit="s", tz="UTC"), "the file's modified time"
    return None, "no time known"


def _is_kube_bench(obj: dict, spec: dict | None) -> bool:
    name = ((obj.get("metadata") or {}).get("name") or "").lower()
    images = [c.get("image", "") for grp in ("containers", "initContainers") for c in (spec or {}).get(grp) or []]
    return "kube-bench" in name or any(split_image(i)["repository"].rsplit("/", 1)[-1] == "kube-bench" for i in images)


RUN_COLS = ["account_id", "region", "cluster", "source", "name", "run_at", "time_source", "status", "error", "note",
            "fails", "warns", "evidence"]


def _file_run(entry: dict, parsed, *, cluster: str = "", fails: int = 0, warns: int = 0) -> dict:
    """The run row of an attached result file (kube_bench_runs, docker_bench_runs)."""
    at, how = _file_time(entry, parsed.run_at)
    return {"account_id": entry["account"], "region": "", "cluster": cluster, "source": "file",
            "name": _file_name(entry), "run_at": at, "time_source": how, "status": "ok" if parsed.ok else "error",
            "error": parsed.error, "note": parsed.note, "fails": fails, "warns": warns, "evidence": ref(entry)}


def _job_run(entry: dict, obj: dict, kind: str, clusters: dict[str, str]) -> dict:
    """The run row of a kube-bench Job (its completionTime) or CronJob (its lastSuccessfulTime)."""
    m, st = obj.get("metadata") or {}, obj.get("status") or {}
    if kind == "Job":
        done = int(st.get("succeeded") or 0) > 0
        at = _ts(st.get("completionTime")) if done else None
        how = "the Job's completionTime" if at is not None else ""
        note = "" if done else f"the Job has not succeeded (failed: {st.get('failed', 0)})"
    else:
        at = _ts(st.get("lastSuccessfulTime"))
        how = "the CronJob's lastSuccessfulTime" if at is not None else ""
        note = "" if at is not None else "the CronJob has no successful run recorded"
    name = f"{m.get('namespace', '')}/{m.get('name', '')}"
    return {"account_id": entry["account"], "region": clusters.get(entry["cluster"], entry["region"]),
            "cluster": entry["cluster"], "source": kind, "name": name, "run_at": at, "time_source": how,
            "status": "ok" if at is not None else "failed", "error": "", "note": note, "fails": 0, "warns": 0,
            "evidence": f"evidence/{entry['path']}#{name}"}


def _runs_frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=RUN_COLS)
    out["run_at"] = pd.to_datetime(out["run_at"], utc=True)
    return out


@frame("kube_bench_runs", [KUBE_BENCH, JOBS, CRONJOBS])
def kube_bench_runs(f: Frames) -> pd.DataFrame:
    """Every piece of evidence that kube-bench ran: attached result files and kube-bench Jobs/CronJobs.

    Columns: account_id, region, cluster ("" for a file attached without a cluster), source (file|Job|CronJob),
    name, run_at (UTC Timestamp or NaT: the time in the file, else its modified time; a Job's completionTime; a
    CronJob's lastSuccessfulTime), time_source, status (ok | error: unreadable file | failed: a Job that did not
    succeed), error, note, fails, warns, evidence.
    """
    ev = f.evidence
    rows = []
    for e, body in ev.responses(KUBE_BENCH):
        parsed = kube_bench.parse(body)
        rows.append(_file_run(e, parsed, cluster=e.get("cluster", ""),
                              fails=sum(r["status"] == "FAIL" for r in parsed.results),
                              warns=sum(r["status"] == "WARN" for r in parsed.results)))
    clusters = ev.clusters
    for key, kind in ((JOBS, "Job"), (CRONJOBS, "CronJob")):
        for e, data in ev.responses(key):
            for obj in data.get("items") or []:
                if _is_kube_bench(obj, workload_spec(obj)):
                    rows.append(_job_run(e, obj, kind, clusters))
    return _runs_frame(rows)


@frame("kube_bench_results", [KUBE_BENCH])
def kube_bench_results(f: Frames) -> pd.DataFrame:
    """One row per result in the readable attached kube-bench files: account_id, cluster, file, control_id,
    control, benchmark, node_type, section, section_desc, test_number, test_desc, status, scored, remediation,
    actual_value, expected_result, reason, evidence."""
    rows = []
    for e, body in f.evidence.responses(KUBE_BENCH):
        for r in kube_bench.parse(body).results:
            rows.append({"account_id": e["account"], "cluster": e.get("cluster", ""), "file": _file_name(e), **r,
                         "evidence": ref(e, r["test_number"])})
    cols = ["account_id", "cluster", "file", "control_id", "control", "benchmark", "node_type", "section",
            "section_desc", "test_number", "test_desc", "status", "scored", "remediation", "actual_value",
            "expected_result", "reason", "evidence"]
    return pd.DataFrame(rows, columns=cols)


def _docker_bench_parsed(ev) -> list[tuple[dict, docker_bench.Parsed]]:
    """Each attached Docker Bench file, parsed; a JSON file and its text log (X.json beside X) count once."""
    pairs = ev.responses(DOCKER_BENCH)  # an attachment's bytes exactly as given, read inside the evidence folder
    entries = [e for e, _ in pairs]
    body = {e["path"]: b for e, b in pairs}
    by_name = {e["params"].get("name", ""): e for e in entries}
    out, used = [], set()
    jsons = [e for e in entries if docker_bench.looks_like_json(body[e["path"]])]
    for e in jsons:
        log = by_name.get(e["params"].get("name", "").removesuffix(".json"))
        log = log if log is not None and log is not e and log not in jsons else None
        out.append((e, docker_bench.parse(body[e["path"]], body[log["path"]] if log is not None else None)))
        used.add(e["path"])
        if log is not None:
            used.add(log["path"])
    for e in entries:
        if e["path"] not in used:
            out.append((e, docker_bench.parse(body[e["path"]])))
    return out


@frame("docker_bench_runs", [DOCKER_BENCH])
def docker_bench_runs(f: Frames) -> pd.DataFrame:
    """One row per attached Docker Bench result (a JSON file and its text log count once): account_id, region
    (""), cluster (""), source ("file"), name, run_at (end/start in the JSON, the log's "Initializing" line, else
    the file's modified time), time_source, status (ok|error), error, note, fails (0), warns, evidence."""
    return _runs_frame([_file_run(e, parsed, warns=sum(r["result"] == "WARN" for r in parsed.results))
                        for e, parsed in _docker_bench_parsed(f.evidence)])


@frame("docker_bench_results", [DOCKER_BENCH])
def docker_bench_results(f: Frames) -> pd.DataFrame:
    """One row per result of the readable Docker Bench files: account_id, file, section, section_desc, id, desc,
    result (PASS|WARN|INFO|NOTE), details, items, remediation, evidence."""
    rows = []
    for e, parsed in _docker_bench_parsed(f.evidence):
        for r in parsed.results:
            rows.append({"account_id": e["account"], "file": _file_name(e), **r, "evidence": ref(e, r["id"])})
    cols = ["account_id", "file", "section", "section_desc", "id", "desc", "result", "details", "items",
            "remediation", "evidence"]
    return pd.DataFrame(rows, columns=cols)
