//! Helpers shared by the integration tests that run `ref-gateway` as a process.

use gatecheck::profile::workspace_root;

/// Builds `ref-gateway`, so the binary a command profile starts matches the sources this test
/// was built from.
pub fn build_ref_gateway() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = std::process::Command::new(cargo)
        .args(["build", "-q", "-p", "reference-impl", "--bin", "ref-gateway"])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(built.success(), "building ref-gateway");
}
