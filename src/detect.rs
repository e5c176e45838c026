//! What we are running in (SPEC §6): container, hypervisor, chroot. Everything is read lazily
//! and once: a source that is never reached costs nothing.

use std::cell::OnceCell;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use log::debug;

use crate::deny_list::DenyList;
use crate::proc;
use crate::read::{self, BLOB_MAX, STRING_MAX};
use crate::roots::{self, Roots};

/// DMI strings, in the order systemd reads them.
const DMI_FILES: &[&str] = &[
    "sys/class/dmi/id/product_name",
    "sys/class/dmi/id/sys_vendor",
    "sys/class/dmi/id/board_vendor",
    "sys/class/dmi/id/bios_vendor",
    "sys/class/dmi/id/product_version",
];
const DMI_PRODUCT_NAME: &str = "sys/class/dmi/id/product_name";
const DMI_SYS_VENDOR: &str = "sys/class/dmi/id/sys_vendor";

/// Prefixes of DMI strings that name a hypervisor (systemd's `dmi_vendor_table`, plus names).
const DMI_VENDORS: &[(&str, &str)] = &[
    ("KVM", "KVM"),
    ("OpenStack", "OpenStack"),
    ("KubeVirt", "KubeVirt"),
    ("Amazon EC2", "Amazon EC2"),
    ("QEMU", "QEMU"),
    ("VMware", "VMware"),
    ("VMW", "VMware"),
    ("innotek GmbH", "VirtualBox"),
    ("VirtualBox", "VirtualBox"),
    ("Oracle Corporation", "VirtualBox"),
    ("Xen", "Xen"),
    ("Bochs", "Bochs"),
    ("Parallels", "Parallels"),
    ("BHYVE", "bhyve"),
    ("Hyper-V", "Hyper-V"),
    ("Apple Virtualization", "Apple Virtualization"),
    ("Google Compute Engine", "Google Compute Engine"),
];

const HYPERVISOR_TYPE: &str = "sys/hypervisor/type";
const PROC_XEN: &str = "proc/xen";
const PROC_XEN_CAPABILITIES: &str = "proc/xen/capabilities";
const DT_HYPERVISOR: &str = "proc/device-tree/hypervisor/compatible";

const CONTAINER_MANAGER: &str = "run/host/container-manager";
const CONTAINERENV: &str = "run/.containerenv";
const DOCKERENV: &str = ".dockerenv";
const PROC_SELF_PID_NS: &str = "proc/self/ns/pid";
const PROC_VZ: &str = "proc/vz";
const PROC_BC: &str = "proc/bc";
/// The inode of the initial PID namespace (`PROC_PID_INIT_INO` in the kernel).
const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;
/// systemd's name for a container whose manager did not say who it is.
pub const CONTAINER_OTHER: &str = "container-other";

/// The running system, as far as the sources need to know it.
pub struct Environment<'a> {
    roots: &'a Roots,
    pid1: bool,
    cmdline: OnceCell<Option<Vec<Vec<u8>>>>,
    pid1_environ: OnceCell<Option<Vec<u8>>>,
    container: OnceCell<Option<String>>,
    hypervisor: OnceCell<Option<String>>,
    chroot: OnceCell<bool>,
    deny_list: OnceCell<DenyList>,
}

impl<'a> Environment<'a> {
    pub fn new(roots: &'a Roots) -> Self {
        Self::with_pid1(roots, std::process::id() == 1)
    }

    /// For a caller that knows already whether this process is PID 1 (asked once, in `main`).
    pub fn with_pid1(roots: &'a Roots, pid1: bool) -> Self {
        Environment {
            roots,
            pid1,
            cmdline: OnceCell::new(),
            pid1_environ: OnceCell::new(),
            container: OnceCell::new(),
            hypervisor: OnceCell::new(),
            chroot: OnceCell::new(),
            deny_list: OnceCell::new(),
        }
    }

    pub fn roots(&self) -> &Roots {
        self.roots
    }

    pub fn is_pid1(&self) -> bool {
        self.pid1
    }

    /// The kernel command line split into words; `None` when it cannot be read.
    pub fn cmdline(&self) -> Option<&[Vec<u8>]> {
        self.cmdline
            .get_or_init(|| {
                read_host_or_none(self.roots, roots::PROC_CMDLINE, BLOB_MAX)
                    .map(|b| proc::cmdline_words(&b))
            })
            .as_deref()
    }

