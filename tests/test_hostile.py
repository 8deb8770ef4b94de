"""Hostile input: payloads in names, labels, annotations, tags and policies are escaped everywhere; malformed
input ends with one clear line, exit code 2 and no pack that looks complete."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eksaudit.cli import main
from eksaudit.progress import is_progress
from eksaudit.testing import assert_no_crash

MARK = "xssprobe"
SCRIPT = f'<script>alert("{MARK}-script")</script>'
IMG = f'<img src=x onerror=alert("{MARK}-img")>'
ATTR = f'" onmouseover="alert(\'{MARK}-attr\')" data-x="'
JS = f'javascript:alert("{MARK}-js")'
SVG = f"<svg/onload=alert('{MARK}-svg')>"
CTRL = f"{MARK}-ctl\x00\x07\x1b[31mred\x1b[0m\x7f"
RTL = f"{MARK}-invoice\u202egpj.exe\u2066x\u2069"
LONG = f"{MARK}-long-" + "A" * 20000
PAYLOADS = [SCRIPT, IMG, ATTR, JS, SVG]
# Markup that would run if it reached a page unescaped. A quote in text content is harmless: the attribute
# payload is caught by the "marker never inside a tag" rule below.
RAW_DANGER = [SCRIPT, IMG, SVG, f'href="javascript:alert("{MARK}', f'src="javascript:alert("{MARK}']


def hostile_objects() -> list[dict]:
    from eksaudit.demo.cluster_objects import container, deployment, service_account

    ns = f"hostile{SCRIPT}"
    annotations = {"a-script": SCRIPT, "a-img": IMG, "a-attr": ATTR, "a-js": JS, "a-ctrl": CTRL, "a-rtl": RTL,
                   "a-long": LONG, SVG: "key-is-hostile"}
    objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": ns, "labels": {"team": IMG, "x": ATTR}, "annotations": annotations}}]
    objs.append(service_account(f"sa{IMG}", ns, {"eks.amazonaws.com/role-arn": JS}))
    spec = {"serviceAccountName": f"sa{IMG}", "containers": [
        container(f"c{ATTR}", f"evil.example/{SVG}:latest"),
        container(f"ctl{CTRL}", f"docker.io/library/nginx:{RTL}", {"runAsUser": 0})]}
    objs += deployment(f"web{SCRIPT}", ns, spec, app=f"app{SVG}", replicas=1)
    objs += deployment(f"long-{LONG}", ns, {"containers": [container("main", f"nginx:{JS}")]}, replicas=1)
    for o in objs:
        meta = o.setdefault("metadata", {})
        meta.setdefault("annotations", {}).update({"hostile": SCRIPT, "rtl": RTL})
        meta.setdefault("labels", {}).update({"evil": ATTR})
    objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                 "metadata": {"name": f"role{SCRIPT}"},
                 "rules": [{"apiGroups": [""], "resources": ["secrets", IMG], "verbs": ["get", "*"]}]})
    objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                 "metadata": {"name": f"bind{ATTR}"},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"role{SCRIPT}"},
                 "subjects": [{"kind": "User", "name": f"user{SVG}"}, {"kind": "Group", "name": "system:authenticated"}]})
    return objs


def seed_hostile_aws(acct) -> None:
    """Tags and policy documents with payloads, on top of the normal demo account."""
    from eksaudit.demo.account import WEAK

    eks, iam = acct.client("eks"), acct.client("iam")
    arn = eks.describe_cluster(name=WEAK)["cluster"]["arn"]
    eks.tag_resource(resourceArn=arn, tags={"owner": SCRIPT, "note": RTL, "cost": IMG})
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["eks:*", "s3:GetObject"], "Resource": [f"arn:aws:s3:::bucket/{SCRIPT}"],
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": [IMG, ATTR, JS, CTRL]}}}]}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": "*"}}]}
    iam.create_role(RoleName="hostile-role", AssumeRolePolicyDocument=json.dumps(trust),
                    Description=SCRIPT, Tags=[{"Key": "note", "Value": IMG}])
    iam.put_role_policy(RoleName="hostile-role", PolicyName="hostile", PolicyDocument=json.dumps(doc))


def build_hostile_pack(out: str) -> None:
    """Run in a subprocess: moto keeps its accounts per process, so a second demo account here would collide
    with the session's demo environment."""
    from eksaudit.collect.run import collect
    from eksaudit.demo.account import WEAK
    from eksaudit.demo.cluster_objects import demo_clusters
    from eksaudit.demo.run import demo_environment
    from eksaudit.runner import run_pack

    clusters = demo_clusters()
    clusters[WEAK] = clusters[WEAK] + hostile_objects()
    with demo_environment(clusters=clusters) as (target, source, extra):
        seed_hostile_aws(extra["account"])
        run_pack(Path(out), collect=lambda d: collect(target, source, d, attachments=extra["attachments"]))


