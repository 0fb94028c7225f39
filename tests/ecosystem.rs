//! What packages and shells see: `--version` with the commit, man pages and completions
//! generated from the clap definitions, `--color` and `TERM=dumb` on a terminal.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::pgstrace_bin;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(pgstrace_bin())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn version_names_the_commit() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(h) => assert!(out.contains(&format!("(commit {h})")), "{out} vs {h}"),
        None => assert!(out.contains("(commit unknown)"), "{out}"),
    }
    let (_, sub, _) = run(&["doctor", "--version"]);
    assert_eq!(
        sub.trim().strip_prefix("pgstrace doctor "),
        out.trim().strip_prefix("pgstrace ")
    );
}

#[test]
fn man_pages_for_every_command() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path().join("man1");
    let (code, out, err) = run(&["man", &d.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    for name in [
        "pgstrace",
        "pgstrace-ps",
        "pgstrace-explain-shm",
        "pgstrace-probe",
        "pgstrace-postmortem",
        "pgstrace-doctor",
    ] {
        let page = std::fs::read_to_string(d.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e} ({out})"));
        assert!(
            page.starts_with(".ie") || page.contains(".TH"),
            "{name}: {page}"
        );
        assert!(page.contains(&name.to_uppercase()), "{name}");
    }
    let main = std::fs::read_to_string(d.join("pgstrace.1")).unwrap_or_default();
    assert!(
        main.contains("stack\\-trace") || main.contains("stack-trace"),
        "{main}"
    );
    assert!(!d.join("pgstrace-help.1").exists());
}

#[test]
fn completions_for_three_shells() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["doctor", "explain-shm", "postmortem", "follow-forks"] {
            assert!(out.contains(word), "{shell} lacks {word}");
        }
        if shell == "bash" {
            let f = dir.path().join("c.bash");
            std::fs::write(&f, &out).unwrap_or_else(|e| panic!("{e}"));
            let ok = Command::new("bash")
                .arg("-n")
                .arg(&f)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "bash -n rejects the script");
        }
    }
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 1);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("unknown shell"), "{err}");
}

/// On a terminal (script(1) gives one): colour by default, none with --color=never, none
/// with TERM=dumb, none with NO_COLOR.
#[test]
fn colour_on_a_terminal_only_when_wanted() {
    let bin = pgstrace_bin();
    let on_tty = |prefix: &str, flags: &str| -> String {
        let cmd = format!(
            "{prefix} {} {flags} -e trace=openat /bin/true",
            bin.display()
        );
        let o = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap_or_else(|e| panic!("script: {e}"));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let plain = on_tty("env TERM=xterm", "");
    assert!(plain.contains("openat"), "{plain}");
    assert!(plain.contains('\x1b'), "no colour on a terminal: {plain:?}");
    for (prefix, flags) in [
        ("env TERM=xterm", "--color=never"),
        ("env TERM=dumb", ""),
        ("env TERM=xterm NO_COLOR=1", ""),
    ] {
        let out = on_tty(prefix, flags);
        assert!(out.contains("openat"), "{out}");
        assert!(!out.contains('\x1b'), "{prefix} {flags}: {out:?}");
    }
    let (code, _, err) = run(&["--color=sometimes", "/bin/true"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid --color"), "{err}");
}

/// The static build (README's command) runs in a root that holds nothing but itself and a
/// /proc, and traces a process there (itself, re-executed).
#[test]
fn static_binary_runs_in_an_empty_root() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(cargo)
        .current_dir(repo)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--target-dir",
            "target/static",
        ])
        .status()
        .unwrap_or_else(|e| panic!("cargo: {e}"));
    assert!(st.success(), "the static build failed");
    let bin = repo.join("target/static/x86_64-unknown-linux-gnu/release/pgstrace");
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(root.path().join("proc")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(root.path().join("bin")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(&bin, root.path().join("bin/pgstrace")).unwrap_or_else(|e| panic!("{e}"));
    let r = root.path().display().to_string();
    let script = format!(
        "mount -t proc proc {r}/proc && chroot {r} /bin/pgstrace -e trace=getppid /bin/pgstrace __timecalls count 1"
    );
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("unshare: {e}"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.matches("getppid()").count(), 2, "{err}");
    assert!(err.contains("+++ exited with 0 +++"), "{err}");
    // Nothing else was in the root: no libc for it to have used.
    let names: Vec<_> = std::fs::read_dir(root.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
