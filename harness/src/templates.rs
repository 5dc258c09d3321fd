//! Profile templates (minijinja): the environment they render in (with `bin(name)`), and
//! rendering with an error that names the template. Used to check a profile when it is
//! loaded and to start a command-profile gateway.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The minijinja environment for profile templates: `bin(name)` finds a binary next to
/// gatecheck (the cargo target directory) or on `PATH`.
pub fn template_env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_function("bin", |name: String| -> Result<String, minijinja::Error> {
        find_binary(&name).map(|p| p.display().to_string()).ok_or_else(|| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("binary {name:?} not found next to gatecheck or on PATH (build it: cargo build -p <crate>)"),
            )
        })
    });
    env
}

/// A binary next to the running executable (target/debug, also from target/debug/deps) or
/// on `PATH`.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dirs: Vec<PathBuf> = exe.ancestors().skip(1).take(2).map(Path::to_path_buf).collect();
    dirs.push(crate::workspace::workspace_root().join("target/debug"));
    dirs.push(crate::workspace::workspace_root().join("target/release"));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .or_else(|| crate::system::find(name))
}

/// Renders `template` with `ctx`; the error names the template.
pub fn render(env: &minijinja::Environment<'_>, template: &str, ctx: &Value) -> Result<String, String> {
    env.render_str(template, ctx)
        .map_err(|e| format!("template {template:?}: {e:#}"))
}
