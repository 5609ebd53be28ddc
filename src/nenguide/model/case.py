"""The case: what the MDT knows about one patient's neuroendocrine neoplasm.

Only validation lives here. Values are stored raw (Ki-67 %, mitoses per 2 mm², size in cm) and
never as derived labels, so a grade or stage can always be re-derived with the current rules.
Every field is optional unless a step cannot even be attempted without it: a missing clinical value
becomes an explicit INSUFFICIENT_DATA item in the assessment, never a default.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from nenguide.model.clinical import Clinical
from nenguide.model.numbers import STRICT
from nenguide.model.reported import Bounds, CountBounds, MitoticCount, SizeReported

#: Context key naming the sub-field a cross-field error belongs to (see ``errors.py``).
SUBPATH = "subpath"


def _invalid(subpath: str, message: str, key: str) -> PydanticCustomError:
    """An error that points at ``subpath`` below the model that raised it (``key``: its text
    in the error texts, nenguide.error_texts)."""
    return PydanticCustomError("invalid_combination", message, {SUBPATH: subpath, "key": key})


def _exclusive(model: BaseModel, exact: str, reported: str) -> None:
    """At most one of an exact field and its reported form (range, unit, words)."""
    if getattr(model, exact) is not None and getattr(model, reported) is not None:
        raise PydanticCustomError(
            "invalid_combination",
            "give {exact} or {reported}, not both",
            {SUBPATH: reported, "key": "exclusive_fields", "exact": exact, "reported": reported},
        )


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class PrimarySite(StrEnum):
    stomach = "stomach"
    duodenum = "duodenum"
    ampulla = "ampulla"
    jejunum = "jejunum"
    ileum = "ileum"
    appendix = "appendix"
    colon = "colon"
    rectum = "rectum"
    pancreas = "pancreas"
    lung = "lung"
    thymus = "thymus"
    other = "other"
    unknown_primary = "unknown_primary"


class Extent(StrEnum):
    """Deepest extent of invasion of the primary tumour (AJCC 8th wording, by site)."""

    mucosa = "mucosa"  # lamina propria
    submucosa = "submucosa"
    muscularis_propria = "muscularis_propria"
    subserosa = "subserosa"  # into subserosa / non-peritonealised tissue, serosa intact
    mesoappendix = "mesoappendix"  # appendix: involvement of the mesoappendix
    serosa = "serosa"  # penetrates visceral peritoneum
    adjacent_organ = "adjacent_organ"  # invades other organs or adjacent structures
    sphincter_of_oddi = "sphincter_of_oddi"  # ampulla: confined within the sphincter of Oddi
    duodenal_wall = "duodenal_wall"  # ampulla: through sphincter into duodenal submucosa/muscularis
    pancreas_or_peripancreatic_fat = "pancreas_or_peripancreatic_fat"  # duodenum/ampulla
    confined_to_pancreas = "confined_to_pancreas"  # pancreas (peripancreatic fat alone included)
    duodenum_or_bile_duct = "duodenum_or_bile_duct"  # pancreas: invades duodenum or CBD
    large_vessel = "large_vessel"  # pancreas: wall of coeliac axis / SMA
    within_wall = "within_wall"  # luminal GI: within the wall, layer not stated


_GI_WALL = {
    Extent.mucosa,
    Extent.submucosa,
    Extent.muscularis_propria,
    Extent.subserosa,
    Extent.serosa,
    Extent.adjacent_organ,
    Extent.within_wall,
}

#: Which extents are meaningful at which primary site (AJCC 8th chapters 29-34).
EXTENTS_BY_SITE: dict[PrimarySite, frozenset[Extent]] = {
    PrimarySite.stomach: frozenset(_GI_WALL),
    PrimarySite.jejunum: frozenset(_GI_WALL),
    PrimarySite.ileum: frozenset(_GI_WALL),
    PrimarySite.colon: frozenset(_GI_WALL),
    PrimarySite.rectum: frozenset(_GI_WALL),
    PrimarySite.duodenum: frozenset(
        {
            Extent.mucosa,
            Extent.submucosa,
            Extent.muscularis_propria,
            Extent.pancreas_or_peripancreatic_fat,
            Extent.serosa,
            Extent.adjacent_organ,
            Extent.within_wall,
        }
    ),
    PrimarySite.ampulla: frozenset(
        {
            Extent.sphincter_of_oddi,
            Extent.duodenal_wall,
            Extent.pancreas_or_peripancreatic_fat,
            Extent.serosa,
            Extent.adjacent_organ,
        }
    ),
    PrimarySite.appendix: frozenset(_GI_WALL | {Extent.mesoappendix}),
    PrimarySite.pancreas: frozenset(
        {
            Extent.confined_to_pancreas,
            Extent.duodenum_or_bile_duct,
            Extent.adjacent_organ,
            Extent.large_vessel,
        }
    ),
}


_T1_TO_T4 = frozenset({"T1", "T2", "T3", "T4"})

#: The T categories a reported pT may name, by site (AJCC 8th NET chapters 29-34).
REPORTED_T_BY_SITE: dict[PrimarySite, frozenset[str]] = {
    **{site: _T1_TO_T4 for site in EXTENTS_BY_SITE},
    PrimarySite.colon: frozenset({"T1a", "T1b", "T2", "T3", "T4"}),
    PrimarySite.rectum: frozenset({"T1a", "T1b", "T2", "T3", "T4"}),
}
_PT_PREFIX = ("yp", "p", "c")


def normalise_reported_t(text: str) -> str:
    """'pT2', 'T2', 'ypT1b' -> 'T2', 'T2', 'T1b' (the category without its prefix)."""
    s = text.strip()
    for pre in _PT_PREFIX:
        if s.lower().startswith(pre + "t"):
            s = s[len(pre) :]
            break
    return s[:1].upper() + s[1:].lower() if s else s


class LungDescriptor(StrEnum):
    """Lung TNM 8th T descriptors other than size."""

    main_bronchus = "main_bronchus"  # without carina
    visceral_pleura = "visceral_pleura"
    atelectasis_to_hilum = "atelectasis_to_hilum"
    chest_wall = "chest_wall"
    phrenic_nerve = "phrenic_nerve"
    parietal_pericardium = "parietal_pericardium"
    separate_nodule_same_lobe = "separate_nodule_same_lobe"
    mediastinum = "mediastinum"
    diaphragm = "diaphragm"
    heart = "heart"
    great_vessels = "great_vessels"
    recurrent_laryngeal_nerve = "recurrent_laryngeal_nerve"
    carina = "carina"
    trachea = "trachea"
    oesophagus = "oesophagus"
    vertebral_body = "vertebral_body"
    separate_nodule_other_ipsilateral_lobe = "separate_nodule_other_ipsilateral_lobe"


Percent = Annotated[float, STRICT, Field(ge=0, le=100)]
SizeCm = Annotated[
    float, STRICT, Field(gt=0, le=60, description="Greatest dimension in centimetres")
]


class Patient(_Frozen):
    age_years: Annotated[int, STRICT, Field(ge=0, le=120)] | None = None
    sex: Sex | None = None
    ecog: (
        Annotated[int, STRICT, Field(ge=0, le=4, description="ECOG performance status")] | None
    ) = None


class Tumour(_Frozen):
    primary_site: PrimarySite = Field(description="Organ of the primary tumour")
    size_cm: SizeCm | None = None
    extent: Extent | None = Field(
        default=None, description="Deepest extent of invasion, with the site's AJCC wording"
    )
    lung_descriptors: frozenset[LungDescriptor] | None = Field(
        default=None,
        description="Lung only: T descriptors other than size; [] states that none is present",
    )
    number_of_tumours: Annotated[int, STRICT, Field(ge=1, le=100)] | None = Field(
        default=None, description="Number of primary tumours (multiple primaries: T gets '(m)')"
    )
    size: SizeReported | None = Field(
        default=None,
        description="Size as reported: value or range with its unit, e.g. {value: 12, unit: mm} "
        "or {range: '3-4', unit: cm} (instead of size_cm)",
    )
    reported_pt: str | None = Field(
        default=None,
        max_length=8,
        description="T category as the pathology report states it, without its depth "
        "(e.g. 'pT2'); used as T when no depth is given, a conflict when it disagrees",
    )
    venous_tumour_thrombus: bool | None = Field(
        default=None,
        description="Pancreas only: tumour thrombus in a vein (splenic, portal, superior "
        "mesenteric); AJCC 8th gives it no T category, so T stays open (MDT)",
    )
    number_of_tumours_range: CountBounds | None = Field(
        default=None,
        description="Number of primary tumours as words or bounds: 'multiple' (at least 2), "
        "'>10', '2-5' (instead of number_of_tumours)",
    )

    @model_validator(mode="after")
    def _reported_forms(self) -> Tumour:
        _exclusive(self, "size_cm", "size")
        _exclusive(self, "number_of_tumours", "number_of_tumours_range")
        if self.number_of_tumours_range is not None:
            self.number_of_tumours_range.check_limits(1, 100, "number_of_tumours_range")
        return self

    @field_validator("extent")
    @classmethod
    def _extent_for_site(cls, v: Extent | None, info: ValidationInfo) -> Extent | None:
        site = info.data.get("primary_site")
        if v is None or site is None:
            return v
        allowed = EXTENTS_BY_SITE.get(site)
        if allowed is None:
            raise PydanticCustomError(
                "extent_not_used",
                "extent is not used for primary site '{site}' (lung: use lung_descriptors; "
                "other or unknown primary: leave it out)",
                {"site": site.value},
            )
        if v not in allowed:
            raise PydanticCustomError(
                "extent_for_site",
                "extent '{extent}' does not apply to primary site '{site}'; allowed: {allowed}",
                {
                    "extent": v.value,
                    "site": site.value,
                    "allowed": ", ".join(sorted(e.value for e in allowed)),
                },
            )
        return v

    @field_validator("reported_pt")
    @classmethod
    def _reported_pt_for_site(cls, v: str | None, info: ValidationInfo) -> str | None:
        site = info.data.get("primary_site")
        if v is None or site is None:
            return v
        allowed = REPORTED_T_BY_SITE.get(site)
        if allowed is None:
            raise PydanticCustomError(
                "reported_pt_not_used",
                "reported_pt is not used for primary site '{site}' (GEP NET sites only)",
                {"site": site.value},
            )
        t = normalise_reported_t(v)
        if t not in allowed:
            raise PydanticCustomError(
                "reported_pt_for_site",
                "reported_pt '{value}' is not a T category for primary site '{site}'; "
                "allowed: {allowed} (with or without the prefix p, yp or c)",
                {"value": v, "site": site.value, "allowed": ", ".join(sorted(allowed))},
            )
        return v

    @field_validator("venous_tumour_thrombus")
    @classmethod
    def _thrombus_pancreas(cls, v: bool | None, info: ValidationInfo) -> bool | None:
        if v is not None and info.data.get("primary_site") not in (PrimarySite.pancreas, None):
            raise PydanticCustomError(
                "venous_thrombus_pancreas",
                "venous_tumour_thrombus applies only when primary_site is 'pancreas'",
            )
        return v

    @field_validator("lung_descriptors")
    @classmethod
    def _lung_only(
        cls, v: frozenset[LungDescriptor] | None, info: ValidationInfo
    ) -> frozenset[LungDescriptor] | None:
        if v is not None and info.data.get("primary_site") not in (PrimarySite.lung, None):
            raise PydanticCustomError(
                "lung_only", "lung_descriptors apply only when primary_site is 'lung'"
            )
        return v


class LungNodeStation(StrEnum):
    hilar_or_intrapulmonary = "hilar_or_intrapulmonary"  # N1
    mediastinal_or_subcarinal = "mediastinal_or_subcarinal"  # N2
    contralateral_or_supraclavicular = "contralateral_or_supraclavicular"  # N3


class NodeStatus(StrEnum):
    negative = "negative"
    positive = "positive"
    not_assessed = "not_assessed"


class RegionalNodes(_Frozen):
    status: NodeStatus | None = Field(
        default=None, description="Overall nodal status when counts are not available"
    )
    examined: Annotated[int, STRICT, Field(ge=0, le=300)] | None = None
    positive: Annotated[int, STRICT, Field(ge=0, le=300)] | None = None
    mesenteric_mass_cm: Annotated[float, STRICT, Field(ge=0, le=40)] | None = Field(
        default=None,
        description="Jejunum/ileum: largest mesenteric nodal mass in cm; 0 states there is none",
    )
    lung_highest_station: LungNodeStation | None = Field(
        default=None, description="Lung only: most advanced involved node station"
    )

    @field_validator("positive")
    @classmethod
    def _not_more_than_examined(cls, v: int | None, info: ValidationInfo) -> int | None:
        examined = info.data.get("examined")
        if v is not None and examined is not None and v > examined:
            raise PydanticCustomError(
                "positive_exceeds_examined",
                "positive ({positive}) cannot exceed examined ({examined})",
                {"positive": v, "examined": examined},
            )
        return v


class MetastasisSite(StrEnum):
    lung = "lung"
    contralateral_lung = "contralateral_lung"
    pleura_pericardium = "pleura_pericardium"
    bone = "bone"
    brain = "brain"
    peritoneum = "peritoneum"
    distant_nodes = "distant_nodes"
    ovary = "ovary"
    adrenal = "adrenal"
    other = "other"


class LiverExtent(StrEnum):
    confined = "confined"  # one lobe or two contiguous segments
    bilobar = "bilobar"


class LiverResectability(StrEnum):
    standard_resection = "standard_resection"
    resection_with_ablation_or_staged = "resection_with_ablation_or_staged"
    unresectable = "unresectable"


class LiverMetastases(_Frozen):
    lesion_count: Annotated[int, STRICT, Field(ge=1, le=1000)] | None = None
    extent: LiverExtent | None = None
    resectability: LiverResectability | None = None
    diffuse: bool | None = Field(
        default=None,
        description="Disseminated bilobar spread with little normal parenchyma left",
    )
    largest_cm: SizeCm | None = None
    lesion_count_range: CountBounds | None = Field(
        default=None,
        description="Number of liver lesions as words or bounds: 'multiple', '>10' "
        "(instead of lesion_count)",
    )

    @model_validator(mode="after")
    def _count_forms(self) -> LiverMetastases:
        _exclusive(self, "lesion_count", "lesion_count_range")
        if self.lesion_count_range is not None:
            self.lesion_count_range.check_limits(1, 1000, "lesion_count_range")
        return self


class ExtrahepaticMetastasis(_Frozen):
    site: MetastasisSite
    lesion_count: Annotated[int, STRICT, Field(ge=1, le=1000)] | None = None


class MetastasisStatus(StrEnum):
    none = "none"
    present = "present"
    unknown = "unknown"


class Metastases(_Frozen):
    status: MetastasisStatus = Field(description="none, present or unknown")
    liver: LiverMetastases | None = None
    extrahepatic: tuple[ExtrahepaticMetastasis, ...] | None = Field(
        default=None,
        description=(
            "Extrahepatic metastatic sites; [] = none. Not given with status 'present' = not "
            "known (the M substage stays open)"
        ),
    )


class Differentiation(StrEnum):
    well = "well"
    poor = "poor"


class Morphology(StrEnum):
    small_cell = "small_cell"
    large_cell = "large_cell"
    carcinoid = "carcinoid"  # organoid, well-differentiated pattern
    small_and_large_cell = "small_and_large_cell"  # combined small-cell and large-cell


class Necrosis(StrEnum):
    absent = "absent"
    focal = "focal"  # punctate / focal
    extensive = "extensive"


class IhcResult(StrEnum):
    positive = "positive"
    negative = "negative"
    retained = "retained"
    lost = "lost"
    aberrant = "aberrant"
    wild_type = "wild_type"


class ComponentKind(StrEnum):
    neuroendocrine = "neuroendocrine"
    adenocarcinoma = "adenocarcinoma"
    squamous = "squamous"
    acinar = "acinar"
    other_non_neuroendocrine = "other_non_neuroendocrine"


class TumourComponent(_Frozen):
    kind: ComponentKind
    percent: Percent | None = Field(
        default=None,
        description="Share of the tumour, %; leave out when the report does not give it",
    )
    differentiation: Differentiation | None = None
    morphology: Morphology | None = None
    ki67_percent: Percent | None = None
    mitoses_per_2mm2: Annotated[float, STRICT, Field(ge=0, le=500)] | None = None


class Pathology(_Frozen):
    differentiation: Differentiation | None = None
    morphology: Morphology | None = None
    ki67_percent: Percent | None = Field(default=None, description="Ki-67 index (MIB-1), %")
    mitoses_per_2mm2: Annotated[float, STRICT, Field(ge=0, le=500)] | None = None
    necrosis: Necrosis | None = None
    ihc: dict[str, IhcResult] = Field(
        default_factory=dict,
        description="Immunohistochemistry, marker name to result (e.g. synaptophysin: positive)",
    )
    components: tuple[TumourComponent, ...] = Field(
        default=(), description="Mixed tumours: each component with its share of the tumour"
    )
    minen_diagnosed: bool | None = Field(
        default=None,
        description="The pathologist diagnosed a MiNEN (each component at least 30 %) without "
        "necessarily giving the shares",
    )
    ki67_range: Bounds | None = Field(
        default=None,
        description="Ki-67 as a range or bound, e.g. '10-15', '<2', '>90' (instead of "
        "ki67_percent)",
    )
    mitoses: MitoticCount | None = Field(
        default=None,
        description="Mitotic count as reported (per HPF, 10 HPF, 50 HPF or an area), converted "
        "to per 2 mm² (instead of mitoses_per_2mm2)",
    )

    @model_validator(mode="after")
    def _reported_forms(self) -> Pathology:
        _exclusive(self, "ki67_percent", "ki67_range")
        _exclusive(self, "mitoses_per_2mm2", "mitoses")
        if self.ki67_range is not None:
            self.ki67_range.check_limits(0, 100, "ki67_range")
        return self

    @field_validator("components")
    @classmethod
    def _components_total(cls, v: tuple[TumourComponent, ...]) -> tuple[TumourComponent, ...]:
        total = sum(c.percent for c in v if c.percent is not None)
        if total > 100.0001:
            raise PydanticCustomError(
                "components_total",
                "component percentages add up to {total} %, more than 100 %",
                {"total": f"{total:g}"},
            )
        return v


class StagingBasis(StrEnum):
    clinical = "clinical"
    pathological = "pathological"
    post_therapy = "post_therapy"


class Case(_Frozen):
    """One patient's NEN as the MDT sees it. Input as JSON or YAML."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"$id": "https://nenguide.example/schema/case.json"},
    )

    schema_version: Literal["1"] = "1"
    case_id: Annotated[str, Field(max_length=120)] | None = None
    patient: Patient = Field(default_factory=Patient)
    tumour: Tumour
    regional_nodes: RegionalNodes | None = None
    metastases: Metastases | None = None
    pathology: Pathology = Field(default_factory=Pathology)
    staging_basis: StagingBasis | None = None
    clinical: Clinical = Field(
        default_factory=Clinical,
        description="Labs, symptoms, history, family history, investigations, therapy so far",
    )

    @model_validator(mode="after")
    def _site_specific(self) -> Case:
        site = self.tumour.primary_site
        nodes = self.regional_nodes
        if nodes is not None:
            if nodes.mesenteric_mass_cm is not None and site not in (
                PrimarySite.jejunum,
                PrimarySite.ileum,
            ):
                raise _invalid(
                    "regional_nodes.mesenteric_mass_cm",
                    "mesenteric_mass_cm applies only to jejunum/ileum primaries",
                    "mesenteric_site",
                )
            if nodes.lung_highest_station is not None and site is not PrimarySite.lung:
                raise _invalid(
                    "regional_nodes.lung_highest_station",
                    "lung_highest_station applies only to lung primaries",
                    "lung_station_site",
                )
        if self.metastases is not None and site is not PrimarySite.lung:
            for i, m in enumerate(self.metastases.extrahepatic or ()):
                if m.site in (MetastasisSite.contralateral_lung,):
                    raise _invalid(
                        f"metastases.extrahepatic.{i}.site",
                        "'contralateral_lung' is for lung primaries; use 'lung'",
                        "contralateral_lung_site",
                    )
        if self.metastases is not None and site is PrimarySite.lung:
            for i, m in enumerate(self.metastases.extrahepatic or ()):
                if m.site is MetastasisSite.lung:
                    raise _invalid(
                        f"metastases.extrahepatic.{i}.site",
                        "for a lung primary use 'contralateral_lung' (same-lobe or other "
                        "ipsilateral lobe nodules are tumour.lung_descriptors)",
                        "lung_site_for_lung",
                    )
        return self
