//! The open-file limit: a server or load generator with hundreds of sockets needs more
//! descriptors than the soft limit many systems start processes with (1024).

/// The soft and hard limits on open files.
#[cfg(unix)]
fn limits() -> Result<libc::rlimit, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!(
            "reading the open-file limit failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(limit)
}

/// Raises the soft limit on open files to at least `wanted` (capped by the hard limit), as
/// nginx's `worker_rlimit_nofile` does. Returns the limit now in force, or why it could not be
/// raised enough.
#[cfg(unix)]
// rlim_t is u64 on Linux but not on every Unix.
#[allow(clippy::unnecessary_cast)]
pub fn raise(wanted: u64) -> Result<u64, String> {
    let mut limit = limits()?;
    let current = limit.rlim_cur as u64;
    if current >= wanted {
        return Ok(current);
    }
    let now = wanted.min(limit.rlim_max as u64);
    limit.rlim_cur = now as libc::rlim_t;
    // SAFETY: setrlimit only reads the struct passed to it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!(
            "raising the open-file limit from {current} to {now} failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    if now < wanted {
        return Err(format!(
            "the open-file limit is {now} (the hard limit); {wanted} were wanted, so some connections may fail (raise it with ulimit -Hn)"
        ));
    }
    Ok(now)
}

/// Elsewhere the limit is left as it is.
#[cfg(not(unix))]
pub fn raise(wanted: u64) -> Result<u64, String> {
    Ok(wanted)
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn the_soft_limit_is_raised_up_to_what_is_wanted_within_the_hard_limit() {
        let hard = super::limits().unwrap().rlim_max as u64;
        let result = super::raise(1100);
        let soft = super::limits().unwrap().rlim_cur as u64;
        assert!(soft >= 1100.min(hard), "soft limit {soft}, hard {hard}");
        match result {
            Ok(now) => assert_eq!(now, soft),
            Err(e) => assert!(hard < 1100 && e.contains("hard limit"), "{e}"),
        }
    }
}
