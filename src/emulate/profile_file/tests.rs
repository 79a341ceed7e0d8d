use super::*;
use crate::emulate::profile;

#[test]
fn every_built_in_profile_survives_a_round_trip() {
    for p in profile::all() {
        let text = to_toml(&p, &[]);
        let back = parse(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.name));
        assert_eq!(back, p, "{text}");
    }
}

#[test]
fn omitted_fields_take_the_defaults() {
    let p = parse("name = \"bare\"\n").unwrap();
    assert_eq!(
        p,
        Profile {
            name: "bare".into(),
            ..Profile::default()
        }
    );
}

fn error(text: &str) -> ProfileFileError {
    parse(text).expect_err("the file is wrong")
}

#[test]
fn errors_name_the_line_and_the_field() {
    let e = error("name = \"x\"\n\n[handshake]\nc1 = \"fancy\"\n");
    assert_eq!((e.line, e.field.as_str()), (Some(4), "handshake.c1"), "{e}");
    assert!(e.message.contains("fancy"), "{e}");

    let e = error("name = \"x\"\n[session]\ntcp_nodelay = true\nrole = \"watch\"\n");
    assert_eq!((e.line, e.field.as_str()), (Some(4), "session.role"), "{e}");

    let e = error("name = \"x\"\n[handshake]\nc1_verison = \"1.2.3.4\"\n");
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(3), "handshake.c1_verison")
    );
    assert!(e.message.contains("unknown field"), "{e}");

    let e = error("name = \"x\"\n[handshake]\nc1_version = \"9.0.124\"\n");
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(3), "handshake.c1_version")
    );
    assert!(e.message.contains("four numbers"), "{e}");

    let e = error("name = \"x\"\n[handshake]\nc1 = \"digest\"\nc1_body = \"zero\"\n");
    assert_eq!((e.line, e.field.as_str()), (Some(4), "handshake.c1_body"));

    let e = error("name = \"x\"\n[session]\nown_chunk_size = 4096\n");
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(3), "session.own_chunk_size")
    );

    let e = error("name = \"x\"\n[connect]\napp = \"{app}\"\ncodecs = [1, 2]\n");
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(4), "connect.codecs"),
        "{e}"
    );
    assert!(e.message.contains("arrays"), "{e}");

    let e = error("name = \"x\"\n[handshake]\nc0_version = 300\n");
    assert_eq!(
        (e.line, e.field.as_str()),
        (Some(3), "handshake.c0_version")
    );

    let e = error("description = \"no name\"\n");
    assert!(e.message.contains("missing field `name`"), "{e}");

    let e = error("name = \"x\"\n[handshake\n");
    assert_eq!(e.line, Some(2), "{e}");
}

/// A field of older files that said what a row says is refused, naming the row.
#[test]
fn a_removed_field_names_the_row_that_replaces_it() {
    for (text, line, field, row) in [
        (
            "[handshake]\nstrict_s0 = true",
            3,
            "handshake.strict_s0",
            "s0-version-not-3 = \"fail:handshake\"",
        ),
        (
            "[handshake]\ns2_check = \"warn\"",
            3,
            "handshake.s2_check",
            "s2-not-echo and s2-all-zero",
        ),
        (
            "[handshake]\nfirst_read_needs_s0_s1 = false",
            3,
            "handshake.first_read_needs_s0_s1",
            "s0-s1-s2-split-in-time",
        ),
        (
            "[handshake]\nserver_validation = \"ffmpeg-play\"",
            3,
            "handshake.server_validation",
            "s1-digest-invalid = \"fail:handshake\"",
        ),
        (
            "[session]\nrole = \"play\"\nstrict_stream_ids = true",
            4,
            "session.strict_stream_ids",
            "on-status-on-stream-0 = \"stall:publish\"",
        ),
        (
            "[session]\nzeroed_chunk_opening = true",
            3,
            "session.zeroed_chunk_opening",
            "chunk-stream-opened-type-1, -2 and -3 = \"accept\"",
        ),
    ] {
        let e = error(&format!("name = \"x\"\n{text}\n"));
        assert_eq!((e.line, e.field.as_str()), (Some(line), field), "{e}");
        assert!(
            e.message.starts_with("was removed: how the client reacts to a server is said once, in its [tolerance] rows")
                && e.message.contains(row),
            "{e}"
        );
    }
}

#[test]
fn the_error_message_reads_as_one_sentence() {
    let e = ProfileFileError {
        file: Some("p.toml".into()),
        ..error("name = \"x\"\n[handshake]\nc1 = \"fancy\"\n")
    };
    let text = e.to_string();
    assert!(
        text.starts_with(
            "profile file p.toml, line 3, field `handshake.c1`: unknown variant `fancy`"
        ),
        "{text}"
    );
}

#[test]
fn connect_fields_keep_their_order_and_placeholders_become_the_url() {
    let p = parse(
        "name = \"x\"\n[connect]\nswfUrl = \"{tcUrl}\"\napp = \"{app}\"\ncapabilities = 239\n\
         fpad = false\naudioCodecs = 3575.5\n",
    )
    .unwrap();
    let object = p.connect_object("live", "rtmp://h:1935/live");
    assert_eq!(
        object,
        Amf0Value::object([
            ("swfUrl", Amf0Value::string("rtmp://h:1935/live")),
            ("app", Amf0Value::string("live")),
            ("capabilities", Amf0Value::Number(239.0)),
            ("fpad", Amf0Value::Boolean(false)),
            ("audioCodecs", Amf0Value::Number(3575.5)),
        ])
    );
}
