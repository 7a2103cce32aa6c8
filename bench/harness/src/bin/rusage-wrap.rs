//! `rusage-wrap`: stands in for a provider plugin so the benchmark can measure what the plugin
//! itself costs inside a real `terraform` run.
//!
//! Terraform finds it under the plugin's name (`terraform-provider-datamesh`, a copy of this
//! binary in a `dev_overrides` directory). It reads the real plugin's path from the sidecar
//! file `<argv0>.real`, runs the plugin as its child with the same arguments, environment and
//! stdio (the handshake line passes straight through), and when the child exits appends one
//! JSON line to `<argv0>.rusage.jsonl`: wall time, peak RSS, user and system CPU of that child
//! alone (`wait4`). It exits with the child's status.
//!
//! Only std and libc: it must cost next to nothing itself, since Terraform waits on it.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let me = args.next().unwrap_or_default();
    let rest: Vec<OsString> = args.collect();
    let mut sidecar = me.clone();
    sidecar.push(".real");
    let real = match std::fs::read_to_string(&sidecar) {
        Ok(s) => s.trim().to_string(),
        Err(e) => {
            eprintln!("rusage-wrap: cannot read {}: {e}", sidecar.to_string_lossy());
            return ExitCode::from(1);
        }
    };
    let start = Instant::now();
    let mut cmd = Command::new(&real);
    cmd.args(&rest);
    // If Terraform gives up on us (SIGKILL after a failed graceful stop), the plugin must not
    // outlive us as an orphan.
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rusage-wrap: cannot start {real}: {e}");
            return ExitCode::from(1);
        }
    };
    let pid = child.id() as libc::pid_t;
    // Terraform forwards Ctrl-C to the whole process group, which includes the child; the
    // wrapper itself only waits.
    // SAFETY: ignoring SIGINT in this process only; the child was already spawned.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = loop {
        // SAFETY: pid is our own child; status and usage are valid out-pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break rc;
    };
    let wall = start.elapsed();
    if rc != pid {
        eprintln!("rusage-wrap: wait4 failed: {}", std::io::Error::last_os_error());
        return ExitCode::from(1);
    }
    let ms = |tv: libc::timeval| tv.tv_sec as f64 * 1e3 + tv.tv_usec as f64 / 1e3;
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    let line = format!(
        "{{\"pid\":{pid},\"wall_ms\":{:.3},\"maxrss_kb\":{},\"utime_ms\":{:.3},\"stime_ms\":{:.3},\"exit\":{code},\"args\":{:?}}}\n",
        wall.as_secs_f64() * 1e3,
        usage.ru_maxrss,
        ms(usage.ru_utime),
        ms(usage.ru_stime),
        rest.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" "),
    );
    let mut log = me;
    log.push(".rusage.jsonl");
    match std::fs::OpenOptions::new().create(true).append(true).open(&log) {
        // One write of one line: concurrent plugin exits never interleave within a line.
        Ok(mut f) => {
            let _ = f.write_all(line.as_bytes());
        }
        Err(e) => eprintln!("rusage-wrap: cannot write {}: {e}", log.to_string_lossy()),
    }
    ExitCode::from(code.clamp(0, 255) as u8)
}
