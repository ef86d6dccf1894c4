"""Typed results: what a clientele function found besides its table.

Each is read from the library's own serialization (the same fields as ``summary.json``);
``raw`` keeps the whole record.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union


@dataclass(frozen=True)
class RowReconciliation:
    """What happened to every input row: ``input_rows = used_rows + excluded_rows + rejected_rows``.

    ``excluded`` and ``rejected`` count rows by reason (``"return"``, ``"missing_customer_id"``, ...;
    reasons without rows are left out).
    """

    input_rows: int
    used_rows: int
    excluded: Dict[str, int]
    rejected: Dict[str, int]

    @property
    def excluded_rows(self) -> int:
        """Rows left out by a policy (returns excluded, after the as-of date, ...)."""
        return sum(self.excluded.values())

    @property
    def rejected_rows(self) -> int:
        """Rows that could not be used, each with a reason."""
        return sum(self.rejected.values())

    @property
    def balances(self) -> bool:
        """Whether every input row is accounted for."""
        return self.input_rows == self.used_rows + self.excluded_rows + self.rejected_rows

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "RowReconciliation":
        return cls(
            input_rows=d["input_rows"],
            used_rows=d["used_rows"],
            excluded={c["reason"]: c["rows"] for c in d["excluded"]},
            rejected={c["reason"]: c["rows"] for c in d["rejected"]},
        )


@dataclass(frozen=True)
class ScoreBin:
    """One score of one measure: its customers and the range of the measure's values."""

    score: int
    customers: int
    min: Optional[float]
    max: Optional[float]


@dataclass(frozen=True)
class Thresholds:
    """How one RFM measure was scored: the cut points (thresholds) between scores."""

    measure: str
    binning: str
    cut_points: List[float]
    scores: List[ScoreBin]
    empty_scores: List[int]
    note: Optional[str]

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "Thresholds":
        return cls(
            measure=d["measure"],
            binning=d["binning"],
            cut_points=list(d["cut_points"]),
            scores=[ScoreBin(**s) for s in d["scores"]],
            empty_scores=list(d["empty_scores"]),
            note=d.get("note"),
        )


@dataclass(frozen=True)
class AbcClass:
    """One ABC class: its customers and revenue, and the textbook shares to compare with."""

    name: str
    customers: int
    customer_share: float
    revenue: float
    revenue_share: float
    textbook_customer_share: Optional[float]
    textbook_revenue_share: Optional[float]

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "AbcClass":
        return cls(name=d["class"], **{k: v for k, v in d.items() if k != "class"})


@dataclass(frozen=True)
class ClusterModel:
    """A fitted k-means model: k, how it was chosen, the feature transform, quality and profiles.

    ``save(path)`` writes the model file that ``clusters={"model": path}`` (``--model``) applies
    to other customers.
    """

    k: int
    chosen_by: str
    features: List[str]
    transform: str
    scale: str
    quality: Dict[str, Any]
    sweep: List[Dict[str, Any]]
    profiles: List[Dict[str, Any]]
    model_json: str = field(repr=False)
    raw: Dict[str, Any] = field(repr=False)

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes the model as ``clientele cluster --save-model`` does."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.model_json)

    @classmethod
    def _from(cls, d: Dict[str, Any], model_json: str) -> "ClusterModel":
        t = d["transform"]
        return cls(
            k=d["k"],
            chosen_by=d["chosen_by"],
            features=list(t["features"]),
            transform=t["transform"],
            scale=t["scale"],
            quality=d["quality"],
            sweep=d["sweep"],
            profiles=d["profiles"],
            model_json=model_json,
            raw=d,
        )


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual purchases in the holdout window after the calibration end."""

    length: float
    actual_total: float
    predicted_total: float
    mean_absolute_error: float
    by_frequency: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "HoldoutCheck":
        keys = ("length", "actual_total", "predicted_total", "mean_absolute_error", "by_frequency")
        return cls(**{k: d[k] for k in keys}, raw=d)


@dataclass(frozen=True)
class ClvModel:
    """Fitted lifetime-value models: the purchase model's parameters (``r``, ``alpha``, ``a``,
    ``b`` for BG/NBD, ...), Gamma-Gamma spend's (``p``, ``q``, ``gamma``), their fits, the
    customer equity, and the holdout check when a holdout window was given."""

    model: str
    params: Dict[str, float]
    spend: Dict[str, float]
    log_likelihood: float
    customer_equity: float
    holdout: Optional[HoldoutCheck]
    diagnostics: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "ClvModel":
        m = d["model"]
        tx = dict(m["transactions"])
        name = tx.pop("model")
        return cls(
            model=name,
            params=tx,
            spend=dict(m["spend"]),
            log_likelihood=m["transaction_fit"]["log_likelihood"],
            customer_equity=d["customer_equity"],
            holdout=HoldoutCheck._from(d["holdout"]) if d.get("holdout") else None,
            diagnostics=d["diagnostics"],
            raw=d,
        )


@dataclass(frozen=True)
class QualityReport:
    """The data-quality report of ``clientele validate``; ``markdown`` is its text form."""

    source: str
    rows: RowReconciliation
    customers: int
    duplicate_rows: int
    markdown: str = field(repr=False)
    raw: Dict[str, Any] = field(repr=False)

    def _repr_markdown_(self) -> str:
        return self.markdown

    @classmethod
    def _from(cls, text: str, markdown: str) -> "QualityReport":
        d = json.loads(text)
        return cls(
            source=d["source"],
            rows=RowReconciliation._from(d["rows"]),
            customers=d["customers"],
            duplicate_rows=d["duplicate_rows"],
            markdown=markdown,
            raw=d,
        )


@dataclass(frozen=True)
class Findings:
    """What a job found besides its table (fields left ``None`` when not computed)."""

    rows: Optional[RowReconciliation] = None
    customers: Optional[int] = None
    as_of: Optional[str] = None
    thresholds: Optional[List[Thresholds]] = None
    segment_rule_warnings: List[str] = field(default_factory=list)
    abc: Optional[List[AbcClass]] = None
    clusters: Optional[ClusterModel] = None
    clv: Optional[ClvModel] = None

    @classmethod
    def _from(cls, text: str) -> "Findings":
        d = json.loads(text)
        return cls(
            rows=RowReconciliation._from(d["rows"]) if "rows" in d else None,
            customers=d.get("customers"),
            as_of=d.get("as_of"),
            thresholds=[Thresholds._from(m) for m in d["rfm"]] if "rfm" in d else None,
            segment_rule_warnings=list(d.get("segment_rule_warnings", [])),
            abc=[AbcClass._from(c) for c in d["abc"]] if "abc" in d else None,
            clusters=ClusterModel._from(d["clusters"], d["cluster_model"]) if "clusters" in d else None,
            clv=ClvModel._from(d["clv"]) if "clv" in d else None,
        )
