//! Which container a process runs in, by name: the runtime and container id from its cgroup
//! path (or, when the container has its own cgroup namespace and the path says `/`, from the
//! sources of the files the runtime bind-mounts into it), and the Kubernetes pod from its
//! cgroup, its environment and its service-account files. Pure: the callers read the files.

/// What the cgroup path, mountinfo and environment name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `docker`, `containerd`, `cri-o`, `podman`, `lxc`, or `None` when nothing names one.
    pub runtime: Option<&'static str>,
    /// The container id (64 hex digits for OCI runtimes; a name for LXC).
    pub id: Option<String>,
    /// The pod's uid from a `kubepods` cgroup path, with dashes.
    pub pod_uid: Option<String>,
    /// `guaranteed`, `burstable` or `besteffort`.
    pub qos: Option<&'static str>,
    /// Where the runtime and id were read: `cgroup path` or `mountinfo`.
    pub source: Option<&'static str>,
}

impl Identity {
    /// The id as `docker ps` shows it: its first 12 characters.
    pub fn short_id(&self) -> Option<&str> {
        self.id.as_deref().map(|i| i.get(..12).unwrap_or(i))
    }
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Runtime and id of one cgroup path component (or mount source component).
fn component(c: &str) -> Option<(&'static str, String)> {
    let c = c.strip_suffix(".scope").unwrap_or(c);
    for (prefix, runtime) in [
        ("docker-", "docker"),
        ("cri-containerd-", "containerd"),
        ("crio-conmon-", "cri-o"),
        ("crio-", "cri-o"),
        ("libpod-conmon-", "podman"),
        ("libpod-", "podman"),
    ] {
        if let Some(id) = c.strip_prefix(prefix)
            && is_hex_id(id)
        {
            return Some((runtime, id.to_string()));
        }
    }
    None
}

/// Reads a cgroup path (`/proc/PID/cgroup`'s third field).
pub fn from_cgroup_path(path: &str) -> Identity {
    let mut id = Identity::default();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, p) in parts.iter().enumerate() {
        if let Some((rt, cid)) = component(p) {
            id.runtime = Some(rt);
            id.id = Some(cid);
            id.source = Some("cgroup path");
            continue;
        }
        // cgroupfs driver: `/docker/<id>`, `/kubepods/burstable/pod<uid>/<id>`, `/lxc/<name>`.
        if is_hex_id(p) && id.id.is_none() {
            let parent = if i > 0 {
                parts.get(i - 1).copied()
            } else {
                None
            };
            id.id = Some(p.to_string());
            id.source = Some("cgroup path");
            if parent == Some("docker") {
                id.runtime = Some("docker");
            }
            continue;
        }
        if let Some(name) = p.strip_prefix("lxc.payload.") {
            id.runtime = Some("lxc");
            id.id = Some(name.to_string());
            id.source = Some("cgroup path");
            continue;
        }
        if i > 0 && parts.get(i - 1) == Some(&"lxc") {
            id.runtime = Some("lxc");
            id.id = Some(p.to_string());
            id.source = Some("cgroup path");
            continue;
        }
        // `kubepods-burstable-pod1234_5678.slice` (systemd) or `pod1234-5678` (cgroupfs).
        let q = p.strip_suffix(".slice").unwrap_or(p);
        if let Some(pos) = q.rfind("pod")
            && (q.starts_with("kubepods") || pos == 0)
        {
            let uid = &q[pos + 3..];
            if uid.len() >= 32
                && uid
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'_')
            {
                id.pod_uid = Some(uid.replace('_', "-"));
            }
        }
        for qos in ["burstable", "besteffort", "guaranteed"] {
            if q == qos || q == format!("kubepods-{qos}") {
                id.qos = Some(qos);
            }
        }
    }
    if id.pod_uid.is_some() && id.qos.is_none() && parts.iter().any(|p| p.starts_with("kubepods")) {
        // A pod directly under kubepods is in the Guaranteed class.
        id.qos = Some("guaranteed");
    }
    id
}

/// Reads the root fields of `/proc/PID/mountinfo` for the files a runtime bind-mounts into its
/// containers (`/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`): Docker's come from
/// `/var/lib/docker/containers/<id>/`, containerd's from `.../sandboxes/<id>/` and Kubernetes'
/// `etc-hosts` from `/var/lib/kubelet/pods/<uid>/`.
pub fn from_mountinfo(mountinfo: &str) -> Identity {
    let mut id = Identity::default();
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (Some(root), Some(point)) = (f.get(3), f.get(4)) else {
            continue;
        };
        if !matches!(*point, "/etc/hostname" | "/etc/hosts" | "/etc/resolv.conf") {
            continue;
        }
        let parts: Vec<&str> = root.split('/').filter(|p| !p.is_empty()).collect();
        for w in parts.windows(2) {
            let [a, b] = w else { continue };
            if id.id.is_none() && is_hex_id(b) {
                let rt = match *a {
                    "containers" if root.contains("docker") => Some("docker"),
                    "sandboxes" if root.contains("containerd") => Some("containerd"),
                    "overlay-containers" | "userdata" => Some("cri-o"),
                    _ => None,
                };
                if let Some(rt) = rt {
                    id.runtime = Some(rt);
                    id.id = Some(b.to_string());
                    id.source = Some("mountinfo");
                }
            }
            if *a == "pods" && root.contains("kubelet") && b.len() >= 32 {
                id.pod_uid = Some(b.to_string());
            }
        }
    }
    id
}

