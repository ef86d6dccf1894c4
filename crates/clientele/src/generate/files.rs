//! Writing the rendered pieces to their files.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use polars::prelude::*;

use super::layout::{IdKind, Layout};
use super::render::{LogColumns, Piece, PieceData};
use super::{AMOUNT, CSV_HEADER, CUSTOMER_ID, ORDER_DATE, ORDER_ID};
use crate::error::{Error, PolarsContext, Result};
use crate::output::{AtomicFile, OutputFormat};

pub(super) fn frame_schema(ids: IdKind) -> Schema {
    let id_type = match ids {
        IdKind::Integer => DataType::Int64,
        IdKind::Text => DataType::String,
    };
    Schema::from_iter([
        Field::new(CUSTOMER_ID.into(), id_type.clone()),
        Field::new(ORDER_ID.into(), id_type),
        Field::new(
            ORDER_DATE.into(),
            DataType::Datetime(TimeUnit::Microseconds, None),
        ),
        Field::new(AMOUNT.into(), DataType::Float64),
    ])
}

/// Writes the pieces arriving on `receiver` to the `targets`, file `i` holding the rows
/// `bounds[i]..bounds[i + 1]`, laid out as `layout` says (the rows arrive in its order). A file
/// is committed only once all its rows arrived.
pub(super) fn write_files(
    receiver: Receiver<Vec<Piece>>,
    targets: &[PathBuf],
    bounds: &[u64],
    format: OutputFormat,
    layout: &Layout,
) -> Result<()> {
    let group_rows = layout.row_group_rows;
    let mut pieces = receiver.into_iter().flatten().peekable();
    for (index, target) in targets.iter().enumerate() {
        let expected = bounds[index + 1] - bounds[index];
        let mut file = AtomicFile::create(target)?;
        let io_error = |e: std::io::Error| Error::io("cannot write", target, e);
        let polars_context = || format!("cannot write {}", target.display());
        let mut received = 0u64;
        let mut next = |received: &mut u64| {
            let piece = pieces.next_if(|p| p.file == index)?;
            *received += piece.rows;
            Some(piece.data)
        };
        let writer = file.writer();
        match format {
            OutputFormat::Csv => {
                writer.write_all(CSV_HEADER).map_err(io_error)?;
                while let Some(data) = next(&mut received) {
                    if let PieceData::Csv(bytes) = data {
                        writer.write_all(&bytes).map_err(io_error)?;
                    }
                }
            }
            OutputFormat::Parquet => {
                let mut batched = ParquetWriter::new(&mut *writer)
                    .with_compression(layout.codec.compression())
                    .batched(&frame_schema(layout.ids))
                    .context(polars_context)?;
                let mut group = LogColumns::with_capacity(group_rows);
                while let Some(data) = next(&mut received) {
                    if let PieceData::Columns(columns) = data {
                        group.append(columns);
                    }
                    while group.len() >= group_rows {
                        let rest = group.split_off(group_rows);
                        let full = std::mem::replace(&mut group, rest);
                        let frame = full.into_frame(layout.ids).context(polars_context)?;
                        batched.write_batch(&frame).context(polars_context)?;
                    }
                }
                if group.len() > 0 {
                    let frame = group.into_frame(layout.ids).context(polars_context)?;
                    batched.write_batch(&frame).context(polars_context)?;
                }
                batched.finish().context(polars_context)?;
            }
            OutputFormat::Ndjson => {
                while let Some(data) = next(&mut received) {
                    if let PieceData::Columns(columns) = data {
                        let mut frame = columns.into_frame(layout.ids).context(polars_context)?;
                        JsonWriter::new(&mut *writer)
                            .with_json_format(JsonFormat::JsonLines)
                            .finish(&mut frame)
                            .context(polars_context)?;
                    }
                }
            }
        }
        if received != expected {
            return Err(io_error(std::io::Error::other(format!(
                "generation stopped after {received} of {expected} rows"
            ))));
        }
        file.commit()?;
    }
    Ok(())
}
