//! Reading plain CSV files in blocks of whole lines.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use super::fields::{last_line_end, layout_of};
use super::{BLOCK_BYTES, Block, Layout, ROLES, Settings};
use crate::error::{Error, Result};
use crate::ingest::source::DelimitedFiles;

/// Reads the files in blocks of whole lines, one file after another.
pub(super) struct BlockReader<'a> {
    files: std::slice::Iter<'a, std::path::PathBuf>,
    current: Option<OpenFile>,
    header: bool,
    names: &'a [Option<&'a str>; ROLES],
    settings: &'a Settings,
}

struct OpenFile {
    path: std::path::PathBuf,
    file: File,
    carry: Vec<u8>,
    eof: bool,
    layout: Option<Arc<Layout>>,
}

impl<'a> BlockReader<'a> {
    pub(super) fn new(
        files: &'a DelimitedFiles,
        names: &'a [Option<&'a str>; ROLES],
        settings: &'a Settings,
    ) -> Self {
        BlockReader {
            files: files.files.iter(),
            current: None,
            header: files.header,
            names,
            settings,
        }
    }

    /// Up to `n` blocks (fewer at the end), or why the input is not plain.
    pub(super) fn read_round(&mut self, n: usize) -> Result<std::result::Result<Vec<Block>, String>> {
        let mut blocks = Vec::with_capacity(n);
        while blocks.len() < n {
            match self.next_block()? {
                Ok(Some(block)) => blocks.push(block),
                Ok(None) => break,
                Err(why) => return Ok(Err(why)),
            }
        }
        Ok(Ok(blocks))
    }

    fn next_block(&mut self) -> Result<std::result::Result<Option<Block>, String>> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.files.next() else {
                    return Ok(Ok(None));
                };
                let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
                self.current = Some(OpenFile {
                    path: path.clone(),
                    file,
                    carry: Vec::new(),
                    eof: false,
                    layout: None,
                });
            }
            let open = self.current.as_mut().expect("opened above");
            let mut bytes = std::mem::take(&mut open.carry);
            let cut = loop {
                fill(open, &mut bytes, BLOCK_BYTES)?;
                if open.eof {
                    break bytes.len();
                }
                match last_line_end(&bytes, self.settings.quote) {
                    Some(end) => break end,
                    // A line longer than a block: read on.
                    None => {
                        let longer = bytes.len() + BLOCK_BYTES;
                        fill(open, &mut bytes, longer)?
                    }
                }
            };
            open.carry = bytes.split_off(cut);
            if open.layout.is_none() {
                let (layout, header_end) = match layout_of(&bytes, self.header, self.names, self.settings) {
                    Ok(found) => found,
                    Err(why) => return Ok(Err(format!("{}: {why}", open.path.display()))),
                };
                open.layout = Some(Arc::new(layout));
                bytes.drain(..header_end);
            }
            let layout = Arc::clone(open.layout.as_ref().expect("set above"));
            if open.eof && open.carry.is_empty() {
                self.current = None;
            }
            if !bytes.is_empty() {
                return Ok(Ok(Some(Block { layout, bytes })));
            }
        }
    }
}

/// Reads until `bytes` holds `target` bytes or the file ends (into spare capacity: no
/// zero-filling of the buffer first).
fn fill(open: &mut OpenFile, bytes: &mut Vec<u8>, target: usize) -> Result<()> {
    let wanted = target.saturating_sub(bytes.len());
    if wanted == 0 || open.eof {
        return Ok(());
    }
    bytes.reserve(wanted);
    let read = (&mut open.file)
        .take(wanted as u64)
        .read_to_end(bytes)
        .map_err(|e| Error::io("cannot read", &open.path, e))?;
    // `read_to_end` stops at the limit or at the end of the file, whichever comes first.
    open.eof = read < wanted;
    Ok(())
}