    /// A variable of PID 1's environment: ours when we are PID 1, else `proc/1/environ`.
    pub fn pid1_env(&self, key: &str) -> Option<Vec<u8>> {
        if self.pid1 {
            use std::os::unix::ffi::OsStrExt;
            return std::env::var_os(key).map(|v| v.as_bytes().to_vec());
        }
        let environ = self
            .pid1_environ
            .get_or_init(|| read_host_or_none(self.roots, roots::PROC1_ENVIRON, BLOB_MAX))
            .as_deref()?;
        proc::environ_get(environ, key).map(<[u8]>::to_vec)
    }

    /// The container manager's name when we run in a container.
    pub fn container(&self) -> Option<&str> {
        self.container
            .get_or_init(|| detect_container(self))
            .as_deref()
    }

    /// The hypervisor's name when we run in a VM.
    pub fn hypervisor(&self) -> Option<&str> {
        self.hypervisor
            .get_or_init(|| detect_hypervisor(self.roots))
            .as_deref()
    }

    /// The deny-list of firmware UUIDs, with the root's drop-ins (read once, when a firmware
    /// UUID is first checked).
    pub fn deny_list(&self) -> &DenyList {
        self.deny_list.get_or_init(|| DenyList::load(self.roots))
    }

    /// Whether we run in a chroot of the live system, where firmware and kernel describe the
    /// outer machine. Never true for a host tree that is not `/`.
    pub fn in_chroot(&self) -> bool {
        *self.chroot.get_or_init(|| {
            self.roots.host_is_live()
                && differ(&self.roots.host_join(roots::PROC1_ROOT), self.roots.host())
        })
    }
}

/// Read a small host file; unreadable means absent, with the reason at debug level (detection
/// inputs are hints, unlike a source's UUID file).
fn read_host_or_none(roots: &Roots, rel: &str, max: usize) -> Option<Vec<u8>> {
    match read::read_host(roots, rel, max) {
        Ok(v) => v,
        Err(e) => {
            debug!("Ignoring {}: {e}", roots.host_join(rel).display());
            None
        }
    }
}

fn read_host_string(roots: &Roots, rel: &str) -> Option<String> {
    read_host_or_none(roots, rel, STRING_MAX).map(|b| trim(&b))
}

fn trim(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.trim_end_matches(['\n', '\0', ' ', '\t']).to_string()
}

fn detect_container(env: &Environment) -> Option<String> {
    let roots = env.roots;
    // Its existence is the marker; what it says (when readable) is the manager's name.
    let manager = read::read_host(roots, CONTAINER_MANAGER, STRING_MAX);
    if !matches!(manager, Ok(None)) {
        let name = manager
            .ok()
            .flatten()
            .map(|b| trim(&b))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| CONTAINER_OTHER.into());
        debug!("Running in a container ({name}, from {CONTAINER_MANAGER}).");
        return Some(name);
    }
    match env.pid1_env("container") {
        // Set but empty is systemd's way to say "not a container": no marker file counts then,
        // but the kernel's word still does (a manager cannot talk a namespace away).
        Some(v) if v.is_empty() => {
            debug!("container= is set and empty: ignoring container marker files.");
        }
        Some(v) => {
            let name = String::from_utf8_lossy(&v).into_owned();
            debug!("Running in a container ({name}, from container= of PID 1).");
            return Some(name);
        }
        None => {
            for (rel, name) in [(CONTAINERENV, "podman"), (DOCKERENV, "docker")] {
                if roots.host_exists(rel) {
                    debug!("Running in a container ({name}, from {rel}).");
                    return Some(name.into());
                }
            }
        }
    }
    if roots.host_is_live() {
        return kernel_container(roots);
    }
    None
}

/// The kernel's word, which no manager can leave out (`podman --read-only` and `lxc-execute`
/// leave no marker): a PID namespace that is not the initial one, or OpenVZ. Only meaningful
/// for the live system.
fn kernel_container(roots: &Roots) -> Option<String> {
    if pid_namespace_is_initial(&roots.host_join(PROC_SELF_PID_NS)) == Some(false) {
        debug!("Running in a container ({CONTAINER_OTHER}: not the initial PID namespace).");
        return Some(CONTAINER_OTHER.into());
    }
    if openvz(roots) {
        debug!("Running in a container (openvz, from {PROC_VZ}).");
        return Some("openvz".into());
    }
    None
}

/// OpenVZ shows `proc/vz` inside its containers, and `proc/bc` only on the host node.
fn openvz(roots: &Roots) -> bool {
    roots.host_exists(PROC_VZ) && !roots.host_exists(PROC_BC)
}

