//! The pure parts of the demo: what it picks out of the tools' output to show, and the
//! remedy it applies.

use serde_json::Value;

/// The failing `fallocate` of a `-k` trace and its frames (at most `max_frames`): the line
/// that returns ENOSPC, with the line it resumes when another process's line cut it, and
/// the ` > ` lines after it.
pub fn failing_call(trace: &str, max_frames: usize) -> Option<String> {
    let lines: Vec<&str> = trace.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("fallocate") && l.contains("= -1 ENOSPC"))?;
    let mut out = Vec::new();
    let line = lines[at];
    if line.contains("resumed>") {
        let pid = line.split(']').next().unwrap_or("");
        if let Some(start) = lines[..at].iter().rposition(|l| {
            l.starts_with(pid) && l.contains("fallocate(") && l.ends_with("<unfinished ...>")
        }) {
            out.push(lines[start].to_string());
        }
    }
    out.push(line.to_string());
    let frames: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with(" > "))
        .copied()
        .collect();
    for f in frames.iter().take(max_frames) {
        out.push(f.to_string());
    }
    if frames.len() > max_frames {
        out.push(format!(" > ... {} more", frames.len() - max_frames));
    }
    Some(out.join("\n"))
}

/// The watch's explanation of the first ENOSPC: its event line and the indented lines after.
pub fn explanation(watch: &str) -> Option<String> {
    let lines: Vec<&str> = watch.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.split_whitespace().nth(1) == Some("ENOSPC"))?;
    let mut out = vec![lines[at]];
    out.extend(
        lines[at + 1..]
            .iter()
            .take_while(|l| l.starts_with(' ') || l.is_empty()),
    );
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    Some(out.join("\n"))
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ResizeShm(u64),
    Set(String, String),
    Remove(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Remedy {
    pub text: String,
    pub action: Action,
}

/// The first of explain-shm's ranked remedies (`remedies[0]` of its JSON) that the demo can
/// apply.
pub fn first_remedy(report_json: &str) -> Option<Remedy> {
    let v: Value = serde_json::from_str(report_json).ok()?;
    let r = v["remedies"].as_array()?.first()?;
    let action = match r["action"].as_str()? {
        "resize_shm" => Action::ResizeShm(r["bytes"].as_u64()?),
        "set" => Action::Set(
            r["setting"].as_str()?.to_string(),
            r["value"].as_str()?.to_string(),
        ),
        "remove" => Action::Remove(
            r["paths"]
                .as_array()?
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect(),
        ),
        _ => return None,
    };
    Some(Remedy {
        text: r["text"].as_str().unwrap_or_default().to_string(),
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failing_call() {
        let t = [
            "[pid 10] fallocate(7, 0, 0, 1048576) = 0",
            " > libc.so.6(fallocate64+0x1a) [0xf0]",
            "[pid 11] fallocate(9, 0, 0, 16777216 <unfinished ...>",
            "[pid 12] fallocate(4, 0, 0, 1048576) = 0",
            "[pid 11] <... fallocate resumed>) = -1 ENOSPC (No space left on device)",
            " > libc.so.6(fallocate64+0x1a) [0xf0]",
            " > postgres(dsm_impl_posix+0x1) [0x1]",
            " > postgres(dsm_create+0x2) [0x2]",
            "[pid 10] fallocate(7, 0, 0, 1048576) = 0",
        ]
        .join("\n");
        let f = failing_call(&t, 2).unwrap_or_default();
        let want = [
            "[pid 11] fallocate(9, 0, 0, 16777216 <unfinished ...>",
            "[pid 11] <... fallocate resumed>) = -1 ENOSPC (No space left on device)",
            " > libc.so.6(fallocate64+0x1a) [0xf0]",
            " > postgres(dsm_impl_posix+0x1) [0x1]",
            " > ... 1 more",
        ]
        .join("\n");
        assert_eq!(f, want);
        assert_eq!(failing_call("[pid 1] fallocate(3, 0, 0, 8) = 0\n", 5), None);
    }

    #[test]
    fn the_explanation() {
        let w = "07:03:39.1 create  PostgreSQL.1 size 196736 by pid 2\n\
                 07:03:39.4 ENOSPC  PostgreSQL.3: /dev/shm ran out\n  request: pid 3\n\n  explain-shm:\n  | remedy\n\
                 07:03:39.5 destroy PostgreSQL.1 size 196736\n";
        assert_eq!(
            explanation(w).as_deref(),
            Some(
                "07:03:39.4 ENOSPC  PostgreSQL.3: /dev/shm ran out\n  request: pid 3\n\n  explain-shm:\n  | remedy"
            )
        );
        assert_eq!(explanation("07:03 create PostgreSQL.1\n"), None);
    }

    #[test]
    fn remedies() {
        let j = r#"{"remedies":[{"action":"resize_shm","bytes":536870912,"text":"/dev/shm of 512 MiB"},{"action":"set","setting":"work_mem","value":"6MB"}]}"#;
        assert_eq!(
            first_remedy(j),
            Some(Remedy {
                text: "/dev/shm of 512 MiB".into(),
                action: Action::ResizeShm(512 << 20)
            })
        );
        let s = r#"{"remedies":[{"action":"set","setting":"work_mem","value":"6MB","text":"work_mem = 6MB"}]}"#;
        assert_eq!(
            first_remedy(s).map(|r| r.action),
            Some(Action::Set("work_mem".into(), "6MB".into()))
        );
        assert_eq!(first_remedy(r#"{"remedies":[]}"#), None);
        assert_eq!(first_remedy("garbage"), None);
    }
}