@pytest.fixture(scope="module")
def hostile_pack(tmp_path_factory):
    """A full pack of the demo account with hostile objects added (its own moto and Kubernetes endpoint)."""
    import os
    import subprocess
    import sys

    import pandas as pd

    out = tmp_path_factory.mktemp("hostile") / "pack"
    root = Path(__file__).resolve().parent.parent
    code = f"from tests.test_hostile import build_hostile_pack; build_hostile_pack({str(out)!r})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, pd.DataFrame(json.loads((out / "findings.json").read_text()))


def _html_outputs(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            html = (out.get("data") or {}).get("text/html")
            if html:
                parts.append("".join(html) if isinstance(html, list) else html)
    return "\n".join(parts)


def test_hostile_pack_is_complete(hostile_pack):
    from eksaudit.pack import verify

    pack, findings = hostile_pack
    assert verify(pack) == []
    for name in ("index.html", "iam.html", "network.html", "logging.html", "images.html", "findings.csv",
                 "findings.json", "run.json"):
        assert (pack / name).is_file(), name
    assert not list(pack.parent.glob(".*partial*"))
    assert findings["reason"].str.contains(MARK, regex=False).any() or \
        findings["resource_id"].str.contains(MARK, regex=False).any(), "the payloads reached the findings"
    assert_no_crash(findings)


def test_payloads_only_escaped_in_html(hostile_pack):
    pack, _ = hostile_pack
    pages = {p.name: p.read_text(encoding="utf-8") for p in pack.glob("*.html")}
    pages.update({f"notebooks/{p.name}": _html_outputs(p) for p in (pack / "notebooks").glob("*.ipynb")})
    pages.update({f"evidence-view/{p.name}": p.read_text(encoding="utf-8")
                  for p in (pack / "evidence-view").glob("*.html")})
    assert any(name.startswith("evidence-view/") and MARK in text for name, text in pages.items()), \
        "the evidence viewer pages show the hostile responses"
    assert set(pages) >= {"index.html", "iam.html", "images.html"}
    shown = [name for name, text in pages.items() if MARK in text]
    assert shown, "no page shows the hostile resources at all: the test would prove nothing"
    escaped = "&lt;script&gt;alert(&quot;" + MARK
    assert any(escaped in t for t in pages.values()), "the script payload is shown escaped somewhere"
    for name, text in pages.items():
        for danger in RAW_DANGER:
            assert danger not in text, f"{name}: raw payload {danger!r}"
        # no element or attribute made from data: every marker sits in text, never inside a tag
        for m in re.finditer(re.escape(MARK), text):
            tag_open = text.rfind("<", 0, m.start())
            tag_close = text.rfind(">", 0, m.start())
            assert tag_close > tag_open, f"{name}: payload inside a tag: {text[max(0, tag_open):m.end() + 20]!r}"
        for ch in ("\u202e", "\u2066", "\u2069", "\x00", "\x07", "\x1b"):
            assert ch not in text, f"{name}: raw control/bidi character {ch!r}"


def test_hostile_data_survives_as_data(hostile_pack):
    """CSV and JSON keep the values (they are data, not markup) and stay parseable."""
    import pandas as pd

    pack, findings = hostile_pack
    back = json.loads((pack / "findings.json").read_text())
    assert len(back) == len(findings)
    csv = pd.read_csv(pack / "findings.csv", keep_default_na=False)
    assert len(csv) == len(findings)


# ---- malformed input: one line, exit 2, no pack ------------------------------------------------------------


def _one_line_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not is_progress(line)]
    assert len(err) == 1, err
    assert err[0].startswith("eksaudit: error: ") and len(err[0]) < 600, err[0][:800]
    return err[0]


def _no_pack(tmp_path: Path, name: str = "pack") -> None:
    assert not (tmp_path / name).exists(), "no pack folder may exist"
    assert not list(tmp_path.glob(f".{name}.partial*")), "no half pack may be left"


