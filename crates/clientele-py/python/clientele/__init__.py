"""clientele: customer segments from a transaction log, the same numbers as the ``clientele`` CLI.

Every function takes the data first: a path (a CSV or Parquet file, a directory of Parquet
files, a glob) read by clientele's readers, or a data frame (polars, pandas >= 2, pyarrow, or
anything else with the Arrow PyCapsule interface, ``__arrow_c_stream__``). Settings are keyword
arguments named as the keys of the TOML configuration (``clientele config show``): ``bins=4``,
``returns="exclude"``, ``as_of="2011-12-10"``, ``customer="CustomerID"``, ``clusters=4``,
``clv=True``, ``calibration_end="2011-09-30"``, ...; a whole section as a dict
(``analysis={"bins": 4}``), and ``settings=`` a TOML file (as ``--config``) or a dict under
them. Defaults and errors are the library's: ``clientele.config_show()`` prints them.

Tables come back as polars DataFrames (``.to_pandas()`` for pandas); what a job found (the
row reconciliation, RFM thresholds, ABC classes, fitted models) as typed objects on them.

    >>> import clientele
    >>> segments = clientele.segment("orders.csv")           # doctest: +SKIP
    >>> segments.rows.balances, segments.thresholds[0].cut_points  # doctest: +SKIP
"""

from __future__ import annotations

import html as _html
import os
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import polars as pl

from . import _clientele as _native
from ._clientele import (
    ClienteleError,
    DataError,
    InternalError,
    IoError,
    UsageError,
    __version__,
)
from ._types import (
    AbcClass,
    ClusterModel,
    ClvModel,
    Findings,
    HoldoutCheck,
    QualityReport,
    RowReconciliation,
    ScoreBin,
    Thresholds,
)

__all__ = [
    "segment", "customers", "rfm", "abc", "clusters", "clv", "validate", "sql", "report",
    "write_table", "config_show", "Table", "Report", "Findings", "RowReconciliation",
    "Thresholds", "ScoreBin", "AbcClass", "ClusterModel", "ClvModel", "HoldoutCheck",
    "QualityReport", "ClienteleError", "DataError", "UsageError", "IoError", "InternalError",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]
Settings = Union[PathLike, Mapping[str, Any], None]


class Table(pl.DataFrame):
    """A polars DataFrame, with what the job found besides the table.

    ``rows`` (the row reconciliation), ``thresholds`` (RFM cut points per measure), ``abc``
    (ABC classes), ``clusters`` (the fitted k-means model), ``clv`` (the fitted lifetime-value
    models); ``findings`` holds them all. Frames derived from a Table (``head()``,
    ``filter()``, ...) are plain polars DataFrames.
    """

    findings: Findings

    @classmethod
    def _from_pydf(cls, py_df: Any) -> pl.DataFrame:  # derived frames are plain DataFrames
        return pl.DataFrame._from_pydf(py_df)

    @classmethod
    def _wrap(cls, frame: pl.DataFrame, findings: Findings) -> "Table":
        table = cls.__new__(cls)
        table._df = frame._df  # the same buffers: no copy
        table.findings = findings
        return table

    @property
    def rows(self) -> Optional[RowReconciliation]:
        """What happened to every input row (used, excluded by a policy, rejected)."""
        return self.findings.rows

    @property
    def thresholds(self) -> Optional[List[Thresholds]]:
        """RFM scoring per measure (recency, frequency, monetary): cut points and scores."""
        return self.findings.thresholds

    @property
    def abc(self) -> Optional[List[AbcClass]]:
        """The ABC classes: customers and revenue per class."""
        return self.findings.abc

    @property
    def clusters(self) -> Optional[ClusterModel]:
        """The fitted k-means model, when clusters were asked for."""
        return self.findings.clusters

    @property
    def clv(self) -> Optional[ClvModel]:
        """The fitted lifetime-value models, when lifetime value was asked for."""
        return self.findings.clv


