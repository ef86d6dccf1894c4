//! Checking, before anything is read, that no output of a command is one of its inputs or
//! another of its outputs: `clientele segment t.csv -o t.csv` would otherwise replace the
//! transactions with the table, and `-o o.csv --rejects o.csv` keep only the rejects.

use std::path::{Path, PathBuf};

use super::staged::{check_target, parent_dir};
use crate::error::{Error, Result};

/// A file a command reads or writes, with the role it has there ("input", "-o", "--rejects").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFile {
    /// The path as given.
    pub path: PathBuf,
    /// What the file is to the command, for messages.
    pub role: String,
}

impl NamedFile {
    /// A file with its role.
    pub fn new(path: impl Into<PathBuf>, role: impl Into<String>) -> NamedFile {
        NamedFile {
            path: path.into(),
            role: role.into(),
        }
    }
}

/// What makes two paths the same file: device and inode for a file that exists (so hard links
/// and different spellings match), the canonical path for one not yet there.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    if let Ok(meta) = std::fs::metadata(path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = &meta;
            return Some(Identity::Inode(meta.dev(), meta.ino()));
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            return std::fs::canonicalize(path).ok().map(Identity::Path);
        }
    }
    let dir = std::fs::canonicalize(parent_dir(path)).ok()?;
    Some(Identity::Path(dir.join(path.file_name()?)))
}

/// Refuses outputs that are the same file as an input or as another output, that are
/// directories, or whose directory does not exist.
///
/// ```
/// use clientele::output::{NamedFile, check_outputs};
/// let dir = tempfile::tempdir().unwrap();
/// let input = dir.path().join("t.csv");
/// std::fs::write(&input, "customer_id,order_date,amount\n1,2023-01-01,5\n").unwrap();
/// let same = dir.path().join(".").join("t.csv");
/// let err = check_outputs(&[NamedFile::new(&input, "input")], &[NamedFile::new(&same, "-o")]);
/// assert!(err.unwrap_err().to_string().contains("would overwrite"));
/// ```
///
/// # Errors
///
/// [`Error::SameFile`] naming both files and their roles; [`Error::Io`] for a directory or a
/// missing directory.
pub fn check_outputs(inputs: &[NamedFile], outputs: &[NamedFile]) -> Result<()> {
    let input_ids: Vec<(Option<Identity>, &NamedFile)> =
        inputs.iter().map(|f| (identity(&f.path), f)).collect();
    let mut seen: Vec<(Identity, &NamedFile)> = Vec::new();
    for output in outputs {
        check_target(&output.path)?;
        let Some(id) = identity(&output.path) else {
            continue;
        };
        let clash = input_ids
            .iter()
            .filter_map(|(i, f)| i.as_ref().map(|i| (i, *f)))
            .chain(seen.iter().map(|(i, f)| (i, *f)))
            .find(|(other, _)| **other == id);
        if let Some((_, other)) = clash {
            return Err(Error::SameFile {
                output: output.path.clone(),
                output_role: output.role.clone(),
                other: other.path.clone(),
                other_role: other.role.clone(),
            });
        }
        seen.push((id, output));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_may_not_be_inputs_or_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("t.csv");
        std::fs::write(&input, "x").unwrap();
        let link = dir.path().join("link.csv");
        std::fs::hard_link(&input, &link).unwrap();
        let inputs = [NamedFile::new(&input, "input")];
        let err = check_outputs(&inputs, &[NamedFile::new(&link, "-o")]).unwrap_err();
        assert!(err.to_string().contains("link.csv (-o) would overwrite"), "{err}");
        let new = dir.path().join("o.csv");
        let twice = [
            NamedFile::new(&new, "-o"),
            NamedFile::new(dir.path().join("sub/../o.csv"), "--rejects"),
        ];
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let err = check_outputs(&inputs, &twice).unwrap_err();
        assert!(err.to_string().contains("(--rejects) would overwrite"), "{err}");
        let fine = [
            NamedFile::new(&new, "-o"),
            NamedFile::new(dir.path().join("r.csv"), "--rejects"),
        ];
        assert!(check_outputs(&inputs, &fine).is_ok());
    }
}