def _huge_truncated(path: Path) -> None:
    item = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"},
                       "spec": {"containers": [{"name": "c", "image": "x" * 1000}]}})
    with path.open("w") as fh:
        fh.write('{"apiVersion": "v1", "kind": "List", "items": [')
        n = 50_000_000 // (len(item) + 1)
        fh.write(",".join([item] * n))  # never closed: truncated


SNAPSHOTS = {
    "truncated": lambda p: p.write_text('{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Pod", "meta'),
    "items-not-objects": lambda p: p.write_text(json.dumps({"kind": "List", "items": [1, "two"]})),
    "metadata-not-object": lambda p: p.write_text(json.dumps({"kind": "List", "items": [
        {"kind": "Pod", "apiVersion": "v1", "metadata": "oops", "spec": {}}]})),
    "items-not-list": lambda p: p.write_text(json.dumps({"kind": "List", "items": {"a": 1}})),
    "not-utf8": lambda p: p.write_bytes(b'{"kind": "List", "items": ["\xff\xfe"]}'),
    "json-array": lambda p: p.write_text("[]"),
    "huge-truncated": _huge_truncated,
}


@pytest.mark.parametrize("case", sorted(SNAPSHOTS))
def test_malformed_snapshot(case, capsys, tmp_path, demo_env):
    target, _, _ = demo_env
    snap = tmp_path / "pods.json"
    SNAPSHOTS[case](snap)
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--k8s-snapshot", f"prod-hardened={snap}",
               "--cluster", "prod-hardened", "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert "snapshot" in _one_line_error(capsys)
    _no_pack(tmp_path)


def test_run_with_missing_kubeconfig(capsys, tmp_path, demo_env):
    target, _, _ = demo_env
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--kubeconfig", str(tmp_path / "nope"),
               "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert "kubeconfig" in _one_line_error(capsys)
    _no_pack(tmp_path)


def test_run_with_unreadable_kubeconfig(capsys, tmp_path, demo_env):
    target, _, _ = demo_env
    kc = tmp_path / "kc"
    kc.write_text("clusters: [\n  not yaml: {")
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--kubeconfig", str(kc), "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert "kubeconfig" in _one_line_error(capsys)
    _no_pack(tmp_path)


def test_run_with_unknown_cluster(capsys, tmp_path, demo_env):
    target, _, _ = demo_env
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--cluster", "no-such-cluster",
               "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert "unknown cluster" in _one_line_error(capsys)
    _no_pack(tmp_path)


@pytest.mark.parametrize("args,message", [
    (["--region", "us-east-1; rm -rf /"], "unknown region"),
    (["--region", "<script>"], "unknown region"),
    (["--attach", "nmap=/etc/passwd"], "bad --attach"),
    (["--attach", "kube-bench=/no/such/file"], "attachment not found"),
    (["--fail-on", "sometimes"], "--fail-on"),
])
def test_run_with_invalid_parameters(args, message, capsys, tmp_path, demo_env):
    target, _, _ = demo_env
    rc = main(["run", "--endpoint-url", target.endpoint_url, "--cluster", "prod-hardened", *args,
               "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert message in _one_line_error(capsys)
    _no_pack(tmp_path)


@pytest.mark.parametrize("manifest", ["{broken", "", "[]"])
def test_run_with_corrupt_evidence_manifest(manifest, capsys, tmp_path):
    ev = tmp_path / "evidence"
    ev.mkdir()
    (ev / "manifest.json").write_text(manifest)
    rc = main(["run", "--evidence", str(ev), "--out", str(tmp_path / "pack")])
    assert rc == 2
    assert "manifest" in _one_line_error(capsys)
    _no_pack(tmp_path)


def test_interrupted_run_leaves_no_pack(tmp_path, demo_evidence):
    """A run stopped half way (Ctrl-C during the checks) leaves neither the pack nor its temporary folder."""
    import eksaudit.runner as runner

    def stop(*_a, **_k):
        raise KeyboardInterrupt

    mp = pytest.MonkeyPatch()
    mp.setattr(runner, "run_checks", stop)
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run_pack(tmp_path / "pack", evidence_dir=Path(demo_evidence))
    finally:
        mp.undo()
    _no_pack(tmp_path)


def test_evidence_paths_cannot_leave_the_evidence_folder(tmp_path):
    """An evidence folder from elsewhere is untrusted: an entry may not point the analysis at other files."""
    from eksaudit.checks import run_checks
    from eksaudit.evidence import Evidence
    from eksaudit.safe_files import Refused

    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"cluster": {"name": "stolen"}}))
    ev = tmp_path / "evidence"
    ev.mkdir()
    entry = {"input": "aws:eks:DescribeCluster", "source": "aws", "params": {"name": "x"}, "account": "1",
             "region": "us-east-1", "cluster": "x", "status": "ok", "path": "../outside.json"}
    (ev / "manifest.json").write_text(json.dumps({"account": "1", "entries": [entry]}))
    evidence = Evidence(ev)
    with pytest.raises(Refused, match="does not stay inside its folder"):
        evidence.load(evidence.entries[0])
    findings = run_checks(evidence, ids=["NET-07"])
    assert "PASS" not in set(findings["status"])
    assert findings["reason"].str.contains("does not stay inside its folder").any()


