//! Extracts the Rust example of the workspace README's "mock-idp in a Rust test" section into
//! `$OUT_DIR/readme_example.md`, which `lib.rs` compiles as a doctest.
//!
//! The example is a `#[tokio::test]` function; test functions are compiled only under
//! `--test`, which a doctest is not, so the attribute is dropped and the function kept: it
//! is type-checked (never run). A README without the section, or without its example,
//! yields a doctest that fails and says so, rather than a build that does.

use std::path::Path;

const SECTION: &str = "## mock-idp in a Rust test";

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let readme = Path::new(&manifest).join("../README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let code = std::fs::read_to_string(&readme)
        .ok()
        .and_then(|text| example(&text))
        .unwrap_or_else(|| format!("compile_error!(\"README.md has no Rust example under `{SECTION}`\");\n"));
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let doc = format!("```rust,no_run\n{code}```\n");
    std::fs::write(Path::new(&out).join("readme_example.md"), doc).expect("OUT_DIR is writable");
}

/// The first ```` ```rust ```` block of the section, without `#[tokio::test]` lines.
fn example(readme: &str) -> Option<String> {
    let section = readme.split(SECTION).nth(1)?;
    let section = section.split("\n## ").next()?;
    let block = section.split("```rust\n").nth(1)?.split("\n```").next()?;
    Some(
        block
            .lines()
            .filter(|line| line.trim() != "#[tokio::test]")
            .map(|line| format!("{line}\n"))
            .collect(),
    )
}
