//! Column helpers over polars frames, shared by the analyses and the reports: a column's
//! values as numbers or text, and a safe ratio.

use polars::prelude::*;

use crate::error::{PolarsContext, Result};

/// A column over `values` itself. `Column::new` reads a `Vec` as a slice and copies it: at
/// millions of customers, a second copy of every column at the peak of memory.
pub(crate) fn owned_column<V>(name: &str, values: V) -> Column
where
    Series: NamedFromOwned<V>,
{
    Series::from_vec(name.into(), values).into()
}

/// A text column of `labels[code]` for each of `codes`, gathered from the labels' views: a
/// label of at most 12 bytes is held whole in its view, a longer one stays in the labels' buffer
/// that the rows' views share, so no row's text is written (writing each row's string took a
/// quarter of the scoring of millions of customers).
pub(crate) fn labels_column<S: AsRef<str>>(name: &str, labels: &[S], codes: &IdxCa) -> Column {
    let labels: Vec<&str> = labels.iter().map(AsRef::as_ref).collect();
    let labels = StringChunked::from_slice(name.into(), &labels);
    labels
        .take(codes)
        .expect("every code is a label's index")
        .into_column()
}

/// `part / whole`, 0 when `whole` is 0.
pub(crate) fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 0.0 } else { part / whole }
}

/// A column's values as numbers (cast to `Float64`), nulls as 0.
pub(crate) fn column_f64(frame: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let column = frame
        .column(name)
        .context(|| format!("column {name}"))?
        .cast(&DataType::Float64)
        .context(|| format!("column {name} as numbers"))?;
    let values = column.f64().context(|| format!("column {name}"))?;
    if values.null_count() == 0 {
        let mut out = Vec::with_capacity(values.len());
        for chunk in values.downcast_iter() {
            out.extend_from_slice(chunk.values());
        }
        return Ok(out);
    }
    Ok(values.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// A column of whole numbers (`Int64`), nulls as 0.
pub(crate) fn column_i64(frame: &DataFrame, name: &str) -> Result<Vec<i64>> {
    Ok(frame
        .column(name)
        .context(|| format!("column {name}"))?
        .i64()
        .context(|| format!("column {name}"))?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// A column's values as numbers, read in place where it can (see [`column_numbers`]).
pub(crate) enum Numbers<'f> {
    /// Contiguous `Float64` without nulls.
    F64(&'f [f64]),
    /// Contiguous `Int64` without nulls, each read as `value as f64`.
    I64(&'f [i64]),
    /// Anything else, copied by [`column_f64`].
    Owned(Vec<f64>),
}

impl Numbers<'_> {
    /// The value of row `i`, as [`column_f64`] gives it.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> f64 {
        match self {
            Numbers::F64(values) => values[i],
            Numbers::I64(values) => values[i] as f64,
            Numbers::Owned(values) => values[i],
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Numbers::F64(values) => values.len(),
            Numbers::I64(values) => values.len(),
            Numbers::Owned(values) => values.len(),
        }
    }

    /// Every value, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The values as a vector of their own.
    pub(crate) fn to_vec(&self) -> Vec<f64> {
        self.iter().collect()
    }
}

/// [`column_f64`]'s values without a copy of a whole-number or `Float64` column (a customer
/// table's measures are one or the other, and 5M customers make 40 MB a copy).
pub(crate) fn column_numbers<'f>(frame: &'f DataFrame, name: &str) -> Result<Numbers<'f>> {
    let column = frame.column(name).context(|| format!("column {name}"))?;
    if let Ok(values) = column.f64()
        && let Ok(slice) = values.cont_slice()
    {
        return Ok(Numbers::F64(slice));
    }
    if let Ok(values) = column.i64()
        && let Ok(slice) = values.cont_slice()
    {
        return Ok(Numbers::I64(slice));
    }
    column_f64(frame, name).map(Numbers::Owned)
}

/// [`column_f64`] without a copy when the column already is contiguous `Float64` without
/// nulls (as `monetary` is), a copy otherwise.
pub(crate) fn column_f64_view<'f>(frame: &'f DataFrame, name: &str) -> Result<std::borrow::Cow<'f, [f64]>> {
    let column = frame.column(name).context(|| format!("column {name}"))?;
    if let Ok(values) = column.f64()
        && let Ok(slice) = values.cont_slice()
    {
        return Ok(std::borrow::Cow::Borrowed(slice));
    }
    column_f64(frame, name).map(std::borrow::Cow::Owned)
}

/// A text column's values, nulls kept.
pub(crate) fn column_text(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    Ok(frame
        .column(name)
        .context(|| format!("column {name}"))?
        .str()
        .context(|| format!("column {name} as text"))?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_gathered_by_code_short_and_long() {
        let labels = ["A", "Need Attention", "C"];
        let codes = IdxCa::from_vec("codes".into(), vec![1, 0, 2, 1, 1]);
        let column = labels_column("segment", &labels, &codes);
        let values: Vec<&str> = column.str().unwrap().iter().map(Option::unwrap).collect();
        assert_eq!(
            values,
            ["Need Attention", "A", "C", "Need Attention", "Need Attention"]
        );
        assert_eq!(column.name().as_str(), "segment");
    }

    #[test]
    fn owned_columns_hold_their_values() {
        let column = owned_column("frequency", vec![3i64, 1, 2]);
        assert_eq!(column.dtype(), &DataType::Int64);
        assert_eq!(column.i64().unwrap().to_vec(), [Some(3), Some(1), Some(2)]);
    }
}
