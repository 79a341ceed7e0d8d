//! A profile derived from one captured client (`replay --export-profile`): what the capture
//! shows is copied, what it cannot show takes the lenient default and is said in a note.

use super::{closest_profile, ClientFacts};
use crate::emulate::profile::{
    connect_text, C0C1Writes, C2Timing, ClientHandshake, Profile, PublishSequence, Role, StopStyle,
    APP_PLACEHOLDER, TC_URL_PLACEHOLDER,
};
use crate::emulate::profile_file::to_toml_value;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::handshake::{C1Body, C1Style, C2Style};
use crate::replay::FlowReport;
use crate::transcript::DiagnosticId;

/// A derived profile and what the reader of its file should know about it.
#[derive(Debug, Clone)]
pub struct Derived {
    pub profile: Profile,
    pub notes: Vec<String>,
}

/// Derives the client profile of `flow`, a flow of the capture called `capture_name`.
pub fn derive(flow: &FlowReport, capture_name: &str) -> Result<Derived, String> {
    if !flow.rtmp {
        return Err(format!("flow {} is not RTMP", flow.id));
    }
    let facts = &ClientFacts::of(flow);
    let version = facts.c1_version.ok_or_else(|| {
        format!(
            "flow {}'s handshake is not complete in the capture, so there is no C1 and C2 to copy",
            flow.id
        )
    })?;
    let mut notes = vec![
        "how the client reacts to a server's deviations is not visible in a capture: with no \
         [tolerance] rows, every class takes the specification's strict reading"
            .to_string(),
    ];
    let default = Profile::default();

    let c0c1 = facts
        .c0c1_apart()
        .map_or(C0C1Writes::Together, C0C1Writes::Apart);
    let time = facts.c1_time.unwrap_or(0);
    let c1 = match facts.c1_digest_layout {
        Some(layout) => C1Style::Digest {
            time,
            version,
            layout,
        },
        None => C1Style::Simple {
            time,
            version,
            body: if facts.c1_zero_body {
                C1Body::Zero
            } else {
                C1Body::Random
            },
        },
    };
    let c2 = facts.c2_style().unwrap_or_else(|| {
        notes.push(format!(
            "C2 was {}, which no emulator C2 reproduces; an echo of S1 is sent",
            facts.c2.map_or("not seen", DiagnosticId::as_str)
        ));
        C2Style::EchoS1
    });
    let c2_timing = if facts.c2_with_connect == Some(true) {
        C2Timing::WithConnect
    } else if facts.c2_before_s2 == Some(true) {
        C2Timing::AfterS1
    } else {
        C2Timing::AfterS2
    };

    let role = if facts.has_command("play") {
        Role::Play
    } else {
        let sequence = facts.publish_sequence();
        if !facts.has_command("publish") {
            notes.push(
                "the client neither published nor played in the capture; publishing is assumed"
                    .into(),
            );
        }
        let stop = facts.stop_seen().unwrap_or_else(|| {
            let assumed = match sequence {
                PublishSequence::Fmle => StopStyle::FcUnpublishDeleteStream,
                PublishSequence::Flash => StopStyle::DeleteStream,
            };
            notes.push(format!(
                "the capture shows no stop; {} is assumed",
                stop_words(assumed)
            ));
            assumed
        });
        Role::Publish { sequence, stop }
    };

    let nodelay = match facts.nodelay() {
        Some(nodelay) => {
            notes.push(
                "tcp_nodelay: C2 shared a segment with connect (one write, or Nagle holding C2 \
                 back), taken as Nagle on"
                    .into(),
            );
            nodelay
        }
        None => {
            notes.push(
                "tcp_nodelay: the segments do not tell (C2 and connect apart is what both \
                 settings give on a fast link); Nagle on, the system default, is assumed"
                    .into(),
            );
            false
        }
    };

    let connect = if facts.connect.is_empty() {
        notes.push("no connect in the capture; the default connect fields are sent".into());
        default.connect.clone()
    } else {
        connect_fields(&facts.connect, &mut notes)
    };

    let closest = closest_profile(facts)
        .map(|c| {
            let build = c.build.map(|b| format!(", {b}")).unwrap_or_default();
            format!(
                "; closest built-in profile: {} ({} of {} traits{build})",
                c.name, c.matching, c.total
            )
        })
        .unwrap_or_default();
    let stem = std::path::Path::new(capture_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| capture_name.to_string());
    Ok(Derived {
        profile: Profile {
            name: format!("{stem}-flow-{}", flow.id),
            description: format!(
                "The client of flow {} ({} -> {}) in {capture_name}, as rtmp-probe replay \
                 --export-profile saw it{closest}.",
                flow.id, flow.client, flow.server
            ),
            source: format!("capture {capture_name}, flow {}", flow.id),
            handshake: ClientHandshake {
                c0_version: facts.c0_version.unwrap_or(3),
                c1,
                c2,
            },
            c0c1,
            c2_timing,
            role,
            connect,
            echo_chunk_size: facts.echo_chunk_size,
            nodelay,
            answer_peer_bandwidth: facts.answer_peer_bandwidth,
            own_chunk_size: facts.own_chunk_size(),
            ..default
        },
        notes,
    })
}

