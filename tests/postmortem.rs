//! `pgstrace postmortem` on logs a real PostgreSQL 15 wrote in the failing scenarios
//! (fixtures/logs/*: made by fixtures/logs/generate.sh, two `log_line_prefix` values, all
//! three formats), their compressed and rotated forms, crafted edge cases, and bad input.
//! The kept reports (`expected.txt`) are compared exactly; `PGSTRACE_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");

fn logs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/logs")
}

fn postmortem(args: &[&str]) -> Output {
    Command::new(PGSTRACE)
        .arg("postmortem")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("pgstrace: {e}"))
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "--shm-size", "32m"];
    all.extend_from_slice(args);
    let o = postmortem(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// (kind, pids, leader) of each failure.
fn summary(v: &serde_json::Value) -> Vec<(String, Vec<u64>, Option<u64>)> {
    v["failures"]
        .as_array()
        .unwrap_or_else(|| panic!("no failures: {v}"))
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default().to_string(),
                f["pids"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|p| p.as_u64()).collect())
                    .unwrap_or_default(),
                f["leader_pid"].as_u64(),
            )
        })
        .collect()
}

const KINDS: [&str; 6] = [
    "dsa_growth",
    "dsa_growth",
    "session_segment",
    "main_segment",
    "parallel_vacuum",
    "dsa_large_allocation",
];

#[test]
fn every_format_and_prefix_gives_the_same_failures() {
    for dir in ["prefix-m", "prefix-t"] {
        let mut seen = Vec::new();
        for file in ["stderr.log", "csvlog.csv", "jsonlog.json"] {
            let p = logs().join(dir).join(file);
            let v = json(&[p.to_str().unwrap_or_default()]);
            let s = summary(&v);
            let kinds: Vec<&str> = s.iter().map(|f| f.0.as_str()).collect();
            assert_eq!(kinds, KINDS, "{dir}/{file}: {v:#}");
            // The worker's failure its leader relayed is one failure with both pids.
            assert_eq!(s[0].1.len(), 2, "{dir}/{file}: {:?}", s[0]);
            assert_eq!(s[0].2, Some(s[0].1[1]), "{dir}/{file}: the leader relays");
            // The second worker's own failure: the same leader.
            assert_eq!(s[1].2, s[0].2, "{dir}/{file}");
            let f = &v["failures"][0];
            assert_eq!(f["size"], 8_388_608);
            assert_eq!(
                f["statement"],
                "SET parallel_leader_participation = off; SELECT count(*) FROM a JOIN b USING (id);"
            );
            assert_eq!(v["failures"][2]["size"], 196_736);
            assert_eq!(v["failures"][4]["statement"], "VACUUM (PARALLEL 2) v;");
            // A statement over two lines is whole in every format.
            let st = v["failures"][5]["statement"].as_str().unwrap_or_default();
            assert!(
                st.contains("max_parallel_workers_per_gather = 2;") && st.contains("FROM c JOIN d"),
                "{dir}/{file}: {st:?}"
            );
            assert_eq!(v["by_statement"].as_array().map(Vec::len), Some(5));
            assert_eq!(v["verdict"]["level"], "will fail");
            assert!(
                v["remedies"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|x| x["action"] == "resize_shm"
                        && x["how"]["docker"]
                            .as_str()
                            .is_some_and(|d| d.contains("--shm-size=")))),
                "{v:#}"
            );
            seen.push(s);
        }
        // csv and json name the leader of the large allocation; stderr from the workers
        // that could not map its segment (prefix-m) or not at all (prefix-t).
        assert_eq!(seen[1], seen[2], "{dir}: csvlog and jsonlog agree");
    }
}

#[test]
fn the_kept_reports_match() {
    for dir in ["prefix-m", "prefix-t"] {
        let d = logs().join(dir);
        let o = postmortem(&[
            "--shm-size",
            "32m",
            d.join("stderr.log").to_str().unwrap_or_default(),
        ]);
        assert!(o.status.success());
        let text =
            String::from_utf8_lossy(&o.stdout).replace(&logs().display().to_string(), "LOGS");
        let expected = d.join("expected.txt");
        if std::env::var_os("PGSTRACE_BLESS").is_some() {
            std::fs::write(&expected, &text).unwrap_or_else(|e| panic!("{e}"));
        }
        let want = std::fs::read_to_string(&expected)
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
        assert_eq!(
            text, want,
            "{dir}: the report changed (PGSTRACE_BLESS=1 to accept)"
        );
    }
}