def _data(data: Any) -> Any:
    """A path as a string, a polars DataFrame as it is, other frames through Arrow."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pl.from_pandas(data)
    if hasattr(data, "__arrow_c_stream__"):
        return pl.DataFrame(data)
    raise TypeError(
        "data must be a path, a polars or pandas DataFrame, or an object with the Arrow PyCapsule "
        f"interface (__arrow_c_stream__), not {type(data).__name__}"
    )


def _table(command: str, data: Any, settings: Settings, kwargs: Dict[str, Any]) -> Table:
    frame, info = _native.table(command, _data(data), settings, **kwargs)
    return Table._wrap(frame, Findings._from(info))


def segment(data: Any, *, settings: Settings = None, **kwargs: Any) -> Table:
    """The full per-customer table of ``clientele segment``: measures, RFM scores and segment,
    ABC class, and with ``clusters=K`` (or ``"auto"``) a cluster, with ``clv=True`` lifetime
    value.

    Keyword arguments are settings (``bins``, ``binning``, ``returns``, ``as_of``, ``abc_by``,
    ``abc_splits``, ``rules``, column names ``customer``/``time``/``amount``/``order``, ...;
    ``clientele.config_show()`` lists them with their defaults). Returns a :class:`Table`:
    ``.rows``, ``.thresholds``, ``.abc``, ``.clusters``, ``.clv``.

    Raises DataError (the input cannot be used), UsageError (a bad setting), IoError.
    """
    return _table("segment", data, settings, kwargs)


def customers(data: Any, *, settings: Settings = None, **kwargs: Any) -> Table:
    """One row per customer (``clientele customers``): first and last purchase, recency,
    frequency, monetary value, tenure. ``.rows`` accounts for every input row."""
    return _table("customers", data, settings, kwargs)


def rfm(data: Any, *, settings: Settings = None, **kwargs: Any) -> Table:
    """Customers with R, F and M scores, the RFM cell and segment (``clientele rfm``).
    ``.thresholds`` has each measure's cut points; ``bins``, ``binning`` (``quantile``,
    ``rank``, ``fixed`` with ``thresholds``), ``rules`` and ``preset`` change the scoring."""
    return _table("rfm", data, settings, kwargs)


def abc(data: Any, *, settings: Settings = None, **kwargs: Any) -> Table:
    """Customers with their ABC class (``clientele abc``), by share of customers or of revenue
    (``abc_by="revenue"``), split at ``abc_splits`` (percent). ``.abc`` has the classes."""
    return _table("abc", data, settings, kwargs)


def clusters(data: Any, *, settings: Settings = None, **kwargs: Any) -> Table:
    """k-means clusters of customers (``clientele cluster``): ``customer_id``, the features
    and ``cluster``. ``k`` (a number or ``"auto"``), ``features``, ``transform``, ``scale``,
    ``seed``, ``n_init``, ...; ``clusters={"model": path}`` applies a saved model.
    ``.clusters`` is the fitted model (``.clusters.save(path)`` saves it)."""
    return _table("clusters", data, settings, kwargs)


def clv(data: Any, *, settings: Settings = None, **kwargs: Any) -> Table:
    """Lifetime value from buy-till-you-die models (``clientele clv``): expected purchases,
    P(alive), CLV per customer. ``calibration_end``, ``holdout_end`` (a holdout check),
    ``horizon``, ``time_unit``, ``period``, ``clv={"model": "pareto-nbd"}``, ``discount``,
    ``margin``. ``.clv`` has the fitted parameters and the holdout check."""
    return _table("clv", data, settings, kwargs)


def validate(data: Any, *, settings: Settings = None, **kwargs: Any) -> QualityReport:
    """The data-quality report of ``clientele validate``: rows used, excluded and rejected
    with examples, duplicates, amounts and dates. Its ``markdown`` is the CLI's text."""
    text, markdown = _native.validate(_data(data), settings, **kwargs)
    return QualityReport._from(text, markdown)