/// Whether the PID namespace at `ns` (`/proc/self/ns/pid`) is the kernel's initial one, by its
/// inode (`PROC_PID_INIT_INO`, what systemd's `namespace_is_init()` compares); `None` when it
/// cannot be told (no `/proc`).
pub fn pid_namespace_is_initial(ns: &Path) -> Option<bool> {
    std::fs::metadata(ns)
        .ok()
        .map(|m| m.ino() == PROC_PID_INIT_INO)
}

fn detect_hypervisor(roots: &Roots) -> Option<String> {
    let found = dmi_hypervisor(roots)
        .or_else(|| xen_hypervisor(roots))
        .or_else(|| device_tree_hypervisor(roots))
        .or_else(|| {
            if roots.host_is_live() {
                cpuid_hypervisor()
            } else {
                None
            }
        });
    match &found {
        Some(h) => debug!("Running on a hypervisor: {h}."),
        None => debug!("No hypervisor detected."),
    }
    found.filter(|h| !h.is_empty())
}

fn dmi_hypervisor(roots: &Roots) -> Option<String> {
    let product = read_host_string(roots, DMI_PRODUCT_NAME);
    let vendor = read_host_string(roots, DMI_SYS_VENDOR);
    match (vendor.as_deref(), product.as_deref()) {
        (Some(v), Some(p)) if v.starts_with("Microsoft Corporation") && p == "Virtual Machine" => {
            return Some("Hyper-V".into());
        }
        (Some(v), Some(p)) if v.starts_with("Nutanix") && p == "AHV" => {
            return Some("Nutanix AHV".into());
        }
        // EC2 bare-metal instances carry Amazon's strings but run no hypervisor.
        (Some(v), Some(p)) if v.starts_with("Amazon EC2") && p.ends_with(".metal") => {
            debug!("Amazon EC2 bare-metal instance ({p}): no hypervisor.");
            return None;
        }
        _ => {}
    }
    DMI_FILES.iter().find_map(|rel| {
        let s = match *rel {
            DMI_PRODUCT_NAME => product.clone(),
            DMI_SYS_VENDOR => vendor.clone(),
            _ => read_host_string(roots, rel),
        }?;
        DMI_VENDORS
            .iter()
            .find(|(prefix, _)| s.starts_with(prefix))
            .map(|(_, name)| name.to_string())
    })
}

fn xen_hypervisor(roots: &Roots) -> Option<String> {
    if let Some(t) = read_host_string(roots, HYPERVISOR_TYPE) {
        if !t.is_empty() {
            return Some(if t == "xen" { "Xen".into() } else { t });
        }
    }
    if roots.host_exists(PROC_XEN) {
        // dom0 runs on Xen but is the host, not a guest.
        let caps = read_host_string(roots, PROC_XEN_CAPABILITIES).unwrap_or_default();
        if !caps.contains("control_d") {
            return Some("Xen".into());
        }
    }
    None
}

fn device_tree_hypervisor(roots: &Roots) -> Option<String> {
    let compat = read_host_or_none(roots, DT_HYPERVISOR, STRING_MAX)?;
    let compat = String::from_utf8_lossy(&compat);
    Some(
        if compat.contains("linux,kvm") {
            "KVM"
        } else if compat.contains("xen") {
            "Xen"
        } else if compat.contains("vmware") {
            "VMware"
        } else {
            "device-tree hypervisor"
        }
        .into(),
    )
}

#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor() -> Option<String> {
    use std::arch::x86_64::__cpuid;
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU.
    let (leaf1, leaf_hv) = unsafe { (__cpuid(1), __cpuid(0x4000_0000)) };
    cpuid_names(leaf1.ecx, [leaf_hv.ebx, leaf_hv.ecx, leaf_hv.edx]).map(Into::into)
}

/// What CPUID says: leaf 1's ECX bit 31 that a hypervisor is there, and the signature in leaf
/// 0x40000000's EBX, ECX, EDX which one (systemd's `detect_vm_cpuid()` table).
fn cpuid_names(leaf1_ecx: u32, signature: [u32; 3]) -> Option<&'static str> {
    if leaf1_ecx & (1 << 31) == 0 {
        return None;
    }
    let mut sig = [0u8; 12];
    for (chunk, reg) in sig.chunks_exact_mut(4).zip(signature) {
        chunk.copy_from_slice(&reg.to_le_bytes());
    }
    Some(match &sig {
        b"KVMKVMKVM\0\0\0" | b"Linux KVM Hv" => "KVM",
        b"TCGTCGTCGTCG" => "QEMU",
        b"VMwareVMware" => "VMware",
        b"Microsoft Hv" => "Hyper-V",
        b"XenVMMXenVMM" => "Xen",
        b"bhyve bhyve " => "bhyve",
        b"VBoxVBoxVBox" => "VirtualBox",
        b" lrpepyh  vr" => "Parallels",
        b"ACRNACRNACRN" => "ACRN",
        _ => CPUID_OTHER,
    })
}