fn compressed(tool: &str, src: &Path, dst: &Path) {
    let out = std::fs::File::create(dst).unwrap_or_else(|e| panic!("{e}"));
    let ok = Command::new(tool)
        .args(["-c"])
        .arg(src)
        .stdout(out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{tool} (run bash .ci/setup)");
}

#[test]
fn compressed_rotated_stdin_and_directories() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let src = logs().join("prefix-m/stderr.log");
    let plain = summary(&json(&[src.to_str().unwrap_or_default()]));
    for (tool, ext) in [("gzip", "gz"), ("zstd", "zst"), ("xz", "xz")] {
        let dst = tmp.path().join(format!("stderr.log.{ext}"));
        compressed(tool, &src, &dst);
        let v = json(&[dst.to_str().unwrap_or_default()]);
        assert_eq!(summary(&v), plain, "{tool}");
        assert_eq!(
            v["inputs"]["files"][0]["compression"],
            match tool {
                "gzip" => "gzip",
                "zstd" => "zstd",
                _ => "xz",
            }
        );
    }
    // Rotated: split in two (at a line that starts a message), given newest first.
    let text = std::fs::read_to_string(&src).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines
        .iter()
        .position(|l| l.contains("196736 bytes"))
        .unwrap_or(lines.len() / 2);
    let (a, b) = (
        tmp.path().join("postgresql-1.log"),
        tmp.path().join("postgresql-2.log"),
    );
    std::fs::write(&a, lines[..cut].join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&b, lines[cut..].join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
    let v = json(&[
        b.to_str().unwrap_or_default(),
        a.to_str().unwrap_or_default(),
    ]);
    assert_eq!(summary(&v), plain, "rotated, given in reverse");
    // A folder of logs (every format of one run: each failure once).
    let v = json(&[logs().join("prefix-m").to_str().unwrap_or_default()]);
    assert_eq!(
        summary(&v).iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
        KINDS
    );
    assert_eq!(v["inputs"]["files"].as_array().map(Vec::len), Some(4));
    // stdin.
    let mut child = Command::new(PGSTRACE)
        .args(["postmortem", "--json", "--shm-size", "32m", "-"])
        .stdin(std::fs::File::open(&src).unwrap_or_else(|e| panic!("{e}")))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    use std::io::Read as _;
    child.stdout.take().map(|mut s| s.read_to_string(&mut out));
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(summary(&v), plain, "stdin");
    // --since/--until keep a window.
    let v = json(&[
        "--since",
        "2026-12-02 05:56:43",
        "--until",
        "2026-12-02 05:56:44",
        src.to_str().unwrap_or_default(),
    ]);
    let kinds: Vec<String> = summary(&v).into_iter().map(|f| f.0).collect();
    assert_eq!(kinds, ["session_segment", "main_segment"]);
    // A given prefix reads the same.
    let v = json(&[
        "--prefix",
        "%m [%p] %q%u@%d ",
        src.to_str().unwrap_or_default(),
    ]);
    assert_eq!(summary(&v), plain, "--prefix");
}

#[test]
fn translated_servers_sigbus_and_garbage() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // German messages with %e in the prefix: known by SQLSTATE 53100 alone.
    let de = tmp.path().join("de.log");
    std::fs::write(
        &de,
        "2026-12-02 05:56:56 UTC [28674]: [1-1] user=postgres,db=postgres,app=psql,client=[local],e=53100 FEHLER:  konnte Größe des Shared-Memory-Segments »/PostgreSQL.1293435626« nicht auf 196736 Bytes ändern: Auf dem Gerät ist kein Speicherplatz mehr verfügbar\n\
2026-12-02 05:56:56 UTC [28674]: [2-1] user=postgres,db=postgres,app=psql,client=[local],e=53100 ANWEISUNG:  SELECT count(*) FROM s1 JOIN s2 USING (id);\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v = json(&[de.to_str().unwrap_or_default()]);
    assert_eq!(v["failures"][0]["kind"], "session_segment", "{v:#}");
    assert_eq!(
        v["failures"][0]["statement"],
        "SELECT count(*) FROM s1 JOIN s2 USING (id);"
    );

    // The old signature: a backend killed by SIGBUS, then a crash-restart.
    let bus = tmp.path().join("bus.log");
    std::fs::write(
        &bus,
        "2017-05-01 10:00:00.000 UTC [100] LOG:  server process (PID 4242) was terminated by signal 7: Bus error\n\
2017-05-01 10:00:00.001 UTC [100] DETAIL:  Failed process was running: SELECT count(*) FROM big;\n\
2017-05-01 10:00:00.002 UTC [100] LOG:  terminating any other active server processes\n\
2017-05-01 10:00:00.100 UTC [100] LOG:  all server processes terminated; reinitializing\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v = json(&[bus.to_str().unwrap_or_default()]);
    assert_eq!(v["failures"][0]["op"], "sigbus", "{v:#}");
    assert_eq!(v["failures"][0]["pids"][0], 4242);
    assert_eq!(v["failures"][0]["restarted"], true);

    // Segments that vanished under a running server: systemd-logind's RemoveIPC.
    let gone = tmp.path().join("gone.log");
    std::fs::write(
        &gone,
        "2026-12-02 05:56:56.000 UTC [300] ERROR:  could not open shared memory segment \"/PostgreSQL.1\": No such file or directory\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v = json(&[gone.to_str().unwrap_or_default()]);
    assert_eq!(v["failures"][0]["op"], "open", "{v:#}");
    assert!(
        v["remedies"][0]["setting"]
            .as_str()
            .is_some_and(|s| s.starts_with("RemoveIPC")),
        "{v:#}"
    );

    // Binary garbage and truncated lines: counted, never a panic, exit 0 (it was read).
    let junk = tmp.path().join("junk.log");
    let mut bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    bytes.extend_from_slice(b"\nshared memory segment \xff\xfe 53100\n2026-12-02 05:56:56 UTC [1] ERROR:  could not resize shared memory segment \"/PostgreSQL.1\" to 1");
    std::fs::write(&junk, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let o = postmortem(&["--shm-size", "32m", junk.to_str().unwrap_or_default()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("skipped: "), "{out}");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));

    // Nothing readable: one line, exit 1.
    for args in [
        vec!["/nonexistent/postgresql.log"],
        vec!["--shm-size", "lots", "x.log"],
        vec!["--since", "yesterday", "x.log"],
        vec!["--prefix", "%Z", de.to_str().unwrap_or_default()],
        vec![],
    ] {
        let o = postmortem(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
