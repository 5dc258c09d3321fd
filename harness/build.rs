//! Embeds the suite's files in the `gatecheck` binary, so an installed binary needs no
//! checkout: `features/`, `fixtures/security/` and `fixtures/gateways/` (the profiles and the
//! support files of the published third-party gateways — without their `node_modules/` and
//! without the expected results, which only this repository's tests read).
//!
//! Writes `$OUT_DIR/bundle.rs`: `FILES`, a sorted list of (path relative to the workspace
//! root, contents via `include_bytes!`). `include_bytes!` makes cargo rebuild when a file
//! changes; `rerun-if-changed` on each directory catches files added or removed.
//! (`include_dir` cannot leave `node_modules/` out, hence this file.)

use std::path::{Path, PathBuf};

const ROOTS: &[&str] = &["features", "fixtures/security", "fixtures/gateways"];
const SKIPPED_DIRS: &[&str] = &["node_modules", "expected"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("..");
    let mut files = Vec::new();
    for r in ROOTS {
        walk(&root, &root.join(r), &mut files);
    }
    files.sort();
    let mut out = String::from(
        "/// The embedded files: (path from the workspace root, contents).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        out.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundle.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo::rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("{} is missing: gatecheck embeds it", dir.display());
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(root, &path, files);
            }
        } else {
            let rel = path.strip_prefix(root).expect("under the root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            let abs = path.canonicalize().expect("a readable file");
            files.push((rel, abs));
        }
    }
}
