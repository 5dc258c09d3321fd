//! Real components from system packages (redis-server, chromium, apache2): finding them, and
//! the rule for when one is missing — in CI (`CI` set) that is a failure, locally the test
//! skips with a one-line reason naming the package to install.

use std::path::PathBuf;

/// Finds `binary` on `PATH` (or in the usual sbin directories, where Debian puts daemons).
pub fn find(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
}

/// True where every real component must be present: this repository's CI, which sets
/// `GATECHECK_REQUIRE_COMPONENTS=1` (`.ci/run`). Not `CI`: a team's CI running an installed
/// gatecheck without Chromium gets its browser scenarios reported not applicable, not a panic.
pub fn components_required() -> bool {
    std::env::var_os("GATECHECK_REQUIRE_COMPONENTS")
        .is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `Some(path)` when `binary` is installed. Otherwise: in CI, panics (the component is part
/// of the suite there); locally, prints one line saying what is skipped and which Debian
/// package provides it, and returns `None`.
pub fn require(binary: &str, package: &str, what: &str) -> Option<PathBuf> {
    if let Some(p) = find(binary) {
        return Some(p);
    }
    let reason = format!("{what} skipped: `{binary}` not found (apt-get install {package})");
    assert!(!components_required(), "{reason} — CI must install it (.ci/run)");
    eprintln!("{reason}");
    None
}

/// Whether the Node.js project in `dir` (relative to the workspace root) can run: Node.js, and
/// its dependencies installed by `npm ci`. Otherwise, like [`require`]: a failure where
/// components are required, one line saying what to run elsewhere.
pub fn node_project(dir: &str, what: &str) -> bool {
    if require("node", "nodejs npm", what).is_none() {
        return false;
    }
    if crate::workspace::workspace_root()
        .join(dir)
        .join("node_modules")
        .is_dir()
    {
        return true;
    }
    let reason = format!("{what} skipped: run `npm ci` in {dir}");
    assert!(!components_required(), "{reason} — CI must do it (.ci/run)");
    eprintln!("{reason}");
    false
}
