//! Where the workspace's committed inputs are: `features/`, `fixtures/` (profiles,
//! corpora, expected results), `docs/`.

use std::path::{Path, PathBuf};

/// The workspace root (where `features/` and `fixtures/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}

/// The gateway profiles (`fixtures/gateways/`).
pub fn profiles_dir() -> PathBuf {
    workspace_root().join("fixtures/gateways")
}
