//! Third-party gateways against the suite, with their published results: each run must
//! match the committed expected results, every failure must be explained by a finding, and
//! `docs/conformance/<gateway>.md` must be the document these produce. In CI the gateways must
//! be installed (.ci/run installs them); locally a missing one skips with a one-line reason.
//! `GATECHECK_BLESS=1` rewrites the expected results and the documents for review.

use std::sync::Arc;

use gatecheck::conformance;
use gatecheck::profile::{Profile, profiles_dir, workspace_root};
use gatecheck::suite::RunOptions;

async fn check(name: &str) {
    let path = profiles_dir().join(format!("{name}.toml"));
    let (profile, _) = Profile::resolve(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = gatecheck::suite::run(RunOptions {
        profile: Arc::new(profile),
        features: workspace_root().join("features"),
        tags: Some("not @browser".into()),
        name: None,
        report_dir: Some(workspace_root().join(format!("target/gatecheck-report-{name}"))),
        concurrency: 4,
        verbose: false,
        shard: None,
    })
    .await;
    let files = conformance::paths(name);
    let (about, findings) = conformance::findings(name).unwrap_or_else(|e| panic!("{e}"));
    let actual = conformance::expected_of(&outcome.results);
    let doc = conformance::render(name, &about, &outcome.results, &findings);
    if std::env::var_os("GATECHECK_BLESS").is_some() {
        std::fs::write(
            &files.expected,
            serde_json::to_string_pretty(&actual).unwrap() + "\n",
        )
        .unwrap();
        std::fs::write(&files.doc, &doc).unwrap();
        let stale = published_tables(true);
        assert!(stale.is_empty(), "{}", stale.join("\n"));
    }
    let expected: Vec<conformance::Expected> =
        serde_json::from_str(&std::fs::read_to_string(&files.expected).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (create it with GATECHECK_BLESS=1)",
                files.expected.display()
            )
        }))
        .unwrap();
    let diff = conformance::differences(&expected, &actual);
    assert!(
        diff.is_empty(),
        "{name} differs from its expected results (a harness change that flips a third-party result must be a reviewed diff; GATECHECK_BLESS=1 to accept):\n{}",
        diff.join("\n")
    );
    let unexplained = conformance::unexplained(&outcome.results, &findings);
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
    let committed = std::fs::read_to_string(&files.doc).unwrap_or_default();
    assert!(
        committed == doc,
        "{} is stale: regenerate it with GATECHECK_BLESS=1 cargo test -p harness --test third_party",
        files.doc.display()
    );
}

/// The documents whose table of published results is generated, and the path from each to
/// `docs/conformance/`.
const TABLES: [(&str, &str); 2] = [
    ("README.md", "docs/conformance/"),
    ("docs/conformance/README.md", ""),
];

/// Rebuilds the published-results table of each document in `TABLES` from the committed
/// expected results and findings; with `bless`, writes them. Returns the stale ones.
fn published_tables(bless: bool) -> Vec<String> {
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let mut stale = Vec::new();
    for (doc, matrix_dir) in TABLES {
        let path = workspace_root().join(doc);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
        let table = conformance::index_table(matrix_dir).unwrap_or_else(|e| panic!("{e}"));
        let fresh =
            conformance::splice(&text, "published-results", &table).unwrap_or_else(|e| panic!("{doc}: {e}"));
        if fresh != text {
            if bless {
                std::fs::write(&path, fresh).unwrap();
            } else {
                stale.push(format!(
                    "{doc}'s table of published results is stale: regenerate it with GATECHECK_BLESS=1 cargo test -p harness --test third_party"
                ));
            }
        }
    }
    stale
}

/// The tables need no gateway: they come from the committed files, so this runs everywhere.
#[test]
fn the_tables_of_published_results_are_current() {
    let stale = published_tables(std::env::var_os("GATECHECK_BLESS").is_some());
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn mod_auth_openidc_matches_its_published_results() {
    if gatecheck::system::require(
        "apache2",
        "apache2 libapache2-mod-auth-openidc",
        "mod_auth_openidc conformance",
    )
    .is_none()
    {
        return;
    }
    if !std::path::Path::new("/usr/lib/apache2/modules/mod_auth_openidc.so").exists() {
        let reason = "mod_auth_openidc conformance skipped: the module is not installed (apt-get install libapache2-mod-auth-openidc)";
        assert!(
            !gatecheck::system::components_required(),
            "{reason} — CI must install it (.ci/run)"
        );
        eprintln!("{reason}");
        return;
    }
    check("mod_auth_openidc").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn express_openid_connect_matches_its_published_results() {
    if gatecheck::system::node_project(
        "fixtures/gateways/express-openid-connect",
        "express-openid-connect conformance",
    ) {
        check("express-openid-connect").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn authjs_matches_its_published_results() {
    if gatecheck::system::node_project("fixtures/gateways/authjs", "Auth.js conformance") {
        check("authjs").await;
    }
}