/// The pod's name and namespace: Kubernetes sets `HOSTNAME` to the pod's name (unless the spec
/// sets `hostname`); the namespace is the service account's `namespace` file when mounted, or
/// `POD_NAMESPACE` when the manifest passes it down.
pub fn pod_from_env(environ: &[u8]) -> (Option<String>, Option<String>) {
    let mut name = None;
    let mut ns = None;
    let mut k8s = false;
    for v in environ.split(|&b| b == 0) {
        let s = String::from_utf8_lossy(v);
        if s.starts_with("KUBERNETES_SERVICE_HOST=") {
            k8s = true;
        } else if let Some(x) = s.strip_prefix("POD_NAME=") {
            name = Some(x.to_string());
        } else if let Some(x) = s.strip_prefix("HOSTNAME=")
            && name.is_none()
        {
            name = Some(x.to_string());
        } else if let Some(x) = s.strip_prefix("POD_NAMESPACE=") {
            ns = Some(x.to_string());
        }
    }
    if !k8s {
        return (None, None);
    }
    (name.filter(|n| !n.is_empty()), ns.filter(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4e8c0a9b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f";

    #[test]
    fn docker_paths() {
        let a = from_cgroup_path(&format!("/docker/{ID}"));
        assert_eq!(a.runtime, Some("docker"));
        assert_eq!(a.id.as_deref(), Some(ID));
        assert_eq!(a.short_id(), Some("3f4e8c0a9b1d"));
        let b = from_cgroup_path(&format!("/system.slice/docker-{ID}.scope"));
        assert_eq!((b.runtime, b.id.as_deref()), (Some("docker"), Some(ID)));
        assert_eq!(b.pod_uid, None);
    }

    #[test]
    fn kubernetes_paths() {
        let sys = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-{ID}.scope"
        );
        let a = from_cgroup_path(&sys);
        assert_eq!(a.runtime, Some("containerd"));
        assert_eq!(a.id.as_deref(), Some(ID));
        assert_eq!(
            a.pod_uid.as_deref(),
            Some("0a1b2c3d-4e5f-6789-abcd-ef0123456789")
        );
        assert_eq!(a.qos, Some("burstable"));
        let fs = format!("/kubepods/besteffort/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/{ID}");
        let b = from_cgroup_path(&fs);
        assert_eq!(b.runtime, None, "cgroupfs does not name the runtime");
        assert_eq!(b.id.as_deref(), Some(ID));
        assert_eq!(b.qos, Some("besteffort"));
        let g = from_cgroup_path(&format!(
            "/kubepods/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/crio-{ID}"
        ));
        assert_eq!((g.runtime, g.qos), (Some("cri-o"), Some("guaranteed")));
    }

    #[test]
    fn other_paths() {
        let p = from_cgroup_path(&format!("/user.slice/user-1000.slice/libpod-{ID}.scope"));
        assert_eq!(p.runtime, Some("podman"));
        let l = from_cgroup_path("/lxc.payload.pg1");
        assert_eq!((l.runtime, l.id.as_deref()), (Some("lxc"), Some("pg1")));
        let l2 = from_cgroup_path("/lxc/pg2");
        assert_eq!(l2.id.as_deref(), Some("pg2"));
        // Not containers: a host service, this machine's sandbox, the root.
        for p in [
            "/system.slice/postgresql@15-main.service",
            "/process_api/04400fb2ff719eea8849fa576e701a6a",
            "/",
            "",
        ] {
            assert_eq!(from_cgroup_path(p), Identity::default(), "{p}");
        }
    }

    #[test]
    fn mountinfo_sources() {
        let docker = format!(
            "540 520 254:0 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n\
             541 520 254:0 /var/lib/docker/containers/{ID}/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw\n"
        );
        let a = from_mountinfo(&docker);
        assert_eq!((a.runtime, a.id.as_deref()), (Some("docker"), Some(ID)));
        assert_eq!(a.source, Some("mountinfo"));
        let k8s = format!(
            "600 590 254:0 /var/lib/kubelet/pods/0a1b2c3d-4e5f-6789-abcd-ef0123456789/etc-hosts /etc/hosts rw - ext4 /dev/vda rw\n\
             601 590 254:0 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{ID}/hostname /etc/hostname rw - ext4 /dev/vda rw\n"
        );
        let b = from_mountinfo(&k8s);
        assert_eq!(b.runtime, Some("containerd"));
        assert_eq!(
            b.pod_uid.as_deref(),
            Some("0a1b2c3d-4e5f-6789-abcd-ef0123456789")
        );
        // Other mounts of the same files are not evidence.
        let plain = format!("30 25 0:27 /data/{ID} /var/lib/postgresql rw - ext4 /dev/vda rw\n");
        assert_eq!(from_mountinfo(&plain), Identity::default());
    }

    #[test]
    fn pod_names() {
        let env = b"HOSTNAME=pg-cluster-1\0KUBERNETES_SERVICE_HOST=10.96.0.1\0POD_NAMESPACE=db\0";
        assert_eq!(
            pod_from_env(env),
            (Some("pg-cluster-1".into()), Some("db".into()))
        );
        let explicit = b"POD_NAME=pg-0\0HOSTNAME=other\0KUBERNETES_SERVICE_HOST=x\0";
        assert_eq!(pod_from_env(explicit).0.as_deref(), Some("pg-0"));
        // HOSTNAME alone is any shell's: no pod without Kubernetes.
        assert_eq!(pod_from_env(b"HOSTNAME=db1\0"), (None, None));
    }
}
