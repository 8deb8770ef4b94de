"""Images and compliance domain checks."""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from ..collect.faults import describe
from ..frames import Frames
from ..frames.images import ECR_IMAGE_INPUTS, collected_at, scan_coverage, split_image
from ..frames.kubernetes import WORKLOAD_INPUTS
from . import check
from .common import SYSTEM_NAMESPACES, container_id, result
from .common import row as _row

# Registries AWS itself publishes EKS add-ons from (VPC CNI, kube-proxy, CoreDNS, CSI drivers).
AWS_ADDON_REGISTRIES = ["602401143452.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com/eks/*",
                        "public.ecr.aws/eks/*", "public.ecr.aws/eks-distro/*"]


def _allowed(parts: dict, accounts: set[str], extra: list[str]) -> bool:
    if parts["ecr_account"] and parts["ecr_account"] in accounts:
        return True
    return any(fnmatch.fnmatch(parts["registry"], pat) or fnmatch.fnmatch(f"{parts['registry']}/{parts['repository']}", pat)
               for pat in extra)


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
       references={"cis_eks": "5.1.4", "kubescape": "C-0078"})
def img_01(f: Frames, p: dict) -> pd.DataFrame:
    c = f.containers[~f.containers["namespace"].isin(p["image_exclude_namespaces"] or [])]
    if c.empty:
        return pd.DataFrame()
    accounts = {f.evidence.account}
    parts = [split_image(i) for i in c["image"]]
    extra = list(p["trusted_registries"] or []) + (AWS_ADDON_REGISTRIES if p["trust_aws_addon_registries"] else [])
    ok = [_allowed(x, accounts, extra) for x in parts]
    reason = [f"image {img} from {x['registry']} " + ("(allowed)" if good else "is not from an allowed registry")
              for img, x, good in zip(c["image"], parts, ok)]
    return result(c, np.where(ok, "PASS", "FAIL"), pd.Series(reason, index=c.index), "container", container_id(c))


@check("IMG-06", domain="images", title="Read-only root filesystem", severity="medium",
       requirements=["R-IMG-6"], frames=("containers",), params={"exclude_namespaces": SYSTEM_NAMESPACES},
       practice="Every container mounts its root filesystem read-only.",
       rationale="A writable root filesystem lets an intruder drop tools or alter binaries inside a running "
                 "container; read-only roots force writes into explicit, auditable volumes.",
       remediation="Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes for the paths the "
                   "application must write (e.g. /tmp).",
       references={"cis_eks": "4.2.x (Pod Security Standards)", "kubescape": "C-0017"})
def img_06(f: Frames, p: dict) -> pd.DataFrame:
    c = f.containers[~f.containers["namespace"].isin(p["exclude_namespaces"] or [])]
    if c.empty:
        return pd.DataFrame()
    reason = np.where(c["read_only_root"], "readOnlyRootFilesystem is true",
                      "root filesystem is writable: readOnlyRootFilesystem is not true")
    return result(c, np.where(c["read_only_root"], "PASS", "FAIL"), reason, "container", container_id(c))


# ---- helpers for IMG-02..05, 07, 08 -------------------------------------------------------------------------

SEV_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"]
SCANNED = ("COMPLETE", "ACTIVE")


