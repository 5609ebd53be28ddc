"""Facts: the plain values the decision tables read, derived from a validated case.

Derivation here is bookkeeping only (renaming, counting, grouping sites); every clinical threshold
lives in the knowledge tables. Unknown stays ``None``.
"""

from __future__ import annotations

from typing import Any

from nenguide.model.case import Case, Metastases, MetastasisSite, MetastasisStatus, PrimarySite

SITE_GROUP: dict[PrimarySite, str] = {
    PrimarySite.stomach: "stomach",
    PrimarySite.duodenum: "duodenum",
    PrimarySite.ampulla: "ampulla",
    PrimarySite.jejunum: "jejunum_ileum",
    PrimarySite.ileum: "jejunum_ileum",
    PrimarySite.appendix: "appendix",
    PrimarySite.colon: "colon_rectum",
    PrimarySite.rectum: "colon_rectum",
    PrimarySite.pancreas: "pancreas",
    PrimarySite.lung: "lung",
    PrimarySite.thymus: "thymus",
    PrimarySite.other: "other",
    PrimarySite.unknown_primary: "unknown_primary",
}

#: the metastasis sites that count as regional spread of a thoracic primary (lung M1a), not
#: as distant organs
THORACIC_REGIONAL = frozenset(
    {MetastasisSite.contralateral_lung, MetastasisSite.pleura_pericardium}
)


def derive(case: Case) -> dict[str, Any]:
    t = case.tumour
    p = case.pathology
    f: dict[str, Any] = {
        "primary_site": t.primary_site.value,
        "site_group": SITE_GROUP[t.primary_site],
        "size_cm": t.size_cm,
        "extent": t.extent.value if t.extent else None,
        "lung_descriptors": (
            None if t.lung_descriptors is None else frozenset(d.value for d in t.lung_descriptors)
        ),
        "differentiation": p.differentiation.value if p.differentiation else None,
        "morphology": p.morphology.value if p.morphology else None,
        "ki67_percent": p.ki67_percent,
        "mitoses_per_2mm2": p.mitoses_per_2mm2,
        "ki67_reported": p.ki67_percent is not None,
        "mitoses_reported": p.mitoses_per_2mm2 is not None,
        "necrosis": p.necrosis.value if p.necrosis else None,
    }
    # a gate: a MiNEN diagnosis recorded adds a route; not recorded leaves the shares to decide
    f["minen_diagnosed"] = p.minen_diagnosed is True
    if p.components and all(c.percent is not None for c in p.components):
        f["ne_percent"] = sum(
            c.percent or 0 for c in p.components if c.kind.value == "neuroendocrine"
        )
        f["non_ne_percent"] = sum(
            c.percent or 0 for c in p.components if c.kind.value != "neuroendocrine"
        )
    else:  # no components, or a share not reported: unknown
        f["ne_percent"] = None
        f["non_ne_percent"] = None
    _nodes(case, f)
    _metastases(case, f)
    return f


def _nodes(case: Case, f: dict[str, Any]) -> None:
    n = case.regional_nodes
    f["declared_node_status"] = None
    f["nodes_positive"] = None
    f["nodes_examined"] = None
    f["mesenteric_mass_cm"] = None
    f["lung_node_station"] = None
    f["node_count_reported"] = False
    f["lung_node_station_reported"] = False
    # the node status itself is a fact table (pathway.yaml, facts: precedence): which of the
    # count, the lung station and the stated status wins
    if n is None:
        return
    f["declared_node_status"] = n.status.value if n.status else None
    # "0 positive of 0 examined" says nothing about the nodes
    f["nodes_positive"] = None if n.positive == 0 and n.examined == 0 else n.positive
    f["nodes_examined"] = n.examined
    f["mesenteric_mass_cm"] = n.mesenteric_mass_cm
    f["lung_node_station"] = n.lung_highest_station.value if n.lung_highest_station else None
    f["node_count_reported"] = f["nodes_positive"] is not None
    f["lung_node_station_reported"] = n.lung_highest_station is not None


def _metastases(case: Case, f: dict[str, Any]) -> None:
    m = case.metastases
    for k in (
        "met_status",
        "liver_mets",
        "extrahepatic_mets",
        "lung_m1a",
        "extrathoracic_organs",
        "extrathoracic_lesions",
        "liver_lesion_count",
        "liver_extent",
        "liver_resectability",
        "liver_diffuse",
    ):
        f[k] = None
    f["listed_metastases"] = False
    if m is None:
        return
    f["met_status"] = m.status.value
    extra = m.extrahepatic or ()
    listed = m.liver is not None or bool(extra)
    f["listed_metastases"] = listed
    if m.status is MetastasisStatus.none:
        f["liver_mets"] = False
        f["extrahepatic_mets"] = False
        f["lung_m1a"] = False
        f["extrathoracic_organs"] = 0
        f["extrathoracic_lesions"] = 0
    elif m.status is MetastasisStatus.present:
        f["liver_mets"] = m.liver is not None
        # only an explicit [] means no extrahepatic disease: with the liver listed and the
        # extrahepatic sites not given, they are unknown (M1 with the substage open)
        unknown_extra = m.extrahepatic is None and m.liver is not None
        f["extrahepatic_mets"] = None if unknown_extra else bool(extra)
        f["lung_m1a"] = None if unknown_extra else any(e.site in THORACIC_REGIONAL for e in extra)
        organs = {e.site.value for e in extra if e.site not in THORACIC_REGIONAL}
        if m.liver is not None:
            organs.add("liver")
        # sites not given: more organs may be involved (a count of organs is a lower bound)
        f["extrathoracic_organs"] = None if unknown_extra else len(organs)
        # a count not given (or given as a bound): the number is known only as at least the
        # lesions counted so far, a range of candidates (case_reported.py, from the tables'
        # cut-offs); the M1b/M1c boundary is a row of the lung M table, not a limit here
        known, complete = _counted(m)
        f["extrathoracic_lesions"] = known if complete else None
    if m.liver is not None:
        lv = m.liver
        f["liver_lesion_count"] = lv.lesion_count
        f["liver_extent"] = lv.extent.value if lv.extent else None
        f["liver_resectability"] = lv.resectability.value if lv.resectability else None
        f["liver_diffuse"] = lv.diffuse


def _counted(m: Metastases) -> tuple[int, bool]:
    """Extrathoracic lesions counted (the counts given, plus the lower bound of a liver count
    given as a range), and whether that is every lesion (every count given, the extrahepatic
    sites listed)."""
    extra = m.extrahepatic or ()
    counts = [e.lesion_count for e in extra if e.site not in THORACIC_REGIONAL]
    at_least = 0  # lesions known to exist where only a bound is reported ("multiple")
    if m.liver is not None:
        counts.append(m.liver.lesion_count)
        rng = m.liver.lesion_count_range
        if rng is not None and rng.low is not None:
            at_least = int(rng.low) + (1 if rng.gt is not None else 0)
    unknown_extra = m.extrahepatic is None and m.liver is not None
    known = sum(c for c in counts if c is not None) + at_least
    return known, not unknown_extra and all(c is not None for c in counts)


def extrathoracic_lesions_at_least(case: Case) -> int | None:
    """With metastases present and some lesion count not given: the extrathoracic lesions known
    to exist (at least one: a site is involved); ``None`` when every count is given or there
    are no metastases listed as present. Bookkeeping only: which count makes M1c is the lung M
    table's."""
    m = case.metastases
    if m is None or m.status is not MetastasisStatus.present:
        return None
    known, complete = _counted(m)
    return None if complete else max(known, 1)