fn stop_words(stop: StopStyle) -> &'static str {
    match stop {
        StopStyle::FcUnpublishDeleteStream => "FCUnpublish then deleteStream",
        StopStyle::EmptyPublish => "a publish with an empty name",
        StopStyle::DeleteStream => "deleteStream",
    }
}

/// The captured connect fields with the URL's parts as placeholders, less what TOML cannot hold.
fn connect_fields(
    captured: &[(String, Amf0Value)],
    notes: &mut Vec<String>,
) -> Vec<(String, Amf0Value)> {
    let tc_url = connect_text(captured, "tcUrl");
    let mut out = Vec::new();
    for (key, value) in captured {
        let text = value.as_str();
        let value = if key == "app" {
            Amf0Value::string(APP_PLACEHOLDER)
        } else if key == "tcUrl" || (text.is_some() && text == tc_url) {
            // swfUrl is often the tcUrl again (OBS): it follows the URL too.
            Amf0Value::string(TC_URL_PLACEHOLDER)
        } else {
            value.clone()
        };
        if to_toml_value(&value).is_none() {
            notes.push(format!(
                "connect field {key} was {value} in the capture, which a TOML file cannot hold; left out"
            ));
            continue;
        }
        out.push((key.clone(), value));
    }
    if connect_text(captured, "app").is_none() {
        notes.push("the captured connect had no app".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use crate::protocol::handshake::DigestLayout;

    /// The flows of `captures/<name>`, one of the project's own (committed) captures.
    fn flows(name: &str) -> Vec<FlowReport> {
        let file = std::fs::File::open(crate::test_capture::path(name)).unwrap();
        let (flows, error) = crate::replay::replay(CaptureReader::new(file).unwrap(), |_| {});
        assert!(error.is_none(), "{error:?}");
        flows
    }

    #[test]
    fn the_projects_own_ffmpeg_capture_gives_an_ffmpeg_like_profile() {
        let flows = flows("ffmpeg-publish-to-nginx.pcap");
        let d = derive(&flows[0], "captures/ffmpeg-publish-to-nginx.pcap").unwrap();
        let p = &d.profile;
        assert_eq!(p.name, "ffmpeg-publish-to-nginx-flow-1");
        assert_eq!(
            p.handshake.c1,
            C1Style::Digest {
                time: 0,
                version: [9, 0, 124, 2],
                layout: DigestLayout::Base8
            }
        );
        assert_eq!(p.handshake.c2, C2Style::EchoS1);
        assert_eq!(p.c2_timing, C2Timing::AfterS2);
        assert_eq!(p.c0c1, C0C1Writes::Together);
        assert!(p.echo_chunk_size);
        assert_eq!(p.own_chunk_size, None);
        assert_eq!(
            p.role,
            Role::Publish {
                sequence: PublishSequence::Fmle,
                stop: StopStyle::FcUnpublishDeleteStream
            }
        );
        assert_eq!(p.flash_ver(), Some("FMLE/3.0 (compatible; Lavf59.27.100)"));
        // The built-in ffmpeg profile was written from the same client: the behaviour matches.
        let builtin = crate::emulate::profile::by_name("ffmpeg").unwrap();
        assert_eq!(p.connect, builtin.connect);
        assert_eq!(p.handshake, builtin.handshake);
        assert_eq!(p.nodelay, builtin.nodelay);
    }

    #[test]
    fn a_flow_without_a_handshake_cannot_give_a_profile() {
        let flows = flows("ffmpeg-publish-to-nginx.pcap");
        let mut flow = flows.into_iter().next().unwrap();
        flow.client_wire.c1_version = None;
        let e = derive(&flow, "x.pcap").unwrap_err();
        assert!(e.contains("handshake is not complete"), "{e}");
        flow.rtmp = false;
        assert_eq!(derive(&flow, "x.pcap").unwrap_err(), "flow 1 is not RTMP");
    }
}
