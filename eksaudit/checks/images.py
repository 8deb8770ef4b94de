"""Images and compliance domain checks."""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from ..collect.attachments import DOCKER_BENCH, KUBE_BENCH
from ..collect.faults import describe
from ..collect.kubernetes import CRONJOBS, JOBS
from ..collect.steps.images import (
    BATCH_GET_IMAGE,
    DESCRIBE_IMAGES,
    GET_LIFECYCLE_POLICY,
    GET_REGISTRY_SCANNING_CONFIGURATION,
)
from ..frames import Frames, records, values
from ..frames.images import ECR_IMAGE_INPUTS, SEVERITIES, collected_at, scan_coverage, split_image
from ..frames.kubernetes import WORKLOAD_INPUTS
from . import check
from .common import SYSTEM_NAMESPACES, container_id, finding, findings, outside, per_value

# Registries AWS itself publishes EKS add-ons from (VPC CNI, kube-proxy, CoreDNS, CSI drivers).
AWS_ADDON_REGISTRIES = ["602401143452.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com/eks/*",
                        "public.ecr.aws/eks/*", "public.ecr.aws/eks-distro/*"]
SCANNED = ("COMPLETE", "ACTIVE")
MANIFEST = "evidence/manifest.json"  # the evidence of a read that failed: its manifest entry


# ---- helpers ------------------------------------------------------------------------------------------------


def _trusted_registry(parts: dict, accounts: set[str], patterns: list[str]) -> bool:
    """Whether an image (split_image parts) comes from an audited account's ECR or matches an allowed pattern
    (a registry, or registry/repository)."""
    if parts["ecr_account"] and parts["ecr_account"] in accounts:
        return True
    return any(fnmatch.fnmatch(parts["registry"], pat) or fnmatch.fnmatch(f"{parts['registry']}/{parts['repository']}", pat)
               for pat in patterns)


