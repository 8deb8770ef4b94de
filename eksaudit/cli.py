"""Command line: collect, run, demo, checks, verify, diff."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import UserError

EXIT_HELP = """exit codes:
  0  the run completed, every check was verified, and no FAIL finding is at or above --fail-on
  1  the run completed and FAIL findings at or above --fail-on exist
  2  the run could not complete (bad input, missing credentials, caller not identified, unreadable snapshot, ...)
  3  the run completed but is incomplete: some checks could not be verified (ERROR findings) and no FAIL at or
     above --fail-on; --accept-incomplete [IDS] accepts known gaps
  130  interrupted (Ctrl-C): no pack, no temporary folder and no notebook kernel is left behind
"""


def _target_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("AWS target")
    g.add_argument("--profile", help="AWS profile from the shared config")
    g.add_argument("--role-arn", help="assume this role first (cross-account audits)")
    g.add_argument("--external-id", help="ExternalId for --role-arn")
    g.add_argument("--region", action="append", dest="regions", help="region to audit (repeatable)")
    g.add_argument("--endpoint-url", help="AWS endpoint (moto, LocalStack, private endpoints)")
    g.add_argument("--cluster", action="append", dest="clusters", help="audit only this cluster (repeatable)")
    k = p.add_argument_group("Kubernetes source (one of)")
    k.add_argument("--kubeconfig", help="kubeconfig file; contexts are matched to clusters by name or ARN")
    k.add_argument("--context", help="kubeconfig context (for a single cluster)")
    k.add_argument("--eks-auth", action="store_true", help="authenticate with a token made from the AWS session")
    k.add_argument("--k8s-snapshot", action="append", dest="snapshots", metavar="[CLUSTER=]PATH",
                   help="kubectl get ... -A -o json output (file or folder; repeatable)")
    p.add_argument("--attach", action="append", default=[], metavar="KIND[:CLUSTER]=PATH",
                   help="attach a result file as evidence: kube-bench (--json output) or docker-bench (repeatable)")


def _checks_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checks-dir", metavar="DIR",
                   help="also run your organization's own checks: every .py file in DIR, written with "
                        "@eksaudit.checks.check over the same frames")


def _run_args(p: argparse.ArgumentParser) -> None:
    _checks_dir_arg(p)
    p.add_argument("--out", help="pack folder (default: reports/<run-id>)")
    p.add_argument("--fail-on", default="high", help="lowest FAIL severity that makes the exit code 1 (default high)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="check parameter; VALUE is JSON or a plain string (repeatable)")
    p.add_argument("--pdf", action="store_true",
                   help="also print every page and the whole pack (pack.pdf) to PDF with headless Chromium")
    p.add_argument("--chromium", metavar="PATH", help="Chrome/Chromium binary for the PDFs (implies --pdf; default: found on PATH)")
    p.add_argument("--sign-key", metavar="FILE",
                   help="sign the manifest (and collected evidence) with the HMAC key in this file; with --evidence, "
                        "also check the evidence manifest's signature")
    p.add_argument("--accept-incomplete", nargs="?", const="*", default="", metavar="IDS",
                   help="do not exit 3 for ERROR findings: all of them, or those of these comma-separated check IDs "
                        "or input keys (e.g. IAM-03,aws:eks:ListAddons)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr (errors and warnings still)")
    p.add_argument("--timings", action="store_true", help="print how long each phase took (stderr) at the end")
    life = p.add_argument_group("between audits")
    life.add_argument("--waivers", metavar="FILE", help="YAML file of accepted risks: matching FAIL findings "
                      "become WAIVED with their justification, approver and expiry (see README)")
    life.add_argument("--baseline", metavar="PACK", help="an earlier pack: write diff.* and a 'Since the last "
                      "audit' section into the new pack")
    life.add_argument("--history", metavar="DIR", help="where earlier packs of the account are for the trend "
                      "chart (default: the folder the pack is written to, reports/)")


def _sign_key(a: argparse.Namespace) -> bytes | None:
    """The HMAC key from --sign-key FILE (surrounding whitespace ignored, as `verify` reads it)."""
    if not getattr(a, "sign_key", None):
        return None
    from .safe_files import Refused, read_file

    try:  # a key file may be mounted through links (Kubernetes secrets are): follow them, but read a file only
        key = read_file(a.sign_key, "--sign-key", follow=True, limit=1 << 20).strip()
    except Refused as exc:
        raise UserError(f"cannot read --sign-key {a.sign_key}: {exc}") from None
    if not key:
        raise UserError(f"--sign-key {a.sign_key} is empty")
    return key


def _pack_options(a: argparse.Namespace, progress=None) -> dict:
    return {"pdf": a.pdf or bool(a.chromium), "chromium": a.chromium, "sign_key": _sign_key(a),
            "waivers_file": a.waivers, "baseline": a.baseline, "history": a.history, "progress": progress,
            "say": progress.say if progress is not None else None}


def _progress(a: argparse.Namespace):
    """Progress on stderr (`--quiet`: none), timed from the process's start: interpreter and imports count."""
    from .progress import Progress, process_age

    progress = Progress(quiet=a.quiet)
    age = process_age()
    if age is not None:  # elsewhere than Linux the phase is left out
        progress.record("start", age)
    return progress