def _days(delta: pd.Timedelta) -> int:
    return int(delta.total_seconds() // 86400)


def _age_text(at: pd.Timestamp, now: pd.Timestamp) -> str:
    return f"{at:%Y-%m-%d} ({_days(now - at)} days before collection)"


def _where(g: pd.DataFrame) -> str:
    ids = sorted(set(container_id(g)))
    return ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _running(f: Frames, namespaces: list[str]) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """(cluster, image) groups of the containers outside the excluded namespaces."""
    c = f.container_images[~f.container_images["namespace"].isin(namespaces or [])]
    return list(c.groupby(["cluster", "image"], sort=True)) if not c.empty else []


def _input_errors(f: Frames, key: str) -> dict[str, str]:
    """cluster -> "<input> <cause>" for a Kubernetes input that failed."""
    return {e["cluster"]: f"{key} {describe(e.get('error', {}))}" for e in f.evidence.errors(key)}


def _k8s_gaps(f: Frames) -> dict[str, str]:
    """cluster -> the first workload input that could not be collected there, with its cause."""
    gaps: dict[str, str] = {}
    for key in WORKLOAD_INPUTS:
        for e in f.evidence.errors(key):
            gaps.setdefault(e["cluster"], f"{key} {describe(e.get('error', {}))}")
    return gaps


def _run_verdicts(runs: pd.DataFrame, now: pd.Timestamp, max_days: int, what: str, missing: str,
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


# ---- IMG-02 ---------------------------------------------------------------------------------------------


@check("IMG-02", domain="images", title="kube-bench (CIS EKS Benchmark) runs regularly", severity="medium",
       requirements=["R-IMG-2"], frames=("clusters", "kube_bench_results"), inputs=("file:kube-bench",),
       soft_inputs=("k8s:jobs", "k8s:cronjobs"),
       params={"kube_bench_max_age_days": 30},
       practice="Each cluster is checked against the CIS Amazon EKS Benchmark with kube-bench at least every "
                "kube_bench_max_age_days days, and every failed benchmark test is followed up.",
       rationale="Node and cluster settings drift as nodes are replaced and add-ons upgraded; only a recurring "
                 "benchmark run shows whether the hardening still holds.",
       remediation="Run kube-bench as a Kubernetes CronJob (e.g. `kube-bench run --benchmark eks-1.5.0 --json`) "
                   "and attach its result with --attach kube-bench:CLUSTER=PATH; fix each FAIL using the "
                   "remediation kube-bench prints for it.",
       references={"cis_eks": "CIS Amazon EKS Benchmark (all sections; kube-bench implements it)",
                   "securityhub": "none (kube-bench results can be imported as ASFF findings)",
                   "prowler": "none"})
def img_02(f: Frames, p: dict) -> list[dict]:
    # Jobs/CronJobs are read softly: a fresh attached result proves a run even when they could not be read.
    runs, now, max_days = f.kube_bench_runs, collected_at(f.evidence), int(p["kube_bench_max_age_days"])
    results = f.kube_bench_results
    clusters = f.clusters
    job_errors = {**_input_errors(f, "k8s:cronjobs"), **_input_errors(f, "k8s:jobs")}
    # A result that names no cluster counts for the only audited cluster (the account may hold others).
    audited = clusters[clusters["audited"]]
    single = audited["cluster"].iloc[0] if len(audited) == 1 else None
    runs = runs.assign(cluster=runs["cluster"].replace("", single)) if single else runs
    results = results.assign(cluster=results["cluster"].replace("", single)) if single else results
    out = []
    for c in clusters.itertuples(index=False):
        mine = runs[runs["cluster"] == c.cluster]
        cause = f"Kubernetes Jobs/CronJobs could not be read ({job_errors[c.cluster]})" if c.cluster in job_errors \
            else ""
        status, reason = _run_verdicts(
            mine, now, max_days, "kube-bench",
            "no evidence of a kube-bench run: no kube-bench Job or CronJob with a successful run in the cluster and "
            "no kube-bench result attached (--attach kube-bench:CLUSTER=PATH)", cause)
        ev = mine.sort_values("run_at")["evidence"].iloc[-1] if not mine.empty else c.evidence
        out.append(_row(status, "cluster", c.cluster, reason, ev, c.cluster, c.region, c.account_id))
    for r in runs[runs["cluster"].isna() | (runs["cluster"] == "")].itertuples():
        out.append(_row("MANUAL", "kube-bench-result", r.name, f"kube-bench result {r.name} names no cluster and "
                        "several clusters were audited: attach it as kube-bench:CLUSTER=PATH to count it", r.evidence))
    regions = dict(zip(clusters["cluster"], clusters["region"]))
    for r in runs[runs["status"] == "error"].itertuples():
        out.append(_row("ERROR", "kube-bench-result", r.name, f"kube-bench result {r.name} (file:kube-bench) is "
                        f"unreadable: {r.error}",
                        r.evidence, r.cluster or "", regions.get(r.cluster, "")))
    for r in results[results["status"] == "FAIL"].itertuples():
        detail = f"; found {r.actual_value!r}" if r.actual_value and len(r.actual_value) < 120 else ""
        out.append(_row("FAIL", "cis-benchmark-test", f"kube-bench:{r.file}:{r.test_number}",
                        f"CIS {r.benchmark or 'benchmark'} {r.test_number} failed ({r.node_type or 'unknown'} "
                        f"target): {r.test_desc}{detail}", r.evidence, r.cluster or "",
                        regions.get(r.cluster, "")))
    return out


# ---- IMG-03 ---------------------------------------------------------------------------------------------


@check("IMG-03", domain="images", title="Docker Bench for Security runs regularly", severity="medium",
       requirements=["R-IMG-3"], frames=("docker_bench_runs", "docker_bench_results"), inputs=("file:docker-bench",),
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
       references={"cis_eks": "none (CIS Docker Benchmark)", "securityhub": "none", "prowler": "none"})
def img_03(f: Frames, p: dict) -> list[dict]:
    runs, now, max_days = f.docker_bench_runs, collected_at(f.evidence), int(p["docker_bench_max_age_days"])
    account = f.evidence.account
    status, reason = _run_verdicts(
        runs, now, max_days, "Docker Bench",
        "no Docker Bench for Security result was given (--attach docker-bench=PATH); it applies to the hosts that "
        "build images, since EKS nodes run containerd")
    if status == "PASS":
        # The practice is that the benchmark runs regularly, which a fresh result proves; which hosts build images
        # is in no evidence eksaudit reads, so the reason asks a reviewer to confirm the coverage.
        reason += "; a result covers the host it ran on: confirm every host that builds images is checked"
    ev = runs.sort_values("run_at")["evidence"].iloc[-1] if not runs.empty else "evidence/manifest.json"
    notes = "; ".join(f"{r.name}: {r.note}" for r in runs[(runs["note"] != "") & (runs["status"] == "ok")].itertuples())
    out = [_row(status, "account", account, reason + (f" (read with care: {notes})" if notes else ""), ev)]
    for r in runs[runs["status"] == "error"].itertuples():
        out.append(_row("ERROR", "docker-bench-result", r.name, f"Docker Bench result {r.name} (file:docker-bench) is "
                        f"unreadable: {r.error}", r.evidence))
    res = f.docker_bench_results
    for r in res[res["result"] == "WARN"].itertuples():
        detail = f": {r.details}" if r.details else ""
        out.append(_row("FAIL", "cis-benchmark-test", f"docker-bench:{r.file}:{r.id}",
                        f"CIS Docker Benchmark {r.id} warned: {r.desc}{detail[:300]}", r.evidence))
    return out


# ---- IMG-04 ---------------------------------------------------------------------------------------------


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
       references={"cis_eks": "5.1.x (image registries and provenance)", "securityhub": "none", "prowler": "none"})
def img_04(f: Frames, p: dict) -> list[dict]:
    accounts = {f.evidence.account}
    trusted = list(p["trusted_registries"] or [])
    base_ok = trusted + [b for b in (p["trusted_base_images"] or []) if b != "scratch"]
    bases = {(b.region, b.repository, b.digest): b for b in f.ecr_image_bases.itertuples(index=False)}
    out = []
    for (cluster, image), g in _running(f, p["exclude_namespaces"]):
        first = g.iloc[0]
        where = _where(g)
        row = {"cluster": cluster, "region": first["region"], "account_id": first["account_id"]}
        if first["match"] == "not-audited-ecr":
            parts = split_image(image)
            if _allowed(parts, accounts, trusted + AWS_ADDON_REGISTRIES):
                out.append(_row("MANUAL", "image", image, f"the base of {image} cannot be read outside the audited "
                                f"account's ECR; confirm it from its build (runs in {where})", first["evidence"],
                                **row))
            else:
                out.append(_row("FAIL", "image", image, f"third-party public image from {parts['registry']} run as "
                                f"is, not built in-house (runs in {where})", first["evidence"], **row))
            continue
        if first["match"] != "matched":
            status = "ERROR" if first["match"].endswith("unreadable") else "MANUAL"
            out.append(_row(status, "image", image, f"the base cannot be determined: {first['match_detail']} "
                            f"(runs in {where})", first["evidence"], **row))
            continue
        b = bases.get((first["ecr_region"], first["repository"], first["image_digest"]))
        if b is None or b.status != "read":
            why = "its manifest was not read" if b is None else \
                f"its manifest could not be read (aws:ecr:BatchGetImage {b.cause})"
            out.append(_row("ERROR" if b is not None and b.status == "error" else "MANUAL", "image", image,
                            f"the base cannot be determined: {why} (runs in {where})",
                            b.evidence if b is not None else first["image_evidence"], **row))
            continue
        if not b.base_name:
            out.append(_row("MANUAL", "image", image, "the manifest has no org.opencontainers.image.base.name "
                            f"annotation: confirm the base from the Dockerfile or build pipeline (runs in {where})",
                            b.evidence, **row))
            continue
        if b.base_name == "scratch" and "scratch" in (p["trusted_base_images"] or []):
            ok = True
        else:
            ok = _allowed(split_image(b.base_name), accounts, base_ok) or any(
                fnmatch.fnmatch(b.base_name, pat) for pat in base_ok)
        reason = f"built FROM {b.base_name}" + (", a trusted base" if ok else
                                                 ", a third-party base outside the allow-list") + f" (runs in {where})"
        out.append(_row("PASS" if ok else "FAIL", "image", image, reason, b.evidence, **row))
    return out


# ---- IMG-05 ---------------------------------------------------------------------------------------------


def _counts_text(row, severities: list[str]) -> str:
    parts = [f"{int(row[s.lower()])} {s}" for s in severities if int(row[s.lower()])]
    return ", ".join(parts)


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
       references={"cis_eks": "5.1.1 (image vulnerability scanning)", "securityhub": "ECR.1",
                   "prowler": "ecr_repositories_scan_images_on_push_enabled, "
                              "ecr_repositories_scan_vulnerabilities_in_latest_image"})
