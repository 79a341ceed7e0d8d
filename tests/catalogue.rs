//! The diagnostics catalogue from outside the crate. A mistyped id no longer compiles (an id is
//! a `DiagnosticId`, which only the catalogue makes), so what is left to check here is what a
//! reader of the output relies on: each id is written as its entry's string and read back from
//! it, and a string that is no id is refused by name.

use rtmp_probe::transcript::catalogue::{self, DiagnosticId};
use rtmp_probe::transcript::{Event, EventKind};

#[test]
fn every_id_reads_back_from_the_string_a_transcript_writes() {
    assert_eq!(DiagnosticId::ALL.len(), catalogue::entries().len());
    assert!(
        DiagnosticId::ALL.len() > 50,
        "the catalogue has dozens of ids"
    );
    for &id in DiagnosticId::ALL {
        let entry = id.entry();
        assert_eq!(entry.id, id);
        assert_eq!(catalogue::lookup(id.as_str()), Some(entry));
        let event = Event {
            at_us: 1,
            kind: EventKind::diagnostic(id, "x"),
        };
        let line = rtmp_probe::transcript::render::json_line(&event);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["id"], id.as_str(), "{line}");
        assert_eq!(value["severity"], entry.severity.to_string(), "{line}");
        assert_eq!(value["stage"], entry.stage.to_string(), "{line}");
        let back: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(back, event);
    }
}

#[test]
fn a_transcript_line_with_an_unknown_id_is_refused_naming_it() {
    let line = r#"{"at_us":5,"event":"diagnostic","id":"chunk.ext-ts-type3-omited","severity":"warning","text":"x"}"#;
    let err = serde_json::from_str::<Event>(line).unwrap_err().to_string();
    assert!(
        err.contains("unknown diagnostic id 'chunk.ext-ts-type3-omited'")
            && err.contains("chunk.ext-ts-type3-omitted"),
        "{err}"
    );
    let observation = r#"{"at_us":5,"event":"handshake","id":"hs.nosuch","observation":{"kind":"described","text":"x"}}"#;
    let err = serde_json::from_str::<Event>(observation)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown diagnostic id 'hs.nosuch'"), "{err}");
}