def _timings(a: argparse.Namespace, progress) -> None:
    progress.close()
    if a.timings:
        print(progress.table(), file=sys.stderr)


def _params(items: list[str], checks_dir: str | None = None) -> dict:
    from .checks import default_params, use_checks_dir

    use_checks_dir(checks_dir)  # its checks' parameters are valid names too
    defaults = default_params()
    out = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"bad --param {item!r}: expected NAME=VALUE")
        if name not in defaults:
            raise UserError(f"unknown parameter {name!r}; see `eksaudit checks --params`")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        want = type(defaults[name])
        if want is list and isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if want is int and isinstance(value, bool) or not isinstance(value, want):
            raise UserError(f"bad --param {name}: expected {want.__name__}, got {raw!r}")
        out[name] = value
    return out


def _target(a: argparse.Namespace):
    from .target import AwsTarget, K8sSource

    source = K8sSource.from_args(a.kubeconfig, a.context, a.eks_auth, a.snapshots)
    target = AwsTarget(profile=a.profile, role_arn=a.role_arn, external_id=a.external_id,
                       regions=a.regions or ["us-east-1"], endpoint_url=a.endpoint_url)
    target.session()  # fail early on missing credentials or profile
    return target, source


def _attachments(a: argparse.Namespace) -> dict:
    from .collect.attachments import parse_specs

    return parse_specs(getattr(a, "attach", []))


def _out(a: argparse.Namespace, run_id: str) -> Path:
    return Path(a.out) if a.out else Path("reports") / run_id


def _accepted(a: argparse.Namespace) -> list[str]:
    return [x.strip() for x in (getattr(a, "accept_incomplete", "") or "").split(",") if x.strip()]


