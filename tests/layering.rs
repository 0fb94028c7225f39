//! The layering of docs/architecture.md, checked on the source: the low modules name nothing
//! of PostgreSQL (in code: comments may explain why), and the module graph has no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LOW: [&str; 8] = [
    "trace", "syscalls", "remote", "unwind", "symbols", "output", "event", "filter",
];

fn files(p: &Path) -> Vec<PathBuf> {
    if p.is_file() {
        return vec![p.to_path_buf()];
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        out.extend(files(&e.path()));
    }
    out
}

fn module_files(m: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let dir = src.join(m);
    if dir.is_dir() {
        files(&dir)
    } else {
        vec![src.join(format!("{m}.rs"))]
    }
}

/// The code of a file without comments (line comments and doc comments) and without its
/// tests (which may well use a PostgreSQL path as realistic input).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `m` uses (`crate::X`).
fn uses(m: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in module_files(m) {
        let text = code(&std::fs::read_to_string(&f).unwrap_or_default());
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != m && name != "errln" {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn low_modules_name_nothing_of_postgresql() {
    for m in LOW {
        for f in module_files(m) {
            if f.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = code(&std::fs::read_to_string(&f).unwrap_or_default()).to_lowercase();
            for word in ["postgres", "crate::report", "crate::session", "crate::cli"] {
                assert!(
                    !text.contains(word),
                    "{} names {word:?} in code",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn no_module_cycle() {
    let all = [
        "cli", "event", "filter", "output", "postgres", "probe", "remote", "report", "session",
        "symbols", "syscalls", "trace", "unwind", "util",
    ];
    let graph: BTreeMap<&str, BTreeSet<String>> = all.iter().map(|m| (*m, uses(m))).collect();
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<&'a str, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(m) {
            return;
        }
        assert!(!path.contains(&m), "module cycle: {path:?} -> {m}");
        path.push(m);
        for d in graph.get(m).into_iter().flatten() {
            if let Some((k, _)) = graph.get_key_value(d.as_str()) {
                visit(k, graph, path, done);
            }
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in all {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}
