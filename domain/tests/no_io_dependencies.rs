//! The domain must stay pure: no web framework, database, broker, cache, HTTP or mail client
//! may reach it, not even transitively.

use std::process::Command;

/// Crates that would mean the domain can do I/O.
const FORBIDDEN: &[&str] = &[
    "axum",
    "sqlx",
    "postgres-es",
    "lapin",
    "mongodb",
    "redis",
    "tokio",
    "reqwest",
    "lettre",
];

/// Runs `cargo tree -p domain -e normal --prefix none` plus `extra` and returns its stdout.
fn cargo_tree(extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", "domain", "-e", "normal", "--prefix", "none"])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree should start");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("cargo tree prints UTF-8")
}

/// The crate names in `cargo tree --prefix none` output: the first word of each line.
fn crate_names(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

#[test]
fn the_domain_depends_on_no_io_crate() {
    let tree = cargo_tree(&[]);
    let names = crate_names(&tree);
    assert!(
        names.contains(&"domain"),
        "unexpected cargo tree output:\n{tree}"
    );
    // cqrs-es 0.5 itself depends on tokio (sync, rt, macros) for its event sink and test
    // framework, so tokio is checked separately below: it may come only through cqrs-es.
    let found: Vec<_> = FORBIDDEN
        .iter()
        .filter(|name| **name != "tokio" && names.contains(name))
        .collect();
    assert!(
        found.is_empty(),
        "I/O crates in the domain's dependencies: {found:?}\n{tree}"
    );
}

#[test]
fn the_domain_does_not_depend_on_tokio_itself() {
    let tree = cargo_tree(&["--depth", "1"]);
    let direct: Vec<_> = crate_names(&tree).into_iter().skip(1).collect();
    assert!(!direct.is_empty(), "unexpected cargo tree output:\n{tree}");
    assert!(
        !direct.contains(&"tokio"),
        "tokio is a direct dependency of domain:\n{tree}"
    );
}

#[test]
fn tokio_reaches_the_domain_without_any_io_feature() {
    if !crate_names(&cargo_tree(&[])).contains(&"tokio") {
        return; // cqrs-es dropped tokio: nothing left to check.
    }
    let tree = cargo_tree(&["-e", "features", "-i", "tokio"]);
    assert!(
        tree.contains("tokio"),
        "unexpected cargo tree output:\n{tree}"
    );
    for feature in [
        "net", "fs", "io-util", "io-std", "process", "signal", "time", "full",
    ] {
        let marker = format!("tokio feature \"{feature}\"");
        assert!(
            !tree.contains(&marker),
            "tokio's {feature:?} feature is enabled for the domain:\n{tree}"
        );
    }
}