def _days(delta: pd.Timedelta) -> int:
    return int(delta.total_seconds() // 86400)


def _age_text(at: pd.Timestamp, now: pd.Timestamp) -> str:
    return f"{at:%Y-%m-%d} ({_days(now - at)} days before collection)"


def _where(ids: set[str]) -> str:
    """The containers an image runs in, the first five named."""
    ids = sorted(ids)
    return ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _running(f: Frames, namespaces: list[str]) -> list[tuple[str, dict, str]]:
    """(image, the container_images row of its first container, where it runs) for each (cluster, image) of the
    containers outside the excluded namespaces, in (cluster, image) order; read in one pass over the containers
    rather than as a frame per group."""
    ci = f.container_images
    c = outside(ci[["cluster", "image", "namespace", "workload", "container_type", "container"]], namespaces)
    c = c.dropna(subset=["cluster", "image"])  # a missing cluster or image makes no group (as with groupby)
    first: dict[tuple[str, str], object] = {}  # (cluster, image) -> index label of its first container
    ids: dict[tuple[str, str], set[str]] = {}
    for label, key, cid in zip(c.index, zip(values(c["cluster"]), values(c["image"])), values(container_id(c))):
        if key not in ids:
            first[key], ids[key] = label, set()
        ids[key].add(cid)
    keys = sorted(first)
    return [(image, row, _where(ids[(cluster, image)]))
            for (cluster, image), row in zip(keys, records(ci.loc[[first[k] for k in keys]]))]


def _input_gaps(f: Frames, keys) -> dict[str, str]:
    """cluster -> "<input> <cause>" for the first of these Kubernetes inputs that could not be collected there."""
    gaps: dict[str, str] = {}
    for key in keys:
        for e in f.evidence.errors(key):
            gaps.setdefault(e["cluster"], f"{key} {describe(e.get('error', {}))}")
    return gaps


# ---- IMG-01 -------------------------------------------------------------------------------------------------


@check("IMG-01", domain="images", title="Only trusted images from private ECR", severity="high",
       requirements=["R-IMG-1"], frames=("containers",), params={"trusted_registries": [], "image_exclude_namespaces": [],
                                                 "trust_aws_addon_registries": True},
       practice="Every container image comes from the audited account's private ECR registries or another "
                "registry the organisation has approved (AWS's own EKS add-on registries are trusted unless "
                "trust_aws_addon_registries is false).",
       rationale="Images pulled from public registries can change under the same tag, disappear, or carry "
                 "malicious code; a private registry is where scanning, signing and retention are enforced.",
       remediation="Mirror approved images into ECR (pull-through cache or CI), point workloads at the ECR copies, "
                   "and enforce the allow-list with an admission policy.",
       references={"cis_eks": ["5.1.4"], "kubescape": ["C-0078"]})
def images_from_trusted_registries(f: Frames, p: dict) -> pd.DataFrame:
    c = outside(f.containers, p["image_exclude_namespaces"])
    accounts = {f.evidence.account}
    extra = list(p["trusted_registries"] or []) + (AWS_ADDON_REGISTRIES if p["trust_aws_addon_registries"] else [])

    def verdict(image: str) -> tuple[bool, str]:
        parts = split_image(image)
        good = _trusted_registry(parts, accounts, extra)
        return good, f"image {image} from {parts['registry']} " + (
            "(allowed)" if good else "is not from an allowed registry")

    verdicts = per_value(c["image"], verdict)
    return findings(c, np.where([ok for ok, _ in verdicts], "PASS", "FAIL"),
                    pd.Series([r for _, r in verdicts], index=c.index, dtype=object), "container", container_id(c))


# ---- IMG-02, IMG-03 ---------------------------------------------------------------------------------------


def _run_verdict(runs: pd.DataFrame, now: pd.Timestamp, max_days: int, what: str, missing: str,
                 read_errors: str = "") -> tuple[str, str]:
    """Status and reason for 'did the tool run recently' over a frame of runs."""
    ok = runs[(runs["status"] == "ok") & runs["run_at"].notna()]
    if not ok.empty:
        newest = ok.sort_values("run_at").iloc[-1]
        src = f"{newest['source']} {newest['name']}, by {newest['time_source']}"
        if now - newest["run_at"] <= pd.Timedelta(days=max_days):
            return "PASS", f"{what} ran on {_age_text(newest['run_at'], now)}, within {max_days} days ({src})"
        stale = f"the newest {what} run is from {_age_text(newest['run_at'], now)}, older than {max_days} days ({src})"
        return ("ERROR", f"{stale}; a newer run cannot be ruled out: {read_errors}") if read_errors else ("FAIL", stale)
    failed = runs[runs["status"] == "failed"]
    extra = "; " + "; ".join(f"{r.source} {r.name}: {r.note}" for r in failed.itertuples()) if not failed.empty else ""
    if read_errors:
        return "ERROR", f"no readable evidence of a {what} run{extra}, and {read_errors}"
    return "FAIL", missing + extra


def _newest_evidence(runs: pd.DataFrame, default: str) -> str:
    return runs.sort_values("run_at")["evidence"].iloc[-1] if not runs.empty else default


def _unreadable_results(runs: pd.DataFrame, tool: str, key: str, resource_type: str,
                        regions: dict[str, str] | None = None) -> list[dict]:
    """One ERROR per attached result file that could not be read."""
    regions = regions or {}
    return [finding(None, "ERROR", resource_type, r.name, f"{tool} result {r.name} ({key}) is unreadable: {r.error}",
                    evidence=r.evidence, cluster=r.cluster or "", region=regions.get(r.cluster, ""))
            for r in runs[runs["status"] == "error"].itertuples()]


def _single_cluster(clusters: pd.DataFrame, *frames: pd.DataFrame) -> list[pd.DataFrame]:
    """The frames with a result that names no cluster given to the only audited cluster (the account may hold
    others); unchanged when several clusters are audited."""
    audited = clusters[clusters["audited"]]
    if len(audited) != 1:
        return list(frames)
    single = audited["cluster"].iloc[0]
    return [df.assign(cluster=df["cluster"].replace("", single)) for df in frames]


@check("IMG-02", domain="images", title="kube-bench (CIS EKS Benchmark) runs regularly", severity="medium",
       requirements=["R-IMG-2"], frames=("clusters", "kube_bench_results"), inputs=(KUBE_BENCH,),
       soft_inputs=(JOBS, CRONJOBS),
       params={"kube_bench_max_age_days": 30},
       practice="Each cluster is checked against the CIS Amazon EKS Benchmark with kube-bench at least every "
                "kube_bench_max_age_days days, and every failed benchmark test is followed up.",
       rationale="Node and cluster settings drift as nodes are replaced and add-ons upgraded; only a recurring "
                 "benchmark run shows whether the hardening still holds.",
       remediation="Run kube-bench as a Kubernetes CronJob (e.g. `kube-bench run --benchmark eks-1.5.0 --json`) "
                   "and attach its result with --attach kube-bench:CLUSTER=PATH; fix each FAIL using the "
                   "remediation kube-bench prints for it.",
       references={})
def kube_bench_runs_regularly(f: Frames, p: dict) -> list[dict]:
    # Jobs/CronJobs are read softly: a fresh attached result proves a run even when they could not be read.
    now, max_days = collected_at(f.evidence), int(p["kube_bench_max_age_days"])
    clusters = f.clusters
    runs, results = _single_cluster(clusters, f.kube_bench_runs, f.kube_bench_results)
    job_errors = _input_gaps(f, (JOBS, CRONJOBS))
    out = []
    for c in clusters.to_dict("records"):
        mine = runs[runs["cluster"] == c["cluster"]]
        cause = f"Kubernetes Jobs/CronJobs could not be read ({job_errors[c['cluster']]})" \
            if c["cluster"] in job_errors else ""
        status, reason = _run_verdict(
            mine, now, max_days, "kube-bench",
            "no evidence of a kube-bench run: no kube-bench Job or CronJob with a successful run in the cluster and "
            "no kube-bench result attached (--attach kube-bench:CLUSTER=PATH)", cause)
        out.append(finding(c, status, "cluster", c["cluster"], reason, evidence=_newest_evidence(mine, c["evidence"])))
    for r in runs[runs["cluster"].isna() | (runs["cluster"] == "")].itertuples():
        out.append(finding(
            None, "MANUAL", "kube-bench-result", r.name, f"kube-bench result {r.name} names no cluster and several "
            "clusters were audited: attach it as kube-bench:CLUSTER=PATH to count it", evidence=r.evidence))
    regions = dict(zip(clusters["cluster"], clusters["region"]))
    out += _unreadable_results(runs, "kube-bench", KUBE_BENCH, "kube-bench-result", regions)
    for r in results[results["status"] == "FAIL"].itertuples():
        detail = f"; found {r.actual_value!r}" if r.actual_value and len(r.actual_value) < 120 else ""
        out.append(finding(None, "FAIL", "cis-benchmark-test", f"kube-bench:{r.file}:{r.test_number}",
                           f"CIS {r.benchmark or 'benchmark'} {r.test_number} failed ({r.node_type or 'unknown'} "
                           f"target): {r.test_desc}{detail}", evidence=r.evidence, cluster=r.cluster or "",
                           region=regions.get(r.cluster, "")))
    return out


@check("IMG-03", domain="images", title="Docker Bench for Security runs regularly", severity="medium",
       requirements=["R-IMG-3"], frames=("docker_bench_runs", "docker_bench_results"), inputs=(DOCKER_BENCH,),
       params={"docker_bench_max_age_days": 30},
       practice="The hosts that build container images are checked with Docker Bench for Security (CIS Docker "
                "Benchmark) at least every docker_bench_max_age_days days, and every warning is followed up. "
                "EKS nodes run containerd, not Docker, so this applies to image build hosts and CI runners; "
                "which hosts those are is not in the evidence, so a fresh result is MANUAL (confirm coverage), "
                "never PASS.",
       rationale="A compromised or weakly configured build host can inject code into every image it builds; "
                 "the benchmark catches daemon, file-permission and build-file weaknesses.",
       remediation="Run docker-bench-security on each build host on a schedule, attach its log "
                   "(--attach docker-bench=PATH, the .log.json and the .log), and fix or document each WARN.",
       references={})
def docker_bench_runs_regularly(f: Frames, p: dict) -> list[dict]:
    runs, now, max_days = f.docker_bench_runs, collected_at(f.evidence), int(p["docker_bench_max_age_days"])
    status, reason = _run_verdict(
        runs, now, max_days, "Docker Bench",
        "no Docker Bench for Security result was given (--attach docker-bench=PATH); it applies to the hosts that "
        "build images, since EKS nodes run containerd")
    if status == "PASS":
        # The practice is that the benchmark runs regularly, which a fresh result proves; which hosts build images
        # is in no evidence eksaudit reads, so the reason asks a reviewer to confirm the coverage.
        reason += "; a result covers the host it ran on: confirm every host that builds images is checked"
    notes = "; ".join(f"{r.name}: {r.note}" for r in runs[(runs["note"] != "") & (runs["status"] == "ok")].itertuples())
    out = [finding(None, status, "account", f.evidence.account,
                   reason + (f" (read with care: {notes})" if notes else ""),
                   evidence=_newest_evidence(runs, MANIFEST))]
    out += _unreadable_results(runs, "Docker Bench", DOCKER_BENCH, "docker-bench-result")
    res = f.docker_bench_results
    for r in res[res["result"] == "WARN"].itertuples():
        detail = f": {r.details}" if r.details else ""
        out.append(finding(None, "FAIL", "cis-benchmark-test", f"docker-bench:{r.file}:{r.id}",
                           f"CIS Docker Benchmark {r.id} warned: {r.desc}{detail[:300]}", evidence=r.evidence))
    return out


# ---- IMG-04 -------------------------------------------------------------------------------------------------


def _base_trusted(name: str, p: dict, accounts: set[str]) -> bool:
    """Whether a base image name is scratch (when trusted) or in an allowed registry or base pattern."""
    bases = p["trusted_base_images"] or []
    if name == "scratch" and "scratch" in bases:
        return True
    allowed = list(p["trusted_registries"] or []) + [b for b in bases if b != "scratch"]
    return _trusted_registry(split_image(name), accounts, allowed) or any(fnmatch.fnmatch(name, pat) for pat in allowed)


def _base_verdict(img: dict, image: str, where: str, base, p: dict, accounts: set[str]) -> dict:
    """What an image is built from: read from its ECR manifest, unknown outside the audited ECR."""
    if img["match"] == "not-audited-ecr":
        parts = split_image(image)
        if _trusted_registry(parts, accounts, list(p["trusted_registries"] or []) + AWS_ADDON_REGISTRIES):
            return finding(img, "MANUAL", "image", image, f"the base of {image} cannot be read outside the audited "
                           f"account's ECR; confirm it from its build (runs in {where})")
        return finding(img, "FAIL", "image", image, f"third-party public image from {parts['registry']} run as is, "
                       f"not built in-house (runs in {where})")
    if img["match"] != "matched":
        return finding(img, "ERROR" if img["match"].endswith("unreadable") else "MANUAL", "image", image,
                       f"the base cannot be determined: {img['match_detail']} (runs in {where})")
    if base is None:
        return finding(img, "MANUAL", "image", image, f"the base cannot be determined: its manifest was not read "
                       f"(runs in {where})", evidence=img["image_evidence"])
    if base.status != "read":
        return finding(img, "ERROR" if base.status == "error" else "MANUAL", "image", image,
                       f"the base cannot be determined: its manifest could not be read ({BATCH_GET_IMAGE} "
                       f"{base.cause}) (runs in {where})", evidence=base.evidence)
    if not base.base_name:
        return finding(img, "MANUAL", "image", image, "the manifest has no org.opencontainers.image.base.name "
                       f"annotation: confirm the base from the Dockerfile or build pipeline (runs in {where})",
                       evidence=base.evidence)
    ok = _base_trusted(base.base_name, p, accounts)
    reason = f"built FROM {base.base_name}" + (", a trusted base" if ok else
                                                ", a third-party base outside the allow-list") + f" (runs in {where})"
    return finding(img, "PASS" if ok else "FAIL", "image", image, reason, evidence=base.evidence)


@check("IMG-04", domain="images", title="Images built from scratch or trusted bases", severity="medium",
       requirements=["R-IMG-4"], frames=("container_images", "ecr_image_bases"),
       params={"trusted_registries": [], "trusted_base_images": ["scratch"], "exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Images the organisation runs are built in-house, from scratch or from base images in its own "
                "registries (or ones listed in trusted_base_images / trusted_registries), not from unvetted "
                "third-party public images. The base is read from the OCI annotation "
                "org.opencontainers.image.base.name in the ECR manifest.",
       rationale="A third-party base image brings every package and script its publisher put in it; "
                 "preconfigured public images have shipped miners and back doors.",
       remediation="Build FROM scratch or a minimal base mirrored and vetted in your own ECR; have the build set "
                   "the org.opencontainers.image.base.name annotation (e.g. `docker buildx build --annotation` or "
                   "ko/jib defaults) so the base can be audited.",
       references={})
def images_built_from_trusted_bases(f: Frames, p: dict) -> list[dict]:
    accounts = {f.evidence.account}
    bases = {(b.region, b.repository, b.digest): b for b in f.ecr_image_bases.itertuples(index=False)}
    out = []
    for image, img, where in _running(f, p["exclude_namespaces"]):
        base = bases.get((img["ecr_region"], img["repository"], img["image_digest"]))
        out.append(_base_verdict(img, image, where, base, p, accounts))
    return out


# ---- IMG-05 -------------------------------------------------------------------------------------------------


def _repository_scanning_verdicts(f: Frames) -> list[dict]:
    """Whether each ECR repository scans what is pushed to it (scan on push or a registry scanning rule)."""
    registry = {r.region: {"scan_type": r.scan_type, "rules": r.rules} for r in f.ecr_registry_scanning.itertuples()}
    reg_errors = {e["region"]: describe(e.get("error", {}))
                  for e in f.evidence.errors(GET_REGISTRY_SCANNING_CONFIGURATION)}
    out = []
    for r in f.ecr_repositories.to_dict("records"):
        covered, how = scan_coverage(r, registry.get(r["region"]))
        if covered is None and r["scan_on_push"]:
            covered, how = True, "scan on push is on"
        if covered is None:
            how += (f" ({GET_REGISTRY_SCANNING_CONFIGURATION} {reg_errors.get(r['region'], 'not collected')}) "
                    "and scan on push is off")
        out.append(finding(r, {True: "PASS", False: "FAIL", None: "ERROR"}[covered], "ecr-repository", r["arn"],
                           f"repository {r['repository']}: {how}"))
    return out


def _counts_text(img: dict, severities: list[str]) -> str:
    return ", ".join(f"{int(img[s.lower()])} {s}" for s in severities if int(img[s.lower()]))


def _scan_verdict(img: dict, image: str, where: str, threshold: str) -> dict:
    """Whether what runs was scanned, and what the scan found at or above the threshold."""
    match, ev = img["match"], img["image_evidence"] or img["evidence"]
    if match in ("not-audited-ecr", "region-not-audited"):
        return finding(img, "MANUAL", "image", image, f"scan results are not readable: {img['match_detail']}; "
                       f"check that registry's scanning ({where})")
    if match.endswith("unreadable"):
        return finding(img, "ERROR", "image", image, f"could not verify the scan: {img['match_detail']} ({where})",
                       evidence=MANIFEST)
    if match != "matched":
        return finding(img, "FAIL", "image", image, "what runs cannot be matched to a scanned ECR image: "
                       f"{img['match_detail']} ({where})")
    if img["scan_status"] == "UNKNOWN":
        return finding(img, "ERROR", "image", image, f"could not verify the scan: {img['scan_detail']} ({where})",
                       evidence=MANIFEST)
    if img["scan_status"] == "NOT_SCANNED":
        return finding(img, "FAIL", "image", image, f"never scanned: {img['scan_detail']} ({where})", evidence=ev)
    if img["scan_status"] not in SCANNED:
        return finding(img, "FAIL", "image", image, f"no completed scan: status {img['scan_status']} "
                       f"{img['scan_detail']} ({where})", evidence=ev)
    bad = SEVERITIES[:SEVERITIES.index(threshold) + 1] if threshold in SEVERITIES else SEVERITIES[:2]
    hits = _counts_text(img, bad)
    when = f" on {img['scan_completed_at']:%Y-%m-%d}" if pd.notna(img["scan_completed_at"]) else ""
    if hits:
        return finding(img, "FAIL", "image", image, f"scan{when} found {hits} findings (threshold {threshold}) "
                       f"({where})", evidence=ev, severity="critical" if int(img["critical"]) else "high")
    rest = _counts_text(img, SEVERITIES) or "no findings"
    return finding(img, "PASS", "image", image, f"scanned{when} ({img['scan_status']}): nothing at or above "
                   f"{threshold} ({rest}) ({where})", evidence=ev)


def _age_verdict(img: dict, image: str, where: str, now: pd.Timestamp, max_days: int) -> dict:
    """Whether a matched image was pushed (rebuilt) within max_days of the collection."""
    ev = img["image_evidence"] or img["evidence"]
    if pd.isna(img["pushed_at"]):
        return finding(img, "ERROR", "image", image, f"push time unknown: {DESCRIBE_IMAGES} gives no imagePushedAt "
                       f"({where})", evidence=ev)
    old = now - img["pushed_at"] > pd.Timedelta(days=max_days)
    return finding(img, "FAIL" if old else "PASS", "image", image, f"pushed on {_age_text(img['pushed_at'], now)}, "
                   f"{'older' if old else 'not older'} than {max_days} days ({where})", evidence=ev)


def _pinning_verdict(img: dict, image: str, where: str) -> dict:
    """Whether what runs is what was scanned: a digest, or a tag that cannot move."""
    tag, mutability = img["tag"], img["tag_mutability"]
    if img["digest"]:
        return finding(img, "PASS", "image", image, f"pinned by digest ({where})")
    if tag == "latest":
        return finding(img, "FAIL", "image", image, "runs by the tag latest, which moves with every push: what runs "
                       f"may not be what was scanned ({where})")
    if mutability.startswith("IMMUTABLE"):
        return finding(img, "PASS", "image", image, f"tag {tag} in a repository with immutable tags ({mutability}) "
                       f"({where})")
    if mutability.startswith("MUTABLE"):
        return finding(img, "FAIL", "image", image, f"tag {tag} in a repository with mutable tags: it can be "
                       f"re-pushed, so what runs may not be what was scanned ({where})")
    return finding(img, "MANUAL", "image", image, f"referenced by tag {tag}; tag immutability cannot be verified "
                   f"({img['match_detail']}): pin it by digest ({where})")


@check("IMG-05", domain="images", title="Images scanned and rebuilt regularly", severity="high",
       requirements=["R-IMG-5"],
       frames=("ecr_repositories", "ecr_registry_scanning"),
       soft_inputs=(*WORKLOAD_INPUTS, *ECR_IMAGE_INPUTS),
       params={"scan_severity_threshold": "HIGH", "max_image_age_days": 90, "exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every ECR repository scans images (scan on push or registry enhanced scanning); every running "
                "image has a completed scan without findings at or above scan_severity_threshold, was pushed "
                "within max_image_age_days, and is referenced so that what runs is what was scanned (a digest or "
                "an immutable tag, never `latest`).",
       rationale="Known-vulnerable libraries are the commonest way into a container; an image that is never "
                 "rebuilt keeps every vulnerability found since it was built, and a mutable tag can swap the "
                 "scanned image for another one.",
       remediation="Turn on scan on push or enhanced scanning, rebuild and redeploy images with critical or high "
                   "findings and those older than the limit, and deploy by digest or by tag from repositories "
                   "with immutable tags.",
       references={"cis_eks": ["5.1.1"], "securityhub": ["ECR.1"],
                   "prowler": ["ecr_repositories_scan_images_on_push_enabled",
                               "ecr_repositories_scan_vulnerabilities_in_latest_image"]})
def images_scanned_and_rebuilt(f: Frames, p: dict) -> list[dict]:
    # Workload and per-image inputs are read softly (container_images is not declared): a cluster whose objects
    # could not be read must not turn the account-level repository verdicts into ERROR. Gaps are handled here:
    # the workload inputs per cluster below, DescribeImages and DescribeImageScanFindings per repository and image
    # in the verdicts.
    now, max_days = collected_at(f.evidence), int(p["max_image_age_days"])
    threshold = str(p["scan_severity_threshold"]).upper()
    out = _repository_scanning_verdicts(f)
    for image, img, where in _running(f, p["exclude_namespaces"]):
        where = f"runs in {where}"
        out.append(_scan_verdict(img, image, where, threshold))
        if img["match"] == "matched":
            out.append(_age_verdict(img, image, where, now, max_days))
        out.append(_pinning_verdict(img, image, where))
    gaps = _input_gaps(f, WORKLOAD_INPUTS)
    out = [r for r in out if not (r["cluster"] in gaps and r["status"] == "PASS")]
    for cluster, cause in sorted(gaps.items()):
        out.append(finding(None, "ERROR", "evidence", cause.split(" ", 1)[0], f"could not verify the running images: "
                           f"{cause}", evidence=MANIFEST, cluster=cluster, region=f.evidence.clusters.get(cluster, "")))
    return out


# ---- IMG-06 -------------------------------------------------------------------------------------------------


@check("IMG-06", domain="images", title="Read-only root filesystem", severity="medium",
       requirements=["R-IMG-6"], frames=("containers",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every container mounts its root filesystem read-only.",
       rationale="A writable root filesystem lets an intruder drop tools or alter binaries inside a running "
                 "container; read-only roots force writes into explicit, auditable volumes.",
       remediation="Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes for the paths the "
                   "application must write (e.g. /tmp).",
       references={"kubescape": ["C-0017"], "hardeneks": ["check_read_only_root_file_system"]})
def root_filesystem_read_only(f: Frames, p: dict) -> pd.DataFrame:
    c = outside(f.containers, p["exclude_namespaces"])
    ro = c["read_only_root"]
    return findings(c, np.where(ro, "PASS", "FAIL"), np.where(ro, "readOnlyRootFilesystem is true",
                    "root filesystem is writable: readOnlyRootFilesystem is not true"), "container", container_id(c))


# ---- IMG-07, IMG-08 -----------------------------------------------------------------------------------------


def _tag_mutability_verdict(mode: str) -> tuple[str, str]:
    return {"IMMUTABLE": ("PASS", "tags are immutable"),
            "IMMUTABLE_WITH_EXCLUSION": ("MANUAL", "tags are immutable except those matching the repository's "
                                                   "exclusion filters: review them"),
            }.get(mode, ("FAIL", f"tags are mutable ({mode}): an image behind a tag can be replaced"))


@check("IMG-07", domain="images", title="ECR tag immutability on", severity="medium", requirements=["R-IMG-5"],
       frames=("ecr_repositories",),
       practice="Every ECR repository has immutable image tags, so a tag always names the image that was scanned "
                "and approved.",
       rationale="With mutable tags anyone who can push may replace the image behind a tag in use; the next "
                 "pod start then runs an unscanned image.",
       remediation="`aws ecr put-image-tag-mutability --image-tag-mutability IMMUTABLE` on each repository, and "
                   "give every build a unique tag.",
       references={"securityhub": ["ECR.2"], "prowler": ["ecr_repositories_tag_immutability"],
                   "hardeneks": ["use_immutable_tags_with_ecr"]})
def ecr_tags_immutable(f: Frames, p: dict) -> list[dict]:
    out = []
    for r in f.ecr_repositories.to_dict("records"):
        status, reason = _tag_mutability_verdict(r["tag_mutability"] or "unknown")
        out.append(finding(r, status, "ecr-repository", r["arn"], f"repository {r['repository']}: {reason}"))
    return out


def _lifecycle_verdict(name: str, lp) -> tuple[str, str, str]:
    """Status, reason and evidence for a repository's lifecycle policy read (None: never read)."""
    if lp is None:
        return "ERROR", f"{name}: its lifecycle policy was not read ({GET_LIFECYCLE_POLICY} not collected)", MANIFEST
    if lp.status == "error":
        return "ERROR", f"{name}: could not verify: {GET_LIFECYCLE_POLICY} {lp.cause}", lp.evidence
    if lp.status == "absent":
        return "FAIL", f"{name} has no lifecycle policy", lp.evidence
    if lp.rule_count == 0:
        return "FAIL", f"{name}: the lifecycle policy has no rules", lp.evidence
    n = "unreadable rules" if lp.rule_count < 0 else f"{lp.rule_count} rule(s)"
    return "PASS" if lp.rule_count > 0 else "MANUAL", f"{name} has a lifecycle policy ({n})", lp.evidence


@check("IMG-08", domain="images", title="ECR lifecycle policy configured", severity="medium", requirements=["R-IMG-5"],
       frames=("ecr_repositories",), soft_inputs=(GET_LIFECYCLE_POLICY,),
       practice="Every ECR repository has a lifecycle policy with at least one rule that expires old or untagged "
                "images.",
       rationale="Without expiry, superseded vulnerable images stay pullable indefinitely and can be deployed "
                 "again by mistake; the registry also keeps growing.",
       remediation="`aws ecr put-lifecycle-policy` with rules that expire untagged images after a few days and "
                   "keep only the last N releases.",
       references={"securityhub": ["ECR.3"], "prowler": ["ecr_repositories_lifecycle_policy_enabled"]})
def ecr_lifecycle_policy_configured(f: Frames, p: dict) -> list[dict]:
    # GetLifecyclePolicy is read per repository: a failed read makes only that repository ERROR.
    policies = {(r.region, r.repository): r for r in f.ecr_lifecycle_policies.itertuples(index=False)}
    out = []
    for r in f.ecr_repositories.to_dict("records"):
        status, reason, ev = _lifecycle_verdict(f"repository {r['repository']}",
                                                policies.get((r["region"], r["repository"])))
        out.append(finding(r, status, "ecr-repository", r["arn"], reason, evidence=ev))
    return out
