"""The network picture of each cluster, readable at a glance: how its API endpoint is exposed, which VPC
endpoints its VPC has, which security groups there are open to the world, and the TLS floor of every load
balancer listener in front of it. Built from the evidence frames, once by the run (`tables`, through
views.pack_tables) or by a notebook opened by hand; every value goes through render (escaped)."""

from __future__ import annotations

import pandas as pd

from .. import render
from ..frames import Frames, values
from ..frames.network import cluster_load_balancers, service_name, vpc_endpoints_for
from . import shared
from .show import show_html

ENDPOINT_SERVICES = [("eks", "Interface"), ("ecr.api", "Interface"), ("ecr.dkr", "Interface"),
                     ("secretsmanager", "Interface"), ("s3", "Gateway")]
ORDER = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


def _safe(f: Frames, name: str) -> pd.DataFrame | None:
    """A frame, or None when its evidence is unreadable (the picture then says so)."""
    try:
        return f.get(name)
    except Exception:  # a picture must not break the notebook; checks report the cause
        return None


def tls_floor(protocols: list[str]) -> str:
    """The lowest TLS version a policy allows, e.g. "TLSv1" for ELBSecurityPolicy-2016-08."""
    known = [p for p in ORDER if p in protocols]
    return known[0] if known else "unknown"


def exposure(c) -> str:
    if c.endpoint_public:
        cidrs = ", ".join(c.public_cidrs) or "0.0.0.0/0"
        return f"public ({cidrs})" + ("" if c.endpoint_private else "; private access off")
    return "private only" if c.endpoint_private else "unknown"


def picture(f: Frames, cluster: str) -> dict[str, pd.DataFrame | str]:
    """The parts of one cluster's picture as small frames (tested; the HTML is only their rendering)."""
    cl = f.cluster_net
    c = next(cl[cl["cluster"] == cluster].itertuples(index=False))
    out: dict[str, pd.DataFrame | str] = {"exposure": exposure(c), "vpc": c.vpc_id or "unknown"}
    probes = _safe(f, "tls_probes")
    if probes is not None:
        mine = probes[probes["cluster"] == cluster]
        out["tls"] = pd.DataFrame({"url": mine["url"], "status": mine["status"].str.replace("ok", "probed"),
                                   "accepted": mine["accepted"].map(", ".join), "note": mine["reason"]})
    ep = _safe(f, "vpc_endpoints")
    if ep is not None:
        rows = []
        for service, kind in ENDPOINT_SERVICES:
            hit = vpc_endpoints_for(ep, c.region, c.vpc_id, service, kind)
            rows.append({"service": service_name(c.region, service), "type": kind,
                         "present": "yes" if not hit.empty else "MISSING",
                         "endpoint": ", ".join(hit["endpoint_id"]),
                         "security groups": ", ".join(g for gs in hit["group_ids"] for g in gs)})
        out["endpoints"] = pd.DataFrame(rows)
    ing = _safe(f, "sg_ingress")
    if ing is not None:
        world = ing[(ing["region"] == c.region) & (ing["vpc_id"] == c.vpc_id) & ing["world"]]
        out["open_groups"] = pd.DataFrame([{
            "security group": r.group_id, "source": r.source,
            "ports": "all" if r.all_ports else (str(r.from_port) if r.from_port == r.to_port
                                                else f"{r.from_port}-{r.to_port}")}
            for r in world.itertuples(index=False)], columns=["security group", "source", "ports"])
    lbs, lis, pols = _safe(f, "load_balancers"), _safe(f, "lb_listeners"), _safe(f, "ssl_policies")
    if lbs is not None and lis is not None:
        rows = []
        for lb in cluster_load_balancers(lbs, cluster, c.region, c.vpc_id).itertuples(index=False):
            for li in lis[lis["lb_arn"] == lb.arn].itertuples(index=False):
                if li.protocol in ("HTTPS", "TLS"):
                    pol = pols[pols["name"] == li.ssl_policy] if pols is not None else pd.DataFrame()
                    floor = tls_floor(list(pol.iloc[0]["protocols"])) if not pol.empty else "policy not returned"
                elif li.protocol == "HTTP":
                    floor = "redirects to HTTPS" if li.redirects_https else "clear text"
                else:
                    floor = "pass-through (TLS at the target)"
                rows.append({"load balancer": f"{lb.name} ({lb.type}, {lb.scheme})",
                             "listener": f"{li.protocol}:{li.port}", "TLS floor": floor,
                             # moto reports a policy on HTTP listeners too; only TLS listeners have one
                             "policy": li.ssl_policy if li.protocol in ("HTTPS", "TLS") else ""})
        out["listeners"] = pd.DataFrame(rows, columns=["load balancer", "listener", "policy", "TLS floor"])
    return out


PICTURES = "network.pictures"  # the name of what a run shares (views.pack_tables)


def pictures(f: Frames) -> dict[str, dict[str, pd.DataFrame | str]]:
    """The picture of every audited cluster, by name, in the clusters' order."""
    cl = f.cluster_net
    return {name: picture(f, name) for name in values(cl[cl["audited"]]["cluster"])}


def tables(frames: Frames, findings: pd.DataFrame | None = None) -> dict[str, dict]:
    """What the network page shows beyond the findings: every audited cluster's picture (a page shows those of
    the clusters its findings name)."""
    return {PICTURES: pictures(frames)}


def picture_html(parts: dict[str, pd.DataFrame | str], cluster: str) -> str:
    """One cluster's picture (`picture`'s parts) as a card."""
    html = [f'<div class="ek-card"><h3>{render.esc(cluster)}</h3>',
            f"<p><b>API endpoint.</b> {render.esc(parts['exposure'])} — VPC {render.esc(parts['vpc'])}</p>"]
    titles = [("tls", "TLS probe of the API endpoint"), ("endpoints", "VPC endpoints"),
              ("open_groups", "Security groups in the VPC open to the world"),
              ("listeners", "Load balancer listeners and their TLS floor")]
    for key, title in titles:
        html.append(f"<p><b>{render.esc(title)}.</b></p>")
        part = parts.get(key)
        if part is None:
            html.append('<p class="ek-muted">not available: its evidence could not be read</p>')
        elif isinstance(part, pd.DataFrame) and part.empty:
            html.append('<p class="ek-muted">none</p>')
        else:
            html.append(render.table(part))
    html.append("</div>")
    return "".join(html)


def show_picture(ctx) -> None:
    """Display the picture of every cluster in the notebook's scope: from what the run shared, else from the
    evidence folder."""

    every = shared(ctx, PICTURES, pictures)
    if every is None:
        show_html('<p class="ek-muted">No evidence folder: the network picture needs it.</p>')
        return
    shown = sorted(set(ctx.findings["cluster"]) - {""}) or list(every)
    html = [render.CSS] + [picture_html(parts, n) for n, parts in every.items() if n in shown]
    show_html("".join(html) if len(html) > 1 else '<p class="ek-muted">No cluster in scope.</p>')
