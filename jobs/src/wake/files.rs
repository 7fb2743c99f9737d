//! The SQLite side of wake-ups: after a push commits, the pusher writes a byte to
//! `<queue file>.wake.<kind>` beside the queue file, and the kernel tells every process
//! watching that folder (inotify on Linux). The queue file itself is not watched: every
//! heartbeat and acknowledgement changes it, and would wake every worker for nothing.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use notify::{EventKind, RecursiveMode, Watcher};

use super::{Signal, index};
use crate::kind::JobKind;

/// A watch on the queue file's folder; dropping it stops the watch.
pub(super) struct Watch {
    _watcher: notify::RecommendedWatcher,
}

impl Watch {
    /// Fires a kind's signal when its wake file beside `file` changes.
    pub(super) fn start(
        file: &Path,
        signals: Arc<[Signal; JobKind::ALL.len()]>,
    ) -> Result<Watch, notify::Error> {
        let prefix = format!("{}.wake.", file_name(file));
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else {
                    return;
                };
                if !matches!(event.kind, EventKind::Modify(_) | EventKind::Create(_)) {
                    return;
                }
                for path in &event.paths {
                    let kind = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_prefix(prefix.as_str()))
                        .and_then(JobKind::parse);
                    if let Some(kind) = kind {
                        signals[index(kind)].fire();
                    }
                }
            })?;
        watcher.watch(&folder(file), RecursiveMode::NonRecursive)?;
        Ok(Watch { _watcher: watcher })
    }
}

/// Announces a push of `kind` to the watchers of `file`'s folder.
pub(crate) fn announce(file: &Path, kind: JobKind) -> std::io::Result<()> {
    use std::io::Write;
    let path = folder(file).join(format!("{}.wake.{}", file_name(file), kind.as_str()));
    // One byte written in place: a change the watchers see, and a file that never grows.
    let mut wake = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    wake.write_all(b"1")
}

fn folder(file: &Path) -> PathBuf {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn file_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
