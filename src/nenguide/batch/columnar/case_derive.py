"""The fact layer's first reshaping, :func:`nenguide.engine.facts.derive`, as Polars
expressions over the case columns of :mod:`.case_arrow`: the second step of the columnar fact
layer (docs/decisions/0004-speed-targets-need-a-decision.md).

``derive`` renames, counts and groups what the tumour, pathology, nodes and metastases
sections say (site group, whether an index was reported, the node counts, the metastasis
facts); it holds no clinical threshold, and neither does this module: the site groups and the
thoracic regional sites are the engine's own tables (``SITE_GROUP``, ``THORACIC_REGIONAL``),
read here. The engine's function stays the reference; tests/batch/test_case_derive.py holds
these columns equal to it, fact by fact, on every vignette and on generated and varied cases.

It reads only the rows :func:`.case_arrow.arrow_ready` lets through: a row with a range (a
liver lesion count as words, say) keeps the per-case path, so no bound is read here.
"""

from __future__ import annotations

import polars as pl

from nenguide.engine.facts import SITE_GROUP, THORACIC_REGIONAL
from nenguide.model.case import ComponentKind, MetastasisStatus

_S = pl.String()
_REGIONAL = pl.lit(sorted(s.value for s in THORACIC_REGIONAL), pl.List(_S))
_GROUPS = {site.value: group for site, group in SITE_GROUP.items()}
_NE = ComponentKind.neuroendocrine.value
_NONE, _PRESENT = MetastasisStatus.none.value, MetastasisStatus.present.value

#: the facts made here, in the order ``derive`` makes them
DERIVED = (
    "primary_site", "site_group", "size_cm", "extent", "lung_descriptors", "differentiation",
    "morphology", "ki67_percent", "mitoses_per_2mm2", "ki67_reported", "mitoses_reported",
    "necrosis", "minen_diagnosed", "ne_percent", "non_ne_percent",
    "declared_node_status", "nodes_positive", "nodes_examined", "mesenteric_mass_cm",
    "lung_node_station", "node_count_reported", "lung_node_station_reported",
    "met_status", "liver_mets", "extrahepatic_mets", "lung_m1a", "extrathoracic_organs",
    "extrathoracic_lesions", "liver_lesion_count", "liver_extent", "liver_resectability",
    "liver_diffuse", "listed_metastases",
)  # fmt: skip


def _f(section: str, name: str) -> pl.Expr:
    return pl.col(section).struct.field(name)


def _tumour_pathology() -> list[pl.Expr]:
    site = _f("tumour", "primary_site")
    ki67, mitoses = _f("pathology", "ki67_percent"), _f("pathology", "mitoses_per_2mm2")
    comps = _f("pathology", "components")
    percents = comps.list.eval(pl.element().struct.field("percent"))
    ne = pl.element().struct.field("kind") == _NE
    # shares only when there are components and each gives its share (else unknown)
    shares = (comps.list.len() > 0) & percents.list.eval(pl.element().is_not_null()).list.all()
    share_of = [
        comps.list.eval(
            pl.when(cond).then(pl.element().struct.field("percent")).otherwise(0.0)
        ).list.sum()
        for cond in (ne, ~ne)
    ]
    return [
        site.alias("primary_site"),
        site.replace_strict(_GROUPS, return_dtype=_S).alias("site_group"),
        _f("tumour", "size_cm").alias("size_cm"),
        _f("tumour", "extent").alias("extent"),
        _f("tumour", "lung_descriptors").list.unique().alias("lung_descriptors"),
        _f("pathology", "differentiation").alias("differentiation"),
        _f("pathology", "morphology").alias("morphology"),
        ki67.alias("ki67_percent"),
        mitoses.alias("mitoses_per_2mm2"),
        ki67.is_not_null().alias("ki67_reported"),
        mitoses.is_not_null().alias("mitoses_reported"),
        _f("pathology", "necrosis").alias("necrosis"),
        # a gate: recorded adds a route, not recorded adds none
        _f("pathology", "minen_diagnosed").fill_null(False).alias("minen_diagnosed"),
        pl.when(shares).then(share_of[0]).alias("ne_percent"),
        pl.when(shares).then(share_of[1]).alias("non_ne_percent"),
    ]


