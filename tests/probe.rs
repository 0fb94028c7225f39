//! `pgstrace probe` as far as it goes (issue 8 in progress): `-x BINARY --funcs` on a
//! stripped fixture and on Debian's postgres, and spec checks with one-line refusals.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");
const POSTGRES: &str = "/usr/lib/postgresql/15/bin/postgres";

fn probe(args: &[&str]) -> Output {
    Command::new(PGSTRACE)
        .arg("probe")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("pgstrace: {e}"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// One stderr line, a non-zero exit, no panic.
fn refused(o: &Output, want: &str) {
    let (_, err) = text(o);
    assert!(!o.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(want), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn stripped_fixture(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kstack.c");
    let out = dir.join("kstack-stripped");
    let ok = Command::new("gcc")
        .args(["-O2", "-rdynamic", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("strip")
            .arg("--strip-all")
            .arg(&out)
            .status()
            .is_ok_and(|s| s.success());
    assert!(ok, "building the stripped fixture");
    out
}

#[test]
fn funcs_lists_named_and_with_all_unnamed_functions() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = stripped_fixture(dir.path());
    let b = bin.to_string_lossy();
    let o = probe(&["-x", &b, "--funcs"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.lines().any(|l| l.starts_with("exported_outer ")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("main ")), "{out}");
    // Static functions have no symbol in a stripped binary: listed only with --all, unnamed.
    assert!(
        !out.contains("static_leaf") && !out.contains("(unnamed)"),
        "{out}"
    );
    let (all, _) = text(&probe(&["-x", &b, "--funcs", "--all"]));
    assert!(all.lines().any(|l| l.starts_with("(unnamed) ")), "{all}");
    let (one, _) = text(&probe(&["-x", &b, "--funcs", "exported_*"]));
    assert_eq!(one.lines().count(), 1, "{one}");
}

#[test]
fn funcs_on_postgres_marks_the_refused_functions() {
    if !Path::new(POSTGRES).exists() {
        assert!(
            std::env::var_os("PGSTRACE_REQUIRE_PG").is_none(),
            "{POSTGRES} missing"
        );
        return;
    }
    let (out, err) = text(&probe(&["-x", POSTGRES, "--funcs", "dsm_*"]));
    assert!(
        out.lines().any(|l| l.starts_with("dsm_create ")),
        "{out}{err}"
    );
    let (xlog, _) = text(&probe(&["-x", POSTGRES, "--funcs", "XLogInsertRecord"]));
    assert!(xlog.contains("refused without --force"), "{xlog}");
}

#[test]
fn bad_input_is_one_line() {
    refused(
        &probe(&["-x", "/nonexistent/bin", "--funcs"]),
        "/nonexistent/bin",
    );
    refused(
        &probe(&["-x", POSTGRES, "--funcs", "no_such_*"]),
        "no function",
    );
    refused(&probe(&["--funcs"]), "needs -x BINARY");
    refused(&probe(&["-p", "1", "f $arg9"]), "$arg1..$arg6");
    refused(&probe(&["-p", "1", "XLogInsertRecord"]), "WAL");
    refused(&probe(&["-p", "x", "f"]), "invalid process id");
}
