//! The open-file limit: a server or load generator with hundreds of sockets needs more
//! descriptors than the soft limit many systems start processes with (1024).

/// Raises the soft limit on open files to at least `wanted` (capped by the hard limit), as
/// nginx's `worker_rlimit_nofile` does. Returns the limit now in force, or why it could not be
/// raised enough.
#[cfg(unix)]
pub fn raise(wanted: u64) -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!(
            "reading the open-file limit failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    let current = limit.rlim_cur as u64;
    if current >= wanted {
        return Ok(current);
    }
    let hard = limit.rlim_max as u64;
    limit.rlim_cur = wanted.min(hard) as libc::rlim_t;
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!(
            "raising the open-file limit from {current} to {} failed: {}",
            limit.rlim_cur,
            std::io::Error::last_os_error()
        ));
    }
    let now = limit.rlim_cur as u64;
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
    fn the_limit_is_raised_up_to_what_is_wanted() {
        let now = super::raise(1100).unwrap_or(0);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: see raise().
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(limit.rlim_cur as u64, now.max(limit.rlim_cur as u64));
        if limit.rlim_max as u64 >= 1100 {
            assert!(limit.rlim_cur as u64 >= 1100);
        }
    }
}
