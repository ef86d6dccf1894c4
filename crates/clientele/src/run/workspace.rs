//! The output directory of a run: locked, written beside, swapped into place in one step.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{MANIFEST, file_name};
use crate::error::{Error, Result};

/// The output directory's lock and the temporary directory a run writes into.
#[derive(Debug)]
pub(super) struct Workspace {
    target: PathBuf,
    temp: PathBuf,
    // Held for the whole run; closing it releases the flock.
    _lock: File,
    committed: bool,
}

impl Workspace {
    pub(super) fn open(target: &Path) -> Result<Workspace> {
        let parent = crate::output::parent_dir(target);
        let name = file_name(target);
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
        if target.exists() {
            check_replaceable(target)?;
        }
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("cannot create", &lock_path, e))?;
        match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(Error::Busy {
                    dir: target.to_path_buf(),
                    lock: lock_path,
                });
            }
            Err(e) => return Err(Error::io("cannot lock", &lock_path, e.into())),
        }
        // Leftovers of runs that died (we hold the lock: none of them is running).
        let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
        let entries = std::fs::read_dir(&parent).map_err(|e| Error::io("cannot list", &parent, e))?;
        for entry in entries.flatten() {
            let entry_name = entry.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|p| entry_name.starts_with(p.as_str())) {
                log::warn!("removing {}, left by an interrupted run", entry.path().display());
                std::fs::remove_dir_all(entry.path())
                    .map_err(|e| Error::io("cannot remove", entry.path(), e))?;
            }
        }
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        std::fs::create_dir(&temp).map_err(|e| Error::io("cannot create", &temp, e))?;
        Ok(Workspace {
            target: target.to_path_buf(),
            temp,
            _lock: lock,
            committed: false,
        })
    }

    pub(super) fn temp(&self) -> &Path {
        &self.temp
    }

    /// Swaps the temporary directory into place and removes the previous run.
    pub(super) fn commit(mut self) -> Result<()> {
        sync_dir(&self.temp)?;
        if self.target.exists() {
            check_replaceable(&self.target)?;
            if !exchange(&self.temp, &self.target)? {
                // No atomic exchange here: move the old run aside, then the new one in.
                let old = self.temp.with_file_name(format!(
                    ".{}.old-{}",
                    file_name(&self.target),
                    std::process::id()
                ));
                std::fs::rename(&self.target, &old)
                    .map_err(|e| Error::io("cannot move aside", &self.target, e))?;
                std::fs::rename(&self.temp, &self.target)
                    .map_err(|e| Error::io("cannot rename into", &self.target, e))?;
                std::fs::rename(&old, &self.temp).map_err(|e| Error::io("cannot rename", &old, e))?;
            }
            // `temp` now holds the previous run.
            std::fs::remove_dir_all(&self.temp).map_err(|e| Error::io("cannot remove", &self.temp, e))?;
        } else {
            std::fs::rename(&self.temp, &self.target)
                .map_err(|e| Error::io("cannot rename into", &self.target, e))?;
        }
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}

/// A run replaces its output directory as a whole: an input inside it would be lost.
pub(super) fn check_inputs_outside(inputs: &[PathBuf], out: &Path) -> Result<()> {
    let Ok(out_dir) = std::fs::canonicalize(out) else {
        return Ok(()); // not there yet: holds no input
    };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&out_dir)) {
            return Err(Error::SameFile {
                output: out.to_path_buf(),
                output_role: "the run's output directory, replaced as a whole".into(),
                other: input.clone(),
                other_role: "input".into(),
            });
        }
    }
    Ok(())
}

/// An existing output directory is replaced as a whole, so it must be an earlier run (or
/// empty): never a directory of the user's own files.
fn check_replaceable(target: &Path) -> Result<()> {
    let not_a_run = |detail: &str| Error::UnsupportedInput {
        source_name: target.display().to_string(),
        detail: detail.to_string(),
    };
    if !target.is_dir() {
        return Err(not_a_run(
            "exists and is not a directory: a run's output must be a directory",
        ));
    }
    let empty = std::fs::read_dir(target)
        .map_err(|e| Error::io("cannot list", target, e))?
        .next()
        .is_none();
    if empty || target.join(MANIFEST).is_file() {
        Ok(())
    } else {
        Err(not_a_run(
            "exists but is not a clientele run (no manifest.json): a run replaces its output directory \
             as a whole, so choose a new or empty directory",
        ))
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // File systems without RENAME_EXCHANGE.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => Ok(false),
        Err(e) => Err(Error::io("cannot swap into", b, e.into())),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> Result<bool> {
    Ok(false)
}

fn sync_dir(dir: &Path) -> Result<()> {
    let handle = File::open(dir).map_err(|e| Error::io("cannot open", dir, e))?;
    // Some file systems refuse fsync on directories; the data files are synced already.
    let _ = handle.sync_all();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_swaps_and_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("latest");
        let ws = Workspace::open(&out).unwrap();
        std::fs::write(ws.temp().join(MANIFEST), "1").unwrap();
        ws.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), "1");

        // A second run replaces the first; an abandoned run changes nothing.
        let ws = Workspace::open(&out).unwrap();
        std::fs::write(ws.temp().join(MANIFEST), "2").unwrap();
        let busy = Workspace::open(&out).unwrap_err();
        assert!(matches!(busy, Error::Busy { .. }), "{busy}");
        ws.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), "2");
        let ws = Workspace::open(&out).unwrap();
        std::fs::write(ws.temp().join(MANIFEST), "3").unwrap();
        drop(ws);
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), "2");
        let mut names: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".latest.lock", "latest"]);
    }

    #[test]
    fn user_directories_are_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("thesis.docx"), "precious").unwrap();
        let err = Workspace::open(root.path()).unwrap_err();
        assert!(err.to_string().contains("not a clientele run"), "{err}");
        assert!(root.path().join("thesis.docx").exists());
    }
}
