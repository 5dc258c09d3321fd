//! The suite's own files, embedded in the binary at build time (see `build.rs`): the
//! scenarios (`features/`), the security corpora and coverage map (`fixtures/security/`), and
//! the gateway profiles with the support files of the published third-party gateways
//! (`fixtures/gateways/`). An installed `gatecheck` therefore needs no checkout.
//!
//! cucumber and gateway processes read files, so the bundle is written out once per content
//! to a per-user cache directory (`$XDG_CACHE_HOME` or `~/.cache`, else the temporary
//! directory) as `gatecheck-<version>-<hash>/`, checked on every use and rewritten when a file
//! differs. A team's own scenarios are laid over the embedded ones with [`features_with`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/bundle.rs"));

/// The embedded files: (path from the workspace root, contents).
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    FILES
}

/// The directory the bundle is written to (written and checked at the first call).
pub fn dir() -> Result<&'static Path, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| write_out(&cache_base()))
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

/// The embedded features directory.
pub fn features() -> Result<PathBuf, String> {
    Ok(dir()?.join("features"))
}

/// The embedded gateway profiles (`fixtures/gateways/`).
pub fn profiles() -> Result<PathBuf, String> {
    Ok(dir()?.join("fixtures/gateways"))
}

/// A features directory for one run: the embedded scenarios with each of `own` laid over
/// them in order — a `.feature` file at the same path relative to its directory replaces the
/// embedded one, any other is added. Without `own`, the embedded directory itself.
pub fn features_with(own: &[PathBuf], scratch: &Path) -> Result<PathBuf, String> {
    if own.is_empty() {
        return features();
    }
    let merged = scratch.join("features");
    copy_tree(&features()?, &merged)?;
    for dir in own {
        if !dir.is_dir() {
            return Err(format!(
                "--features {}: not a directory (give a folder of .feature files)",
                dir.display()
            ));
        }
        if feature_files(dir).is_empty() {
            return Err(format!("--features {}: holds no .feature file", dir.display()));
        }
        copy_tree(dir, &merged)?;
    }
    Ok(merged)
}

/// The `.feature` files under `dir`, at any depth, sorted.
pub fn feature_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(feature_files(&p));
            } else if p.extension().is_some_and(|x| x == "feature") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Copies the `.feature` files under `from` to the same relative paths under `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for e in std::fs::read_dir(from)
        .map_err(|e| format!("{}: {e}", from.display()))?
        .flatten()
    {
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()))?;
        } else if p.extension().is_some_and(|x| x == "feature") {
            std::fs::copy(&p, to.join(e.file_name()))
                .map_err(|err| format!("copying {}: {err}", p.display()))?;
        }
    }
    Ok(())
}

fn cache_base() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
}

fn content_hash() -> u64 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, bytes) in FILES {
        for b in path.bytes().chain([0]).chain(bytes.iter().copied()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Writes the bundle under `base` unless an identical copy is there; returns its directory.
fn write_out(base: &Path) -> Result<PathBuf, String> {
    let dir = base.join(format!(
        "gatecheck-{}-{:016x}",
        env!("CARGO_PKG_VERSION"),
        content_hash()
    ));
    if FILES
        .iter()
        .all(|(rel, bytes)| std::fs::read(dir.join(rel)).is_ok_and(|on_disk| on_disk == *bytes))
    {
        return Ok(dir);
    }
    // Written beside it, then renamed into place: a concurrent run sees all or nothing.
    let tmp = base.join(format!(
        ".gatecheck-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let fail = |what: &Path, e: std::io::Error| {
        format!(
            "cannot write gatecheck's scenarios to {}: {e} (set XDG_CACHE_HOME to a writable folder)",
            what.display()
        )
    };
    for (rel, bytes) in FILES {
        let path = tmp.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| fail(&path, e))?;
    }
    if dir.exists() {
        // A damaged or partial copy (an identical one returned above).
        let _ = std::fs::remove_dir_all(&dir);
    }
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        Err(_) if dir.is_dir() => {
            // Another run put its copy in place first.
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(fail(&dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_the_suite_and_leaves_node_modules_out() {
        let paths: Vec<&str> = FILES.iter().map(|(p, _)| *p).collect();
        assert!(paths.contains(&"features/login.feature"));
        assert!(paths.contains(&"fixtures/security/coverage.toml"));
        assert!(paths.contains(&"fixtures/gateways/reference-process.toml"));
        assert!(paths.contains(&"fixtures/gateways/authjs/server.js"));
        assert!(paths.contains(&"fixtures/gateways/authjs/package-lock.json"));
        assert!(
            !paths
                .iter()
                .any(|p| p.contains("node_modules") || p.contains("/expected/"))
        );
    }

    #[test]
    fn written_out_once_and_repaired_when_damaged() {
        let base = tempfile::tempdir().unwrap();
        let dir = write_out(base.path()).unwrap();
        let login = dir.join("features/login.feature");
        assert!(std::fs::read_to_string(&login).unwrap().contains("Feature:"));
        std::fs::write(&login, "damaged").unwrap();
        let again = write_out(base.path()).unwrap();
        assert_eq!(again, dir);
        assert!(std::fs::read_to_string(&login).unwrap().contains("Feature:"));
    }

    #[test]
    fn own_features_replace_by_name_and_add_the_rest() {
        let own = tempfile::tempdir().unwrap();
        std::fs::write(own.path().join("login.feature"), "Feature: ours\n").unwrap();
        std::fs::write(own.path().join("extra.feature"), "Feature: extra\n").unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let merged = features_with(&[own.path().to_path_buf()], scratch.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(merged.join("login.feature")).unwrap(),
            "Feature: ours\n"
        );
        assert!(merged.join("extra.feature").is_file());
        assert!(merged.join("denial.feature").is_file());
        let empty = tempfile::tempdir().unwrap();
        let e = features_with(&[empty.path().to_path_buf()], scratch.path()).unwrap_err();
        assert!(e.contains("holds no .feature file"), "{e}");
    }
}
