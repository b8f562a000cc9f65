//! The machine under the benchmark: core pinning, file limits, and the CPU
//! time, memory, open files and threads of a process read from `/proc`.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::Duration;

/// Pins the calling thread (and the threads it starts later) to `core`.
pub fn pin_self(core: usize) -> Result<(), String> {
    pin(0, core)
}

/// Lets this thread's sleeps end within microseconds of their deadline
/// (Linux's default timer slack adds up to 50 µs to every sleep). Only a
/// wish: where it fails, sleeps are as precise as before.
pub fn precise_sleeps() {
    // SAFETY: prctl(PR_SET_TIMERSLACK) only sets this thread's slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
}

/// Pins process `pid` to `core` (`pid` 0: the caller; only its calling
/// thread, and the threads it starts later).
pub fn pin(pid: i32, core: usize) -> Result<(), String> {
    set_affinity(pid, &[core]).map_err(|e| format!("sched_setaffinity(core {core}): {e}"))
}

/// Lets thread `tid` (0: the caller) run on `cores` only. Allocates
/// nothing (it runs between fork and exec).
fn set_affinity(tid: i32, cores: &[usize]) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within
    // it (the machine's cores are fewer than CPU_SETSIZE).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &core in cores {
            libc::CPU_SET(core, &mut set);
        }
        if libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The cores thread `tid` may run on (`None`: it is gone).
pub fn affinity(tid: i32) -> Option<Vec<usize>> {
    // SAFETY: sched_getaffinity writes within the set it is given.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(
            (0..online_cores())
                .filter(|&core| libc::CPU_ISSET(core, &set))
                .collect(),
        )
    }
}

/// Lets every thread of process `pid` run on `cores` only (a process or
/// thread that ended meanwhile is skipped).
pub fn set_process_affinity(pid: u32, cores: &[usize]) -> Result<(), String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Ok(());
    };
    for tid in tasks.filter_map(|t| t.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
        match set_affinity(tid, cores) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => return Err(format!("sched_setaffinity(thread {tid} of {pid}): {e}")),
            Ok(()) => {}
        }
    }
    Ok(())
}

/// Cores the machine has online.
fn online_cores() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize
}

/// Every process whose command name (`/proc/<pid>/comm`) is `name`.
pub fn processes_named(name: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

/// Cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Raises the open-file limit to its hard limit; returns the new limit.
pub fn raise_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit with a valid, initialised struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        limit.rlim_cur
    }
}

/// What `/proc` says of one process at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User + system CPU time, all threads.
    pub cpu: Duration,
    /// Resident set size, bytes.
    pub rss: u64,
}

impl Usage {
    /// Reads `/proc/<pid>` (`None`: the process is gone).
    pub fn of(pid: u32) -> Option<Usage> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Some(Usage {
            cpu: Duration::from_millis(ticks * 1000 / hz),
            rss: status_field(&status, "VmRSS")? * 1024,
        })
    }

    /// This process.
    pub fn me() -> Usage {
        Usage::of(std::process::id()).unwrap_or_default()
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(self, other: Usage) -> Usage {
        Usage {
            cpu: self.cpu + other.cpu,
            rss: self.rss + other.rss,
        }
    }
}

/// A number from `/proc/<pid>/status` (`VmRSS:  1234 kB` → 1234).
fn status_field(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// File descriptors process `pid` holds (0 if it is gone).
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// File descriptors process `pid` holds on files under `dir`.
pub fn open_files_under(pid: u32, dir: &Path) -> usize {
    let Ok(dir) = dir.canonicalize() else {
        return 0;
    };
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |fds| {
        fds.filter_map(Result::ok)
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter(|file| file.starts_with(&dir))
            .count()
    })
}

/// Established TCP connections from `peer` to `server` (IPv4), as
/// `/proc/net/tcp` lists them: each is there from both ends, and this
/// counts the server's end.
pub fn established(server: SocketAddrV4, peer: Ipv4Addr) -> usize {
    // Addresses are hex in the kernel's byte order; ports in big-endian.
    let hex = |ip: Ipv4Addr| format!("{:08X}", u32::from_ne_bytes(ip.octets()));
    let local = format!("{}:{:04X}", hex(*server.ip()), server.port());
    let remote = format!("{}:", hex(peer));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl, local_address, rem_address, st (01: ESTABLISHED)
            fields.len() > 3
                && fields[1] == local
                && fields[2].starts_with(&remote)
                && fields[3] == "01"
        })
        .count()
}

/// What a process holds at one moment: memory, files, threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Footprint {
    /// Resident set size (VmRSS), bytes: `rss_anon` plus file-backed and
    /// shared pages (the database's shared memory among them).
    pub rss: u64,
    /// Anonymous resident memory (RssAnon), bytes: the heap and stacks.
    pub rss_anon: u64,
    pub files: usize,
    pub threads: u64,
}

impl Footprint {
    /// Reads `/proc/<pid>` (`None`: the process is gone).
    pub fn of(pid: u32) -> Option<Footprint> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Some(Footprint {
            rss: status_field(&status, "VmRSS")? * 1024,
            rss_anon: status_field(&status, "RssAnon").unwrap_or(0) * 1024,
            files: open_files(pid),
            threads: status_field(&status, "Threads")?,
        })
    }
}

/// CPU share (1.0 = one core busy) between two readings `wall` apart.
pub fn cpu_share(before: Usage, after: Usage, wall: Duration) -> f64 {
    after.cpu.saturating_sub(before.cpu).as_secs_f64() / wall.as_secs_f64().max(1e-9)
}

/// One line about the machine: CPU model, cores, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0.0, |kib| kib as f64 / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let online = online_cores();
    format!(
        "{model}, {online} cores, {mem_gib:.0} GiB, Linux {}",
        kernel.trim()
    )
}
