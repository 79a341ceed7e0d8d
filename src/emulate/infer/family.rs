//! Client families: one program across its versions and builds, recognised from `flashVer`.
//!
//! A profile is modelled on one build (FFmpeg 5.1 sends `FMLE/3.0 (compatible; Lavf59.27.100)`),
//! but a capture may come from another build of the same program. Matching `flashVer` by family
//! instead of by equality lets `replay` name the program and report the version as a trait.

/// A `flashVer` read as a family and the part that varies between builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashVerFamily {
    /// The program, as a reader would name it.
    pub family: &'static str,
    /// What tells the builds apart, as shown in a trait: "Lavf 61.7.100", "platform WIN".
    pub build: String,
}

/// The family of `flash_ver`, when it is one whose builds are known to differ only in it:
/// - any libavformat publisher: `... Lavf<major>.<minor>.<micro> ...` (rtmpproto.c writes
///   `FMLE/3.0 (compatible; Lavf<LIBAVFORMAT_VERSION>)` when publishing);
/// - FFmpeg playing: `<platform> 9,0,124,2` (rtmp.h `RTMP_CLIENT_PLATFORM` and
///   `RTMP_CLIENT_VER1..4`), platform LNX, WIN or MAC;
/// - librtmp and GStreamer rtmp2: `<platform> 10,0,32,18` (librtmp's `DEF_VERSTR`).
pub fn of(flash_ver: &str) -> Option<FlashVerFamily> {
    if let Some(at) = flash_ver.find("Lavf") {
        let version: String = flash_ver[at + 4..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let version = version.trim_end_matches('.');
        if !version.is_empty() {
            return Some(FlashVerFamily {
                family: "FFmpeg (libavformat)",
                build: format!("Lavf {version}"),
            });
        }
    }
    let (platform, version) = flash_ver.split_once(' ')?;
    if !matches!(platform, "LNX" | "WIN" | "MAC") {
        return None;
    }
    let family = match version {
        "9,0,124,2" => "FFmpeg (libavformat) playing",
        "10,0,32,18" => "librtmp / GStreamer rtmp2",
        _ => return None,
    };
    Some(FlashVerFamily {
        family,
        build: format!("platform {platform}"),
    })
}

/// How a captured `flashVer` compares with a profile's: `None` when they are of different
/// families (or either has none); otherwise the trait to report, empty when they are equal.
pub fn same_family(captured: &str, profile: &str) -> Option<String> {
    if captured == profile {
        return Some(String::new());
    }
    let (c, p) = (of(captured)?, of(profile)?);
    (c.family == p.family).then(|| format!("{} (profile: {})", c.build, p.build))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lavf_build_is_ffmpeg_with_its_version() {
        for (flash_ver, build) in [
            ("FMLE/3.0 (compatible; Lavf61.7.100)", "Lavf 61.7.100"),
            ("FMLE/3.0 (compatible; Lavf58.29.100)", "Lavf 58.29.100"),
            ("FMLE/3.0 (compatible; Lavf57.83.100)", "Lavf 57.83.100"),
            ("FMLE/3.0 (compatible; Lavf59.27.100)", "Lavf 59.27.100"),
            ("FMLE/3.0 (compatible; Lavf62.3.100.)", "Lavf 62.3.100"),
        ] {
            let f = of(flash_ver).unwrap_or_else(|| panic!("{flash_ver}"));
            assert_eq!(f.family, "FFmpeg (libavformat)");
            assert_eq!(f.build, build);
        }
        assert_eq!(
            same_family(
                "FMLE/3.0 (compatible; Lavf61.7.100)",
                "FMLE/3.0 (compatible; Lavf59.27.100)"
            )
            .as_deref(),
            Some("Lavf 61.7.100 (profile: Lavf 59.27.100)")
        );
    }

    #[test]
    fn player_and_librtmp_builds_differ_by_platform_only() {
        assert_eq!(
            same_family("WIN 9,0,124,2", "LNX 9,0,124,2").as_deref(),
            Some("platform WIN (profile: platform LNX)")
        );
        assert_eq!(
            same_family("MAC 10,0,32,18", "LNX 10,0,32,18").as_deref(),
            Some("platform MAC (profile: platform LNX)")
        );
        // FFmpeg playing and librtmp are different programs.
        assert_eq!(same_family("LNX 9,0,124,2", "LNX 10,0,32,18"), None);
    }

    #[test]
    fn other_flash_vers_match_only_themselves() {
        let obs = "FMLE/3.0 (compatible; FMSc/1.0)";
        assert_eq!(same_family(obs, obs).as_deref(), Some(""));
        assert_eq!(of(obs), None);
        assert_eq!(of("WIN 9,0,47,0"), None);
        assert_eq!(of("Lavf"), None);
        assert_eq!(of(""), None);
        assert_eq!(
            same_family("FMS/3,0,1,123", "FMLE/3.0 (compatible; Lavf59.27.100)"),
            None
        );
        assert_eq!(
            same_family("FMLE/3.0 (compatible; Lavf61.7.100)", "LNX 9,0,124,2"),
            None
        );
    }
}