def _finish(pack: Path, findings, fail_on: str, accept: list[str] | None = None) -> int:
    from .not_audited import unverified_checks
    from .runner import exit_code, unaccepted_errors

    counts = findings["status"].value_counts().to_dict()
    print("findings: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"pack: {pack.resolve() / 'index.html'}")
    if (pack / "pack.pdf").is_file():
        print(f"pdf: {pack.resolve() / 'pack.pdf'}")
    unverified = unverified_checks(findings)
    if unverified:
        open_errors = unaccepted_errors(findings, accept)
        note = ("all accepted with --accept-incomplete" if open_errors.empty else
                f"{len(open_errors)} not accepted" if accept else "")
        total = findings["check_id"].nunique()
        print(f"eksaudit: incomplete audit: {len(unverified)} of {total} checks could not be verified everywhere "
              f"({int((findings['status'] == 'ERROR').sum())} ERROR findings{'; ' + note if note else ''}); "
              "see 'Not audited' in index.html", file=sys.stderr)
    return exit_code(findings, fail_on, accept)


def cmd_collect(a: argparse.Namespace) -> int:
    from .collect.run import collect
    from .staging import Staging

    target, source = _target(a)
    out = Path(a.out)
    if (out / "evidence").exists():
        raise UserError(f"evidence already exists in {out}")
    files, key = _attachments(a), _sign_key(a)
    with Staging((out / "evidence").resolve(), lambda line: print(line, file=sys.stderr)) as stage:
        ev = stage.publish(collect(target, source, stage.tmp, a.clusters, files, key))
    print(f"evidence: {ev}")
    _warn_no_kubernetes(ev)
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    from .runner import new_run_id, run_pack

    params = _params(a.param, a.checks_dir)
    if a.targets:  # a fleet: every target from the file, on Dask (eksaudit/fleet/)
        from .fleet import run_command

        return run_command(a, params, _sign_key(a))
    progress = _progress(a)
    options = _pack_options(a, progress)
    run_id = new_run_id()
    try:
        if a.evidence:
            if not (Path(a.evidence) / "manifest.json").is_file():
                raise UserError(f"not an evidence folder (no manifest.json): {a.evidence}")
            pack, findings = run_pack(_out(a, run_id), evidence_dir=Path(a.evidence), params=params,
                                      run_id=run_id, fail_on=a.fail_on, checks_dir=a.checks_dir, **options)
            _warn_no_kubernetes(pack / "evidence")
        else:
            from .collect.run import collect  # botocore and the plan: not needed to re-analyse evidence

            target, source = _target(a)
            files = _attachments(a)
            key = options["sign_key"]
            pack, findings = run_pack(_out(a, run_id), collect=lambda d: _warned(
                collect(target, source, d, a.clusters, files, key, progress=progress)),
                params=params, run_id=run_id, fail_on=a.fail_on, checks_dir=a.checks_dir, **options)
    finally:
        progress.close()
    _timings(a, progress)
    return _finish(pack, findings, a.fail_on, _accepted(a))


def _warned(evidence: Path) -> Path:
    """The evidence just collected, after the no-Kubernetes-source warning (before the long analysis)."""
    _warn_no_kubernetes(evidence)
    return evidence


def cmd_demo(a: argparse.Namespace) -> int:
    from .collect.run import collect
    from .demo.run import demo_environment
    from .runner import new_run_id, run_pack

    params = _params(a.param, a.checks_dir)
    progress = _progress(a)
    options = _pack_options(a, progress)
    run_id = new_run_id()
    from .demo.account import check_fixes
    from .demo.run import DEMO_PORTS

    fixes = check_fixes([f for item in a.fixed for f in item.split(",") if f.strip()])
    import contextlib

    try:
        with contextlib.ExitStack() as stack:
            with progress.phase("demo account"):  # moto and the Kubernetes endpoint started, the account seeded
                target, source, extra = stack.enter_context(demo_environment(fixes=fixes, ports=DEMO_PORTS))
            files, key = extra["attachments"], options["sign_key"]
            pack, findings = run_pack(_out(a, run_id), collect=lambda d: collect(
                target, source, d, a.clusters, files, key, progress=progress), params=params, run_id=run_id,
                fail_on=a.fail_on, checks_dir=a.checks_dir, **options)
    finally:
        progress.close()
    _timings(a, progress)
    _finish(pack, findings, a.fail_on)
    return 0  # the demo account is weak on purpose: its failures are not an error


def cmd_checks(a: argparse.Namespace) -> int:
    from .checks import catalog_frame, use_checks_dir

    use_checks_dir(a.checks_dir)
    if a.params:
        return _print_params(a.format)
    df = catalog_frame()
    if a.format == "json":
        print(json.dumps(df.to_dict(orient="records"), indent=1))
    elif a.format == "markdown":
        cols = ["id", "title", "severity", "requirements", "practice", "references"]
        print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
        for r in df[cols].itertuples(index=False):
            print("| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |")
    else:
        print(df[["id", "severity", "title"]].to_string(index=False))
    return 0


def _print_params(fmt: str) -> int:
    """`eksaudit checks --params`: every check parameter, its default, type, checks and meaning."""
    from .params import params_frame, shown_default

    df = params_frame()
    if fmt == "json":
        print(json.dumps(df.to_dict(orient="records"), indent=1))
        return 0
    df["default"] = df["default"].map(shown_default)
    if fmt == "markdown":
        print("| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns))
        for r in df.itertuples(index=False):
            print("| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |")
        return 0
    for r in df.itertuples(index=False):
        print(f"{r.name} = {r.default}  ({r.type}; {r.checks})\n    {r.description}")
    print("\nset with --param NAME=VALUE (JSON, or a plain string; lists also comma-separated)")
    return 0


def _warn_no_kubernetes(evidence: Path) -> None:
    """Say once on stderr which clusters had no Kubernetes source: their Kubernetes checks can only be ERROR."""
    from .safe_files import Refused, load_json, read_inside

    try:
        doc = load_json(read_inside(evidence, "manifest.json", "evidence manifest"), "manifest.json")
    except Refused:
        return
    missing = sorted({str(e.get("cluster", "")) for e in doc.get("entries", []) if isinstance(e, dict)
                      and isinstance(e.get("error"), dict)
                      and e["error"].get("code") in ("NoKubernetesSource", "NoContext")})
    if missing:
        print(f"eksaudit: warning: no Kubernetes source for {len(missing)} cluster(s): {', '.join(missing)}; "
              "their Kubernetes checks are ERROR (give --kubeconfig with a context per cluster, --eks-auth or "
              "--k8s-snapshot)", file=sys.stderr)


def cmd_verify(a: argparse.Namespace) -> int:
    from .pack import is_signed, verify

    key = _sign_key(a)
    problems = verify(Path(a.pack), key)
    for p in problems:
        print(p)
    if not problems:
        print(f"intact: {a.pack}" + (" (signature checked)" if key else ""))
        if not key and is_signed(Path(a.pack)):
            print("note: the manifest is signed; pass --sign-key FILE to check the signature too")
    return 1 if problems else 0


def cmd_diff(a: argparse.Namespace) -> int:
    from . import diff
    from .findings import SEVERITIES
    from .staging import Staging

    if a.fail_on and a.fail_on not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}")
    old, new = diff.read_pack(a.old, "old pack"), diff.read_pack(a.new, "new pack")
    note = diff.different_accounts(old, new)
    if note:
        print(note, file=sys.stderr)
    rows = diff.compare(old.findings, new.findings)
    diff.console(rows)
    out = Path(a.out) if a.out else Path("reports") / f"diff-{_safe_name(old.path)}-{_safe_name(new.path)}"
    with Staging(out.resolve(), lambda line: print(line, file=sys.stderr)) as stage:
        diff.write(stage.tmp, rows, old.meta(), new.meta(), in_pack=False)
        stage.publish()
    print(f"diff: {out.resolve() / 'diff.html'}")
    if a.fail_on:
        hits = diff.new_fails(rows, a.fail_on)
        if len(hits):
            print(f"eksaudit: {len(hits)} new FAIL finding(s) at or above {a.fail_on}", file=sys.stderr)
            return 1
    return 0


def _safe_name(path: Path) -> str:
    """A pack folder's name as part of a folder name (names are untrusted: anything odd becomes '_')."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(path).resolve().name)[:80] or "pack"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eksaudit", description="Audit Amazon EKS security into an evidence pack.",
                                epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"eksaudit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="read everything the checks need into an evidence folder")
    _target_args(c)
    c.add_argument("--out", required=True, help="folder to write evidence/ into")
    c.add_argument("--sign-key", metavar="FILE",
                   help="sign evidence/manifest.json with the HMAC key in this file (`run --evidence` checks it)")
    c.set_defaults(func=cmd_collect)
    r = sub.add_parser("run", help="collect (or reuse --evidence), run all checks and notebooks, write a pack",
                       epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _target_args(r)
    r.add_argument("--evidence", help="analyse this evidence folder instead of collecting")
    _run_args(r)
    from .fleet import add_arguments as fleet_arguments

    fleet_arguments(r)
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("demo", help="audit the embedded demo account (moto + local Kubernetes endpoint)")
    d.add_argument("--cluster", action="append", dest="clusters", help=argparse.SUPPRESS)
    d.add_argument("--fixed", action="append", default=[], metavar="FIX[,FIX]",
                   help="audit the demo account as it is after its team applied these fixes, for a second "
                        "audit to diff against the first (names in README; an unknown name lists them)")
    _run_args(d)
    d.set_defaults(func=cmd_demo)
    k = sub.add_parser("checks", help="print the check catalog")
    k.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    k.add_argument("--params", action="store_true",
                   help="list the check parameters (name, default, type, the checks that use it, description)")
    _checks_dir_arg(k)
    k.set_defaults(func=cmd_checks)
    v = sub.add_parser("verify", help="check a pack against its manifest")
    v.add_argument("pack")
    v.add_argument("--sign-key", help="file holding the HMAC key the pack was signed with")
    v.set_defaults(func=cmd_verify)
    df = sub.add_parser("diff", help="what changed between two packs (both verified first)")
    df.add_argument("old", help="the earlier pack")
    df.add_argument("new", help="the later pack")
    df.add_argument("--out", help="folder for diff.csv, diff.json, diff.html (default: reports/diff-OLD-NEW)")
    df.add_argument("--fail-on", metavar="SEVERITY",
                    help="exit 1 when new FAIL findings at or above this severity appear (for CI)")
    df.set_defaults(func=cmd_diff)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print("eksaudit: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eksaudit: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
    finally:
        if argv is None:  # the command line: the process ends next
            import gc

            # Interpreter shutdown would otherwise walk the whole heap (moto, pandas, nbconvert) with the
            # garbage collector, which takes seconds after the work is done, and after a Ctrl-C.
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