def img_05(f: Frames, p: dict) -> list[dict]:
    # Workload and per-image inputs are read softly (container_images is not declared): a cluster whose objects
    # could not be read must not turn the account-level repository verdicts into ERROR. Gaps are handled below:
    # k8s:pods, k8s:deployments, k8s:daemonsets, k8s:statefulsets, k8s:replicasets, k8s:jobs, k8s:cronjobs per
    # cluster; aws:ecr:DescribeImages and aws:ecr:DescribeImageScanFindings per repository and image.
    now = collected_at(f.evidence)
    threshold = str(p["scan_severity_threshold"]).upper()
    bad = SEV_ORDER[:SEV_ORDER.index(threshold) + 1] if threshold in SEV_ORDER else SEV_ORDER[:2]
    max_days = int(p["max_image_age_days"])
    out = []
    registry = {r.region: {"scan_type": r.scan_type, "rules": r.rules} for r in f.ecr_registry_scanning.itertuples()}
    reg_errors = {e["region"]: describe(e.get("error", {}))
                  for e in f.evidence.errors("aws:ecr:GetRegistryScanningConfiguration")}
    for r in f.ecr_repositories.to_dict("records"):
        covered, how = scan_coverage(r, registry.get(r["region"]))
        if covered is None and r["scan_on_push"]:
            covered, how = True, "scan on push is on"
        status = {True: "PASS", False: "FAIL", None: "ERROR"}[covered]
        if covered is None:
            how += (f" (aws:ecr:GetRegistryScanningConfiguration {reg_errors.get(r['region'], 'not collected')}) "
                    "and scan on push is off")
        out.append(_row(status, "ecr-repository", r["arn"], f"repository {r['repository']}: {how}", r["evidence"],
                        region=r["region"], account_id=r["account_id"]))
    for (cluster, image), g in _running(f, p["exclude_namespaces"]):
        first = g.iloc[0]
        where = f"runs in {_where(g)}"
        row = {"cluster": cluster, "region": first["region"], "account_id": first["account_id"]}
        ev, match = first["image_evidence"] or first["evidence"], first["match"]
        # scan result
        if match == "not-audited-ecr" or match == "region-not-audited":
            out.append(_row("MANUAL", "image", image, f"scan results are not readable: {first['match_detail']}; "
                            f"check that registry's scanning ({where})", first["evidence"], **row))
        elif match.endswith("unreadable"):
            out.append(_row("ERROR", "image", image, f"could not verify the scan: {first['match_detail']} ({where})",
                            "evidence/manifest.json", **row))
        elif match != "matched":
            out.append(_row("FAIL", "image", image, f"what runs cannot be matched to a scanned ECR image: "
                            f"{first['match_detail']} ({where})", first["evidence"], **row))
        elif first["scan_status"] == "UNKNOWN":
            out.append(_row("ERROR", "image", image, f"could not verify the scan: {first['scan_detail']} ({where})",
                            "evidence/manifest.json", **row))
        elif first["scan_status"] == "NOT_SCANNED":
            out.append(_row("FAIL", "image", image, f"never scanned: {first['scan_detail']} ({where})", ev, **row))
        elif first["scan_status"] not in SCANNED:
            out.append(_row("FAIL", "image", image, f"no completed scan: status {first['scan_status']} "
                            f"{first['scan_detail']} ({where})", ev, **row))
        else:
            hits = _counts_text(first, bad)
            when = f" on {first['scan_completed_at']:%Y-%m-%d}" if pd.notna(first["scan_completed_at"]) else ""
            if hits:
                sev = "critical" if int(first["critical"]) else "high"
                out.append(_row("FAIL", "image", image, f"scan{when} found {hits} findings (threshold {threshold}) "
                                f"({where})", ev, severity=sev, **row))
            else:
                rest = _counts_text(first, SEV_ORDER) or "no findings"
                out.append(_row("PASS", "image", image, f"scanned{when} ({first['scan_status']}): nothing at or "
                                f"above {threshold} ({rest}) ({where})", ev, **row))
        # age
        if match == "matched":
            if pd.isna(first["pushed_at"]):
                out.append(_row("ERROR", "image", image, f"push time unknown: aws:ecr:DescribeImages gives no "
                                f"imagePushedAt ({where})", ev, **row))
            else:
                old = now - first["pushed_at"] > pd.Timedelta(days=max_days)
                out.append(_row("FAIL" if old else "PASS", "image", image,
                                f"pushed on {_age_text(first['pushed_at'], now)}, "
                                f"{'older' if old else 'not older'} than {max_days} days ({where})", ev, **row))
        # what runs is what was scanned
        tag, digest = first["tag"], first["digest"]
        if digest:
            out.append(_row("PASS", "image", image, f"pinned by digest ({where})", first["evidence"], **row))
        elif tag == "latest":
            out.append(_row("FAIL", "image", image, f"runs by the tag latest, which moves with every push: what runs "
                            f"may not be what was scanned ({where})", first["evidence"], **row))
        elif first["tag_mutability"].startswith("IMMUTABLE"):
            out.append(_row("PASS", "image", image, f"tag {tag} in a repository with immutable tags "
                            f"({first['tag_mutability']}) ({where})", first["evidence"], **row))
        elif first["tag_mutability"].startswith("MUTABLE"):
            out.append(_row("FAIL", "image", image, f"tag {tag} in a repository with mutable tags: it can be "
                            f"re-pushed, so what runs may not be what was scanned ({where})", first["evidence"], **row))
        else:
            out.append(_row("MANUAL", "image", image, f"referenced by tag {tag}; tag immutability cannot be verified "
                            f"({first['match_detail']}): pin it by digest ({where})", first["evidence"], **row))
    gaps = _k8s_gaps(f)
    out = [r for r in out if not (r["cluster"] in gaps and r["status"] == "PASS")]
    for cluster, cause in sorted(gaps.items()):
        out.append(_row("ERROR", "evidence", cause.split(" ", 1)[0], f"could not verify the running images: {cause}",
                        "evidence/manifest.json", cluster, f.evidence.clusters.get(cluster, "")))
    return out


