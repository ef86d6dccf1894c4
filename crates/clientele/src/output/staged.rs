//! Files written under a temporary name and put in place only when everything succeeded.
//!
//! An [`AtomicFile`] is written beside its target as `.NAME.tmp-PID-N`. Alone, it is renamed
//! into place by [`AtomicFile::commit`]. A command with several outputs stages them all in an
//! [`OutputSet`] and commits them together: every target is checked first, every earlier
//! file is kept (hard-linked aside) until all renames succeeded, and on any failure the earlier
//! files are put back, so a failed command never leaves some outputs replaced and others not.
//!
//! Temporary files of a process that was killed are removed by the next write of the same
//! target (their owner process is gone).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The directory a path is in (`.` for a bare file name): where its temporary twin goes.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into())
}

/// A hidden sibling of `target`: `.NAME.KIND-PID-N`.
fn sibling(target: &Path, kind: &str) -> PathBuf {
    parent_dir(target).join(format!(
        ".{}.{kind}-{}-{}",
        file_name(target),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Whether a process with this id runs (Linux: `/proc/PID`). Where that cannot be told, every
/// process counts as running, so nothing of a live writer is ever removed.
fn process_alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc");
    !proc_root.join("self").exists() || proc_root.join(pid.to_string()).exists()
}

/// Removes the temporaries (`.NAME.tmp-PID-N`) and kept-aside copies (`.NAME.bak-PID-N`) of
/// `target` that processes no longer running left behind (a killed write). Returns how many
/// were removed. Failures to list or remove are ignored: cleaning up must not fail a write.
pub fn remove_stale_temporaries(target: &Path) -> usize {
    let dir = parent_dir(target);
    let name = file_name(target);
    let prefixes = [format!(".{name}.tmp-"), format!(".{name}.bak-")];
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = prefixes.iter().find_map(|p| entry_name.strip_prefix(p.as_str())) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) || !entry.path().is_file() {
            continue;
        }
        if std::fs::remove_file(entry.path()).is_ok() {
            log::warn!("removed {}, left by an interrupted write", entry.path().display());
            removed += 1;
        }
    }
    removed
}