def _nodes() -> list[pl.Expr]:
    positive, examined = _f("regional_nodes", "positive"), _f("regional_nodes", "examined")
    station = _f("regional_nodes", "lung_highest_station")
    # "0 positive of 0 examined" says nothing about the nodes
    counted = pl.when((positive == 0) & (examined == 0)).then(None).otherwise(positive)
    return [
        _f("regional_nodes", "status").alias("declared_node_status"),
        counted.alias("nodes_positive"),
        examined.alias("nodes_examined"),
        _f("regional_nodes", "mesenteric_mass_cm").alias("mesenteric_mass_cm"),
        station.alias("lung_node_station"),
        counted.is_not_null().alias("node_count_reported"),
        station.is_not_null().alias("lung_node_station_reported"),
    ]


def _distant_counts() -> pl.Expr:
    """The lesion counts of the extrahepatic sites that are not thoracic regional spread."""
    distant = _f("metastases", "extrahepatic").list.eval(
        pl.element().filter(~pl.element().struct.field("site").is_in(_REGIONAL))
    )
    return distant.list.eval(pl.element().struct.field("lesion_count"))


def _complete(counts: pl.Expr) -> pl.Expr:
    """Whether every extrathoracic lesion is counted (``engine.facts._counted``): the
    extrahepatic sites listed where the liver is, and every count given (``counts``:
    :func:`_distant_counts`)."""
    liver = _f("metastases", "liver")
    given = _f("metastases", "extrahepatic")
    return (
        ~(given.is_null() & liver.is_not_null())
        & counts.list.eval(pl.element().is_not_null()).list.all().fill_null(True)
        & (liver.struct.field("lesion_count").is_not_null() | liver.is_null())
    )


def extrathoracic_open() -> pl.Expr:
    """Whether metastases are present with a lesion count not given: the engine then makes
    the extrathoracic lesions a range of candidates (``engine.facts.
    extrathoracic_lesions_at_least``), which a column cannot hold."""
    complete = _complete(_distant_counts())
    return ((_f("metastases", "status") == _PRESENT) & ~complete).fill_null(False)


def _metastases() -> list[pl.Expr]:
    status = _f("metastases", "status")
    liver = _f("metastases", "liver")
    given = _f("metastases", "extrahepatic")  # null: the sites are not given
    has_liver = liver.is_not_null()
    sites = given.list.eval(pl.element().struct.field("site"))
    regional = sites.list.eval(pl.element().is_in(_REGIONAL))
    n_extra = given.list.len().fill_null(0)
    unknown_extra = given.is_null() & has_liver
    present, none = status == _PRESENT, status == _NONE
    distant_sites = sites.list.eval(pl.element().filter(~pl.element().is_in(_REGIONAL)))
    organs = distant_sites.list.n_unique().fill_null(0) + has_liver.cast(pl.Int64)
    counts = _distant_counts()
    liver_count = liver.struct.field("lesion_count")
    counted = counts.list.sum().fill_null(0) + liver_count.fill_null(0)
    complete = _complete(counts)

    def by_status(if_none: pl.Expr, if_present: pl.Expr) -> pl.Expr:
        return pl.when(none).then(if_none).when(present).then(if_present)

    return [
        status.alias("met_status"),
        by_status(pl.lit(False), has_liver).alias("liver_mets"),
        by_status(pl.lit(False), pl.when(~unknown_extra).then(n_extra > 0)).alias(
            "extrahepatic_mets"
        ),
        by_status(
            pl.lit(False), pl.when(~unknown_extra).then(regional.list.any().fill_null(False))
        ).alias("lung_m1a"),
        by_status(pl.lit(0, pl.Int64), pl.when(~unknown_extra).then(organs)).alias(
            "extrathoracic_organs"
        ),
        by_status(pl.lit(0, pl.Int64), pl.when(complete).then(counted)).alias(
            "extrathoracic_lesions"
        ),
        liver_count.alias("liver_lesion_count"),
        liver.struct.field("extent").alias("liver_extent"),
        liver.struct.field("resectability").alias("liver_resectability"),
        liver.struct.field("diffuse").alias("liver_diffuse"),
        (has_liver | (n_extra > 0)).alias("listed_metastases"),
    ]


def derived(cases: pl.DataFrame) -> pl.DataFrame:
    """:data:`DERIVED`, a column each, for the case columns ``cases`` (one row per case, in
    order)."""
    return cases.select(*_tumour_pathology(), *_nodes(), *_metastases())
