//! CHANGELOG.md names the version the crates carry: bumping a version (for a public API or a
//! wire change) without saying what changed, or the reverse, fails here.

use gatecheck::profile::workspace_root;

fn version_of(crate_dir: &str) -> String {
    let text = std::fs::read_to_string(workspace_root().join(crate_dir).join("Cargo.toml")).unwrap();
    let manifest: toml::Value = toml::from_str(&text).unwrap();
    manifest["package"]["version"].as_str().unwrap().to_owned()
}

#[test]
fn the_changelog_describes_the_version_of_every_crate() {
    let log = std::fs::read_to_string(workspace_root().join("CHANGELOG.md")).unwrap();
    let newest = log
        .lines()
        .find_map(|l| l.strip_prefix("## "))
        .and_then(|l| l.split_whitespace().next())
        .expect("CHANGELOG.md has a `## <version> — <date>` section");
    for dir in ["harness", "mock-idp", "reference-impl"] {
        assert_eq!(
            version_of(dir),
            newest,
            "{dir}/Cargo.toml's version differs from CHANGELOG.md's newest section: bump both together"
        );
    }
}