/// A file being written under a temporary name, renamed to its target by [`AtomicFile::commit`]
/// (or staged by [`AtomicFile::finish`] for an [`OutputSet`]). Dropped without either, the
/// temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file beside `target`, after removing stale temporaries of it.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory is missing or not writable, or when `target` is a
    /// directory.
    pub fn create(target: impl AsRef<Path>) -> Result<AtomicFile> {
        let target = target.as_ref().to_path_buf();
        check_target(&target)?;
        remove_stale_temporaries(&target);
        let temp = sibling(&target, "tmp");
        let file = File::create(&temp).map_err(|e| Error::io("cannot create", &temp, e))?;
        Ok(AtomicFile {
            target,
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The writer for the content.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("writer is present until finished")
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes and syncs the content; the file stays under its temporary name until the
    /// returned [`StagedFile`] is committed (alone or in an [`OutputSet`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when flushing or syncing fails (the temporary file is then removed).
    pub fn finish(mut self) -> Result<StagedFile> {
        let writer = self.writer.take().expect("finish once");
        let staged = StagedFile {
            target: std::mem::take(&mut self.target),
            temp: std::mem::take(&mut self.temp),
            done: false,
        };
        let file = writer
            .into_inner()
            .map_err(|e| Error::io("cannot write", &staged.temp, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("cannot write", &staged.temp, e))?;
        Ok(staged)
    }

    /// Flushes, syncs and renames the file into place.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when flushing or renaming fails (the temporary file is then removed).
    pub fn commit(self) -> Result<()> {
        self.finish()?.commit()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A complete file under its temporary name, waiting to be renamed to its target. Dropped
/// uncommitted, the temporary file is removed.
#[derive(Debug)]
pub struct StagedFile {
    target: PathBuf,
    temp: PathBuf,
    done: bool,
}

impl StagedFile {
    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames this file into place on its own.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the target is a directory or the rename fails.
    pub fn commit(self) -> Result<()> {
        let mut set = OutputSet::new();
        set.push(self);
        set.commit()
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// An output may not be a directory, and its directory must exist: checked before anything
/// is written, and again just before the outputs are put in place.
pub(crate) fn check_target(target: &Path) -> Result<()> {
    if target.is_dir() {
        return Err(Error::io(
            "cannot write",
            target,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory: name a file"),
        ));
    }
    let dir = parent_dir(target);
    if !dir.is_dir() {
        return Err(Error::io(
            "cannot create",
            target,
            std::io::Error::new(std::io::ErrorKind::NotFound, "its directory does not exist"),
        ));
    }
    Ok(())
}

/// The outputs of one command, committed together: all of them are put in place, or none is
/// and every earlier file is as it was.
///
/// ```
/// use std::io::Write;
/// use clientele::output::{AtomicFile, OutputSet};
/// # fn main() -> clientele::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let mut set = OutputSet::new();
/// for name in ["table.csv", "rejects.csv"] {
///     let mut file = AtomicFile::create(dir.path().join(name))?;
///     file.writer().write_all(b"a\n1\n").unwrap();
///     set.push(file.finish()?);
/// }
/// assert!(!dir.path().join("table.csv").exists());
/// set.commit()?;
/// assert!(dir.path().join("rejects.csv").exists());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct OutputSet {
    files: Vec<StagedFile>,
}

impl OutputSet {
    /// An empty set.
    pub fn new() -> OutputSet {
        OutputSet::default()
    }

    /// Adds a finished file.
    pub fn push(&mut self, file: StagedFile) {
        self.files.push(file);
    }

    /// The targets staged so far, in order.
    pub fn targets(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.target.as_path()).collect()
    }

    /// Puts every staged file in place. Every target is checked first; each existing target
    /// is kept aside (a hard link) until all renames succeeded, and restored if one fails.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a target is a directory, or a rename fails; then no target has
    /// changed.
    pub fn commit(mut self) -> Result<()> {
        for file in &self.files {
            check_target(&file.target)?;
        }
        let mut kept: Vec<Option<PathBuf>> = Vec::with_capacity(self.files.len());
        for file in &self.files {
            kept.push(keep_aside(&file.target)?);
        }
        let mut renamed = 0;
        let mut failure = None;
        for file in &self.files {
            if let Err(e) = std::fs::rename(&file.temp, &file.target) {
                failure = Some(Error::io("cannot rename into", &file.target, e));
                break;
            }
            renamed += 1;
        }
        if let Some(error) = failure {
            for (file, backup) in self.files.iter().zip(&kept).take(renamed) {
                let _ = match backup {
                    Some(backup) => std::fs::rename(backup, &file.target),
                    None => std::fs::remove_file(&file.target),
                };
            }
            remove_all(kept.iter().flatten());
            return Err(error);
        }
        for file in &mut self.files {
            file.done = true;
        }
        remove_all(kept.iter().flatten());
        let dirs: std::collections::BTreeSet<PathBuf> =
            self.files.iter().map(|f| parent_dir(&f.target)).collect();
        for dir in dirs {
            if let Ok(handle) = File::open(&dir) {
                // Some file systems refuse fsync on directories; the files are synced already.
                let _ = handle.sync_all();
            }
        }
        Ok(())
    }
}

/// A hard link to an existing target, so it can be restored; `None` when there is no target
/// (or the file system has no hard links: then a failed commit cannot restore this one).
fn keep_aside(target: &Path) -> Result<Option<PathBuf>> {
    if !target.exists() {
        return Ok(None);
    }
    let backup = sibling(target, "bak");
    match std::fs::hard_link(target, &backup) {
        Ok(()) => Ok(Some(backup)),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => Ok(None),
        Err(e) => Err(Error::io("cannot keep aside", target, e)),
    }
}

fn remove_all<'a>(paths: impl Iterator<Item = &'a PathBuf>) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn stage(target: &Path, content: &str) -> StagedFile {
        let mut file = AtomicFile::create(target).unwrap();
        file.writer().write_all(content.as_bytes()).unwrap();
        file.finish().unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_set_leaves_every_earlier_output_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(&a, "old a").unwrap();
        let mut set = OutputSet::new();
        set.push(stage(&a, "new a"));
        set.push(stage(&b, "new b"));
        // The third target turns into a directory after it was staged.
        let c = dir.path().join("c.csv");
        set.push(stage(&c, "new c"));
        std::fs::create_dir(&c).unwrap();
        let err = set.commit().unwrap_err();
        assert!(err.to_string().contains("c.csv"), "{err}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        assert!(!b.exists());
        assert_eq!(names(dir.path()), ["a.csv", "c.csv"]);
    }

    #[test]
    fn a_rename_failing_midway_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, "old a").unwrap();
        let mut set = OutputSet::new();
        set.push(stage(&a, "new a"));
        let b = dir.path().join("b.csv");
        let mut staged_b = stage(&b, "new b");
        // Its temporary file vanishes: the rename fails after a.csv was replaced.
        std::fs::remove_file(&staged_b.temp).unwrap();
        staged_b.temp = dir.path().join("gone");
        set.push(staged_b);
        assert!(set.commit().is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        assert_eq!(names(dir.path()), ["a.csv"]);
    }

    #[test]
    fn a_committed_set_replaces_all() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, "old a").unwrap();
        let mut set = OutputSet::new();
        set.push(stage(&a, "new a"));
        set.push(stage(&dir.path().join("b.csv"), "new b"));
        set.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new a");
        assert_eq!(names(dir.path()), ["a.csv", "b.csv"]);
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        // A pid beyond Linux's maximum (2^22) never runs.
        let dead = dir.path().join(".out.csv.tmp-4999999-0");
        let other = dir.path().join(".other.csv.tmp-4999999-0");
        let ours = dir
            .path()
            .join(format!(".out.csv.tmp-{}-999", std::process::id()));
        for p in [&dead, &other, &ours] {
            std::fs::write(p, "partial").unwrap();
        }
        let removed = remove_stale_temporaries(&target);
        assert_eq!(removed, usize::from(Path::new("/proc/self").exists()));
        assert_eq!(dead.exists(), !Path::new("/proc/self").exists());
        assert!(other.exists() && ours.exists());
    }

    #[test]
    fn a_directory_is_no_output() {
        let dir = tempfile::tempdir().unwrap();
        let err = AtomicFile::create(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        let err = AtomicFile::create(dir.path().join("nodir/r.csv")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
