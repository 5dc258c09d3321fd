//! No import cycles between the modules of any crate of the workspace: the layering
//! ARCHITECTURE.md draws for each crate holds, and stays.
//!
//! For every crate (`mock-idp`, `reference-impl`, `harness`), each source file is read (with
//! comments, strings and `#[cfg(test)]` modules left out) for the paths it names: `crate::x`,
//! `crate::{x, y::z}`, `super::x`. Modules that share a parent are nodes; a file under
//! sibling `a` naming sibling `b` is an edge `a → b`. Every set of siblings must form a graph
//! without cycles — the top-level modules of a crate, and the children of each module
//! directory (`http/`, `personality/`, `steps/`…). A child naming its parent (`super::Trait`)
//! is not an edge between siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gatecheck::profile::workspace_root;

/// The text of a Rust file without comments, string and char literals, and without the
/// `#[cfg(test)] mod … { … }` blocks (tests may reach anywhere).
fn code_of(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'r' && (b.get(i + 1) == Some(&b'#') || b.get(i + 1) == Some(&b'"')) {
            // A raw string: r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i] as char);
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            // An escaped char literal ('\n', '\'', '\u{…}'): up to the next quote after
            // the escaped character.
            let mut j = i + 3;
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            i = j + 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    strip_test_modules(&out)
}

fn strip_test_modules(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else {
            rest = "";
            break;
        };
        // Only a module (or an item with a body) is skipped, up to its matching brace.
        let mut depth = 0;
        let mut end = after.len();
        for (k, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The identifiers named right after `prefix` (`crate::`, `super::`), expanding one level of
/// `{a, b::c}` groups.
fn named_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before_ok = at == 0 || {
            let c = rest.as_bytes()[at - 1];
            !(c.is_ascii_alphanumeric() || c == b'_' || c == b':')
        };
        let after = &rest[at + prefix.len()..];
        if before_ok {
            if let Some(group) = after.strip_prefix('{') {
                let mut depth = 0;
                let mut item = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.insert(ident(item.trim()));
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 0 || c != '{' {
                        item.push(c);
                    }
                }
                out.insert(ident(item.trim()));
            } else {
                out.insert(ident(after));
            }
        }
        rest = &rest[at + prefix.len()..];
    }
    out.retain(|s| !s.is_empty() && s != "self" && s != "super" && s != "crate");
    out
}

/// The module path of a source file (`http/authorize.rs` → `[http, authorize]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        parts.clear();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("a source directory").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Edges between siblings, by parent: `parent → (a → {b})`.
type Siblings = BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>>;

fn sibling_graphs(src: &Path) -> Siblings {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    // Binaries (`src/bin/…`, `main.rs`) are roots of their own, not modules of the library.
    files.retain(|f| !f.strip_prefix(src).is_ok_and(|r| r.starts_with("bin")));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(src, f)).collect();
    let mut graphs: Siblings = BTreeMap::new();
    for m in &modules {
        if let Some((last, parent)) = m.split_last() {
            graphs
                .entry(parent.to_vec())
                .or_default()
                .entry(last.clone())
                .or_default();
        }
    }
    for f in &files {
        let here = module_path(src, f);
        if here.is_empty() {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(f).expect("readable"));
        // Absolute paths: crate::a → the top-level module a; with the file's ancestors,
        // crate::p::b where p is an ancestor of the file.
        let mut targets: Vec<Vec<String>> = named_after(&code, "crate::")
            .into_iter()
            .map(|n| vec![n])
            .collect();
        for depth in 1..here.len() {
            let prefix = format!("crate::{}::", here[..depth].join("::"));
            targets.extend(named_after(&code, &prefix).into_iter().map(|n| {
                let mut t = here[..depth].to_vec();
                t.push(n);
                t
            }));
        }
        // super::b from a file of module p::a (a file `p/a.rs` or `p/a/mod.rs`) is p::b.
        let parent = &here[..here.len() - 1];
        targets.extend(named_after(&code, "super::").into_iter().map(|n| {
            let mut t = parent.to_vec();
            t.push(n);
            t
        }));
        for t in targets {
            if !modules.contains(&t) {
                continue;
            }
            // The first level where `here` and `t` part ways: the siblings there.
            let common = here.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common >= here.len() || common >= t.len() {
                continue; // a parent or a child of `here`
            }
            graphs
                .entry(here[..common].to_vec())
                .or_default()
                .entry(here[common].clone())
                .or_default()
                .insert(t[common].clone());
        }
    }
    graphs
}

/// The cycles (strongly connected components of two or more) of a graph.
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan, iteratively small enough to write recursively here.
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let root = workspace_root();
    let mut found = Vec::new();
    for krate in ["mock-idp", "reference-impl", "harness"] {
        for (parent, graph) in sibling_graphs(&root.join(krate).join("src")) {
            for cycle in cycles(&graph) {
                let edges: Vec<String> = cycle
                    .iter()
                    .flat_map(|a| {
                        graph[a]
                            .iter()
                            .filter(|b| cycle.contains(b))
                            .map(move |b| format!("{a} → {b}"))
                    })
                    .collect();
                let at = if parent.is_empty() {
                    "src/".to_owned()
                } else {
                    format!("src/{}/", parent.join("/"))
                };
                found.push(format!(
                    "{krate} {at}: {} ({})",
                    cycle.join(", "),
                    edges.join(", ")
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other (move the shared part down a layer; ARCHITECTURE.md shows each crate's layering):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_checker_finds_a_cycle_and_reads_paths_as_rust_does() {
    let mut g = BTreeMap::new();
    g.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    g.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    g.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    g.insert("d".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(cycles(&g), [["a", "b", "c"]]);
    let code = code_of(
        "use crate::{alpha, beta::X};\n// crate::comment\nlet s = \"crate::string\";\nfn f() { crate::gamma::g(); super::delta::d(); }\n#[cfg(test)]\nmod tests { use crate::tested; }\n",
    );
    assert_eq!(
        named_after(&code, "crate::"),
        BTreeSet::from(["alpha".to_owned(), "beta".to_owned(), "gamma".to_owned()])
    );
    assert_eq!(
        named_after(&code, "super::"),
        BTreeSet::from(["delta".to_owned()])
    );
}
