//! The server a command talks to: its URL, and the end of a run whose first connection found
//! nothing there (one line naming what is wrong instead of a row, or a thousand attempts, per
//! case); and the address `serve --listen` takes, in the forms users type.

use super::exit::UsageError;
use rtmp_probe::emulate::case::{resolve, split_authority, Target, TargetError};
use rtmp_probe::emulate::reach::Reach;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Parses `url`: a malformed URL is a usage error (2), a host that does not resolve or a port
/// no server can have is "could not run" (3).
pub fn parse(url: &str) -> anyhow::Result<(Target, Option<String>)> {
    if let Some(why) = unsupported_scheme(url) {
        return Err(UsageError(format!("{url}: {why}")).into());
    }
    Target::parse(url).map_err(|e| match e {
        TargetError::NotRtmpUrl(_) | TargetError::BadPort(_) => UsageError(e.to_string()).into(),
        _ => anyhow::anyhow!("{url}: {e}"),
    })
}

/// A fresh [`Reach`] for one run's connections, and how to end the run when its first
/// connection found nothing at the target: the one line `rtmp-probe: URL: connection refused by
/// ADDR` and exit status 3, instead of a row per case. No command checks the target with a
/// connection of its own (a one-connection server such as `ffmpeg -listen 1` would spend its
/// one connection on it).
pub fn reach() -> Arc<Reach> {
    Reach::new()
}

/// The error that ends a run whose first connection could not reach `url`, if it could not.
pub fn unreachable(url: &str, reach: &Reach) -> anyhow::Result<()> {
    match reach.unreachable() {
        Some(why) => Err(anyhow::anyhow!("{url}: {why}")),
        None => Ok(()),
    }
}

/// Why a URL of another RTMP flavour cannot be used, naming it: `rtmps://` (TLS) is not
/// supported yet, the HTTP-tunnelled and encrypted ones are not at all.
fn unsupported_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    let why = match scheme.to_ascii_lowercase().as_str() {
        "rtmps" => "rtmps:// (RTMP over TLS) is not supported yet; rtmp-probe speaks rtmp:// only",
        "rtmpt" | "rtmpts" => "rtmpt:// (RTMP tunnelled over HTTP) is not supported; use rtmp://",
        "rtmpe" | "rtmpte" => "rtmpe:// (Adobe's encrypted RTMP) is not supported; use rtmp://",
        _ => return None,
    };
    Some(why.to_string())
}

const LISTEN_FORMS: &str = "use PORT, :PORT, HOST:PORT, IP:PORT, [IPv6]:PORT or rtmp://HOST:PORT/";

/// `serve --listen`: `1935` and `:1935` listen on 127.0.0.1 (the safe default; give
/// `0.0.0.0:1935` for every interface), `localhost:1935`, `127.0.0.1:1935`, `[::1]:1935`
/// and `rtmp://host:port/` (port 1935 when left out) are what they say.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Some(why) = unsupported_scheme(text) {
        return Err(format!("'{text}': {why}"));
    }
    let wrong = |why: String| format!("'{text}': {why}; {LISTEN_FORMS}");
    let authority = match text.strip_prefix("rtmp://") {
        Some(rest) => rest.split_once('/').map_or(rest, |(a, _)| a),
        None if text.contains('/') => {
            return Err(wrong("only rtmp:// URLs may have a path".into()))
        }
        None => text,
    };
    let bare_port = authority.strip_prefix(':').unwrap_or(authority);
    if !bare_port.is_empty() && bare_port.bytes().all(|b| b.is_ascii_digit()) {
        let port = bare_port
            .parse::<u16>()
            .map_err(|_| wrong(format!("port {bare_port} out of range (0-65535)")))?;
        return Ok((Ipv4Addr::LOCALHOST, port).into());
    }
    if authority.is_empty() {
        return Err(wrong("no address".into()));
    }
    let (host, port) = split_authority(authority).map_err(|e| wrong(e.to_string()))?;
    resolve(host, port.unwrap_or(1935)).map_err(|e| wrong(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_in_the_forms_users_type() {
        let local = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        for (text, addr) in [
            ("1935", local(1935)),
            (":1936", local(1936)),
            ("127.0.0.1:1937", local(1937)),
            ("[::1]:1938", "[::1]:1938".parse().unwrap()),
            ("rtmp://127.0.0.1:1939/", local(1939)),
            ("rtmp://127.0.0.1/", local(1935)),
            ("0.0.0.0:1940", "0.0.0.0:1940".parse().unwrap()),
        ] {
            assert_eq!(parse_listen(text), Ok(addr), "{text}");
        }
        assert!(parse_listen("localhost:1941").unwrap().ip().is_loopback());
        let error = parse_listen("rtmps://127.0.0.1:443/").unwrap_err();
        assert!(
            error.contains("rtmps:// (RTMP over TLS) is not supported yet"),
            "{error}"
        );
        let error = parse("RTMPS://example.com/live").unwrap_err().to_string();
        assert!(error.contains("is not supported yet"), "{error}");
        assert!(parse("rtmpt://example.com/live").is_err());
        for (text, said) in [
            ("70000", "'70000': port 70000 out of range"),
            ("127.0.0.1:99999", "port 99999 out of range (1-65535)"),
            ("127.0.0.1:http", "port 'http' is not a number"),
            ("nosuch.invalid:1935", "cannot resolve 'nosuch.invalid'"),
            ("http://x/", "only rtmp:// URLs may have a path"),
            ("", "no address"),
        ] {
            let error = parse_listen(text).unwrap_err();
            assert!(
                error.contains(said) && error.contains(LISTEN_FORMS),
                "{text}: {error}"
            );
        }
    }
}
