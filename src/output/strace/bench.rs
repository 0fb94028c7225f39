//! Micro-benchmarks of the text printer (ignored by default).

use super::*;

/// `cargo test --release --bin pgstrace output::strace::bench -- --ignored --nocapture`
#[test]
#[ignore]
fn lines_per_second() {
    let args = vec![
        Value::Fd { fd: 3, path: None },
        Value::Str {
            bytes: b"hello world this is a long strin".to_vec(),
            truncated: true,
        },
        Value::UInt(58),
    ];
    let entry = Event::SyscallEntry {
        pid: 1,
        time: Duration::from_secs(1),
        nr: 1,
        name: "write".into(),
        args: args.clone(),
        more: true,
        raw_args: [0; 6],
        ip: 0,
    };
    let exit = Event::SyscallExit {
        pid: 1,
        time: Duration::from_secs(1),
        nr: 1,
        name: "write".into(),
        args,
        raw_args: [0; 6],
        ret: Ret::Int(58),
        duration: Duration::from_micros(3),
        cpu: None,
        stack: Vec::new(),
        fields: Vec::new(),
        injected: false,
        poked: false,
        delayed: false,
        dump: None,
        ip: 0,
    };
    let o = TextOpts {
        to_file: true,
        ..TextOpts::default()
    };
    let mut p = TextPrinter::new(Box::new(std::io::sink()), o);
    p.event(&Event::Attached {
        pid: 1,
        time: Duration::ZERO,
        ns_pid: None,
    });
    let n = 1_000_000;
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        p.event(&entry);
        p.event(&exit);
    }
    let el = t0.elapsed();
    println!("{:.0} ns per line", el.as_nanos() as f64 / f64::from(n));
}