/// A hypervisor CPUID shows under a signature systemd does not name.
const CPUID_OTHER: &str = "hypervisor (CPUID)";

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_hypervisor() -> Option<String> {
    None
}

/// Whether two paths name different directories (an unreadable one counts as the same:
/// refusing sources on a guess would be worse than systemd's behaviour).
fn differ(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) != (y.dev(), y.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroot_compare() {
        let d = std::env::temp_dir();
        assert!(!differ(&d, &d));
        assert!(differ(&d, Path::new(env!("CARGO_MANIFEST_DIR"))));
        assert!(!differ(&d, Path::new("/nonexistent-mii")));
    }

    #[test]
    fn openvz_container_not_its_host_node() {
        let d = std::env::temp_dir().join(format!("mii-openvz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("proc")).unwrap();
        let roots = Roots::new(&d, &d);
        assert!(!openvz(&roots), "neither proc/vz nor proc/bc: no OpenVZ");
        std::fs::create_dir(d.join("proc/bc")).unwrap();
        assert!(!openvz(&roots), "proc/bc alone");
        std::fs::create_dir(d.join("proc/vz")).unwrap();
        assert!(!openvz(&roots), "proc/vz and proc/bc: the host node");
        std::fs::remove_dir(d.join("proc/bc")).unwrap();
        assert!(openvz(&roots), "proc/vz without proc/bc: a container");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A signature as CPUID returns it: 12 bytes in EBX, ECX, EDX, little-endian.
    fn regs(sig: &[u8; 12]) -> [u32; 3] {
        core::array::from_fn(|i| u32::from_le_bytes(sig[i * 4..i * 4 + 4].try_into().unwrap()))
    }

    #[test]
    fn cpuid_signatures() {
        const HV: u32 = 1 << 31;
        for (sig, name) in [
            (b"KVMKVMKVM\0\0\0", "KVM"),
            (b"Linux KVM Hv", "KVM"),
            (b"TCGTCGTCGTCG", "QEMU"),
            (b"VMwareVMware", "VMware"),
            (b"Microsoft Hv", "Hyper-V"),
            (b"XenVMMXenVMM", "Xen"),
            (b"bhyve bhyve ", "bhyve"),
            (b"VBoxVBoxVBox", "VirtualBox"),
            (b" lrpepyh  vr", "Parallels"),
            (b"ACRNACRNACRN", "ACRN"),
            (b"NotAKnownOne", CPUID_OTHER),
        ] {
            assert_eq!(cpuid_names(HV, regs(sig)), Some(name), "{sig:?}");
            // Without leaf 1's bit 31 the signature means nothing (bare metal).
            assert_eq!(cpuid_names(HV >> 1 | 1, regs(sig)), None, "{sig:?}");
        }
        assert_eq!(cpuid_names(!0, regs(b"VMwareVMware")), Some("VMware"));
    }

    /// On the machine the tests run on, CPUID agrees with the kernel's "hypervisor" flag.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn cpuid_agrees_with_the_kernel() {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        let flagged = cpuinfo
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "hypervisor"));
        let found = cpuid_hypervisor();
        assert_eq!(found.is_some(), flagged, "CPUID said {found:?}");
        if let Some(name) = found {
            let known = [
                "KVM",
                "QEMU",
                "VMware",
                "Hyper-V",
                "Xen",
                "bhyve",
                "VirtualBox",
            ];
            assert!(
                known.contains(&name.as_str())
                    || ["Parallels", "ACRN", CPUID_OTHER].contains(&name.as_str()),
                "{name}"
            );
        }
    }

    #[test]
    fn pid_namespace_untold_without_proc() {
        assert_eq!(
            pid_namespace_is_initial(Path::new("/nonexistent-mii/ns/pid")),
            None
        );
        // Any other file has another inode than the initial namespace's.
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert_eq!(pid_namespace_is_initial(&file), Some(false));
    }
}