# ---- IMG-07, IMG-08 -----------------------------------------------------------------------------------------


@check("IMG-07", domain="images", title="ECR tag immutability on", severity="medium", requirements=["R-IMG-5"],
       frames=("ecr_repositories",),
       practice="Every ECR repository has immutable image tags, so a tag always names the image that was scanned "
                "and approved.",
       rationale="With mutable tags anyone who can push may replace the image behind a tag in use; the next "
                 "pod start then runs an unscanned image.",
       remediation="`aws ecr put-image-tag-mutability --image-tag-mutability IMMUTABLE` on each repository, and "
                   "give every build a unique tag.",
       references={"cis_eks": "5.1.x (image registries)", "securityhub": "ECR.2",
                   "prowler": "ecr_repositories_tag_immutability"})
def img_07(f: Frames, p: dict) -> list[dict]:
    out = []
    for r in f.ecr_repositories.to_dict("records"):
        mode = r["tag_mutability"] or "unknown"
        status, reason = {"IMMUTABLE": ("PASS", "tags are immutable"),
                          "IMMUTABLE_WITH_EXCLUSION": ("MANUAL", "tags are immutable except those matching the "
                                                                 "repository's exclusion filters: review them")
                          }.get(mode, ("FAIL", f"tags are mutable ({mode}): an image behind a tag can be replaced"))
        out.append(_row(status, "ecr-repository", r["arn"], f"repository {r['repository']}: {reason}", r["evidence"],
                        region=r["region"], account_id=r["account_id"]))
    return out