# ---- malformed Kubernetes objects: ERROR findings naming the object, never a crash ----------------------------


def _malformed_evidence(root: Path):
    from eksaudit.testing import EvidenceBuilder, pod

    bad_map = pod("map-containers", "app")
    bad_map["spec"]["containers"] = {"a": {}}
    bad_template = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "list-template",
                                                                                 "namespace": "app"},
                    "spec": {"template": []}}
    bad_ctx = pod("ctx-string", "app", containers=[{"name": "c", "image": "nginx", "securityContext": "root"}])
    good = pod("good", "app", security_context={"runAsNonRoot": True, "runAsUser": 1000})
    b = EvidenceBuilder(root)
    b.cluster("c1", k8s={"pods": [bad_map, bad_ctx, good], "deployments": [bad_template]})
    return b.build()


def test_malformed_objects_become_error_findings_naming_them(tmp_path):
    from eksaudit.checks import run_checks
    from eksaudit.frames import Frames

    ev = _malformed_evidence(tmp_path)
    findings = run_checks(ev)
    crashed = findings[findings["resource_type"] == "check"]
    assert crashed.empty, crashed[["check_id", "reason"]].values.tolist()
    iam07 = findings[findings["check_id"] == "IAM-07"]
    reasons = " ".join(iam07[iam07["status"] == "ERROR"]["reason"])
    for name in ("Pod app/map-containers", "Deployment app/list-template", "Pod app/ctx-string"):
        assert name in reasons, reasons
    assert "spec.containers is not a list" in reasons and "spec.template is not an object" in reasons
    assert "PASS" not in set(iam07["status"])
    assert list(Frames(ev).workloads["name"]) == ["good"]  # the frames see only well-formed objects


def test_malformed_objects_through_the_whole_pipeline(tmp_path, capsys):
    """The notebooks read the same frames: the run completes, the pack verifies, nothing crashes."""
    from eksaudit.pack import verify

    ev = _malformed_evidence(tmp_path)
    rc = main(["run", "--evidence", str(ev.root), "--out", str(tmp_path / "pack"), "--fail-on", "critical"])
    captured = capsys.readouterr()
    assert rc in (0, 1, 3), captured.err[-3000:]
    assert "Traceback" not in captured.err
    assert verify(tmp_path / "pack") == []
    page = (tmp_path / "pack" / "iam.html").read_text(encoding="utf-8")
    assert "Pod app/map-containers" in page


def test_deeply_nested_evidence_file_is_one_line(tmp_path, capsys):
    """A hash-consistent evidence file nested 10,000 deep: refused with one line before any analysis."""
    import hashlib

    from eksaudit.testing import EvidenceBuilder, pod

    b = EvidenceBuilder(tmp_path / "src")
    b.cluster("c1", k8s={"pods": [pod("p")]})
    ev = b.build()
    doc = json.loads((ev.root / "manifest.json").read_text())
    entry = next(e for e in doc["entries"] if e["input"] == "k8s:pods")
    body = ('{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": '
            + "[" * 10_000 + "]" * 10_000 + "}}]}").encode()
    (ev.root / entry["path"]).write_bytes(body)
    entry["sha256"], entry["bytes"] = hashlib.sha256(body).hexdigest(), len(body)
    (ev.root / "manifest.json").write_text(json.dumps(doc))
    rc = main(["run", "--evidence", str(ev.root), "--out", str(tmp_path / "pack")])
    assert rc == 2
    line = _one_line_error(capsys)
    assert "k8s/c1/pods.json" in line and "nested" in line
    _no_pack(tmp_path)
