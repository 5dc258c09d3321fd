//! Where the workspace's committed inputs are: `features/`, `fixtures/` (profiles,
//! corpora, expected results), `docs/`. Only this repository's own tests and the profile
//! lookup read the checkout; a run reads the files embedded in the binary ([`crate::bundle`]).

use std::path::{Path, PathBuf};

/// The workspace root (where `features/` and `fixtures/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}

/// Where `--gateway NAME` finds `NAME.toml`: the checkout's `fixtures/gateways/` while the
/// checkout this binary was built from exists (the Node.js gateways' installed dependencies
/// are there), else the copy embedded in the binary ([`crate::bundle`]).
pub fn profiles_dir() -> PathBuf {
    let checkout = workspace_root().join("fixtures/gateways");
    if checkout.is_dir() {
        return checkout;
    }
    crate::bundle::profiles().unwrap_or(checkout)
}