def sql(
    sample: Any = None,
    *,
    dialect: str = "duckdb",
    table: Optional[str] = None,
    clv: bool = False,
    settings: Settings = None,
    **kwargs: Any,
) -> str:
    """The customer aggregation as SQL (``clientele sql``) for ``duckdb``, ``postgres`` or
    ``spark``: over a sample export's columns and formats, or over the named columns
    (``table=``, ``customer=``, ``time=``, ``amount=``); ``clv=True`` adds the ``btyd_*``
    columns."""
    if sample is not None:
        sample = _data(sample)
    return _native.sql(sample, dialect, table, clv, settings, **kwargs)


def write_table(frame: Any, path: PathLike, format: Optional[str] = None) -> None:
    """Writes a table as the CLI writes it (``csv``, ``parquet`` or ``json``; from the file
    name when ``format`` is left out): the same bytes as ``clientele segment -o PATH``."""
    _native.write_table(_data(frame), os.fspath(path), format)


def config_show(*, settings: Settings = None, **kwargs: Any) -> str:
    """The settings a call with these arguments uses, every key with its value, as the TOML of
    ``clientele config show``."""
    return _native.config_show(settings, **kwargs)


class Report:
    """The report of ``clientele report``: shown inline in Jupyter (the self-contained HTML
    page of ``report.html``), written to a directory by :meth:`save`."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._findings: Optional[Findings] = None

    @property
    def html(self) -> str:
        """``report.html``: one self-contained page."""
        return self._native.html()

    @property
    def markdown(self) -> str:
        """``summary.md``."""
        return self._native.markdown()

    @property
    def summary(self) -> Dict[str, Any]:
        """``summary.json`` as a dict."""
        import json

        return json.loads(self._native.json())

    @property
    def frame(self) -> pl.DataFrame:
        """The segment table of the directory."""
        return self._native.frame()

    @property
    def rejects(self) -> Optional[pl.DataFrame]:
        """The rejected input rows with their reason (``rejects.csv``), if any."""
        return self._native.rejects()

    @property
    def findings(self) -> Findings:
        """Rows, thresholds, ABC classes, clusters and lifetime value, typed."""
        if self._findings is None:
            self._findings = Findings._from(self._native.info())
        return self._findings

    def names(self) -> List[str]:
        """The files :meth:`save` writes, in order."""
        return self._native.names()

    def save(self, dir: PathLike) -> List[Path]:
        """Writes the report directory as ``clientele report --out-dir DIR`` does (the files put
        in place together); returns their paths."""
        return [Path(p) for p in self._native.save(os.fspath(dir))]

    def _repr_html_(self) -> str:
        # The page in an iframe: its styles and scripts stay out of the notebook's.
        return (
            '<iframe style="width:100%;height:900px;border:0" sandbox="allow-scripts" '
            f'srcdoc="{_html.escape(self.html, quote=True)}"></iframe>'
        )

    def _repr_markdown_(self) -> str:
        return self.markdown


def report(
    data: Any,
    *,
    previous: Optional[PathLike] = None,
    settings: Settings = None,
    **kwargs: Any,
) -> Report:
    """The whole report of ``clientele report``: segments, summaries, charts, rejected rows,
    cohorts; ``previous=`` an earlier report directory (or segment table) adds the migration.
    Display it in a notebook, or ``.save(dir)``."""
    prev = os.fspath(previous) if previous is not None else None
    return Report(_native.report(_data(data), prev, settings, **kwargs))


def _settings_help() -> str:
    """The settings: every key by section, and the defaults (``clientele config show``)."""
    keys = "\n".join(f"[{name}] " + ", ".join(names) for name, names in _native.settings_keys())
    text = (
        "\nSettings: these keys as keywords (a section's keys also as ``section={...}``):\n\n"
        + textwrap.indent(keys, "    ")
        + "\n\nand their defaults, as ``clientele.config_show()`` prints them (keys left out have\n"
        "no default: detected, or off):\n\n"
        + textwrap.indent(_native.config_show(None).rstrip(), "    ")
    )
    return "\n" + textwrap.indent(text, "    ") + "\n"


_HELP = _settings_help()
for _f in (segment, customers, rfm, abc, clusters, clv, validate, sql, report, config_show):
    _f.__doc__ = (_f.__doc__ or "") + _HELP
del _f