@check("IMG-08", domain="images", title="ECR lifecycle policy configured", severity="medium", requirements=["R-IMG-5"],
       frames=("ecr_repositories",), soft_inputs=("aws:ecr:GetLifecyclePolicy",),
       practice="Every ECR repository has a lifecycle policy with at least one rule that expires old or untagged "
                "images.",
       rationale="Without expiry, superseded vulnerable images stay pullable indefinitely and can be deployed "
                 "again by mistake; the registry also keeps growing.",
       remediation="`aws ecr put-lifecycle-policy` with rules that expire untagged images after a few days and "
                   "keep only the last N releases.",
       references={"cis_eks": "none", "securityhub": "ECR.3", "prowler": "ecr_repositories_lifecycle_policy_enabled"})
def img_08(f: Frames, p: dict) -> list[dict]:
    # GetLifecyclePolicy is read per repository: a failed read makes only that repository ERROR.
    policies = {(r.region, r.repository): r for r in f.ecr_lifecycle_policies.itertuples(index=False)}
    out = []
    for r in f.ecr_repositories.to_dict("records"):
        lp = policies.get((r["region"], r["repository"]))
        base = {"region": r["region"], "account_id": r["account_id"]}
        name = f"repository {r['repository']}"
        if lp is None:
            out.append(_row("ERROR", "ecr-repository", r["arn"], f"{name}: its lifecycle policy was not read "
                            "(aws:ecr:GetLifecyclePolicy not collected)", "evidence/manifest.json", **base))
        elif lp.status == "error":
            out.append(_row("ERROR", "ecr-repository", r["arn"], f"{name}: could not verify: "
                            f"aws:ecr:GetLifecyclePolicy {lp.cause}", lp.evidence, **base))
        elif lp.status == "absent":
            out.append(_row("FAIL", "ecr-repository", r["arn"], f"{name} has no lifecycle policy", lp.evidence,
                            **base))
        elif lp.rule_count == 0:
            out.append(_row("FAIL", "ecr-repository", r["arn"], f"{name}: the lifecycle policy has no rules",
                            lp.evidence, **base))
        else:
            n = "unreadable rules" if lp.rule_count < 0 else f"{lp.rule_count} rule(s)"
            out.append(_row("PASS" if lp.rule_count > 0 else "MANUAL", "ecr-repository", r["arn"],
                            f"{name} has a lifecycle policy ({n})", lp.evidence, **base))
    return out
