use super::*;
use crate::deviation::{every, toward};

#[test]
fn a_file_with_a_name_only_is_the_reference_server() {
    let p = parse("name = \"bare\"\n").unwrap();
    let reference = super::super::personality::by_name("reference").unwrap();
    let same = Personality {
        name: reference.name,
        description: reference.description,
        source: reference.source,
        exercises: reference.exercises,
        ..p.clone()
    };
    assert_eq!(format!("{same:?}"), format!("{reference:?}"));
    assert!(p.exercises.is_empty());
}

#[test]
fn every_field_reads_as_written() {
    let p = parse(
        r#"name = "all"
description = "d"
source = "s"
exercises = ["s0-s1-s2-split-in-time", "s2-all-zero toward simple-c1"]

[handshake]
first_write = "after-c0"
write_groups = [["S0"], ["S1"], ["S2"]]
group_pauses_us = [1760, 24]
s2_after_c2 = true
tcp_nodelay = false
c2_check = "strict"
s0_version = 6
digest = "simple-only"
s1_time = 7
s1_echo_c1_time = true
digest_version = "1.2.3.4"
simple_s1 = "random-with-version"
simple_s1_version = "13.14.10.13"
simple_s2 = "zero"

[chunks]
opening = "type-2"
opening_csid = 3
timestamp_offset = 1073741824
full_headers = true
type3_extended_timestamp = "omit"

[replies]
chunk_size = 128
chunk_size_after_result = true
release_and_fc_publish = "nothing"
connect_result = "extra-fields"
abort_after_connect = 9
strict_ack_window = 512
publish_answer = "no-status"
play_answer = "stream-not-found"
"#,
    )
    .unwrap();
    assert_eq!((p.name, p.description, p.source), ("all", "d", "s"));
    assert_eq!(
        p.exercises,
        [
            every(Deviation::S0S1S2SplitInTime),
            toward(Deviation::S2AllZero, Toward::SimpleC1)
        ]
    );
    assert_eq!(
        p.handshake,
        ServerConfig {
            s0_version: 6,
            digest: ServerDigest::SimpleOnly,
            time: 7,
            s1_echo_c1_time: true,
            digest_version: [1, 2, 3, 4],
            simple_s1: SimpleS1Body::RandomWithVersion([13, 14, 10, 13]),
            simple_s2: SimpleS2Style::Zero,
        }
    );
    assert_eq!(p.first_write, FirstWrite::AfterC0);
    assert_eq!(
        p.write_groups,
        [&[Packet::S0][..], &[Packet::S1][..], &[Packet::S2][..]]
    );
    assert_eq!(
        p.group_pauses,
        [Duration::from_micros(1760), Duration::from_micros(24)]
    );
    assert!(p.s2_after_c2 && !p.nodelay);
    assert_eq!(p.c2_check, C2Check::Strict);
    assert_eq!(p.chunk_opening, ChunkOpening::Type2On(3));
    assert_eq!(
        p.chunk_timestamps,
        ChunkTimestamps {
            offset: 0x4000_0000,
            full_headers: true,
            type3: ExtendedTimestampConvention::Omit,
        }
    );
    assert_eq!(
        p.replies,
        Replies {
            chunk_size: Some(128),
            chunk_size_after_result: true,
            release_and_fc_publish: CommandAnswer::Nothing,
            connect_result: ConnectResultShape::ExtraFields,
            abort_after_connect: Some(9),
            strict_ack_window: Some(512),
            publish_answer: PublishAnswer::NoStatus,
            play_answer: PlayAnswer::StreamNotFound,
        }
    );
}

/// README's "Personality files" example is every field with the reference's value.
#[test]
fn the_readme_example_is_the_reference_server() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme
        .find("### Personality files")
        .expect("README has the section")..];
    let start = section.find("```toml\n").expect("an example") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let p = parse(example).unwrap_or_else(|e| panic!("{e}\n{example}"));
    let reference = super::super::personality::by_name("reference").unwrap();
    let same = Personality {
        name: reference.name,
        description: reference.description,
        source: reference.source,
        exercises: reference.exercises,
        ..p
    };
    assert_eq!(format!("{same:?}"), format!("{reference:?}"));
    // Uncommented, the optional fields parse too.
    let all = example
        .replace("# simple_s1_version", "simple_s1_version")
        .replace(
            "simple_s1 = \"random\"",
            "simple_s1 = \"random-with-version\"",
        )
        .replace("# opening_csid", "opening_csid")
        .replace("opening = \"type-0\"", "opening = \"type-2\"")
        .replace("# chunk_size", "chunk_size")
        .replace("# abort_after_connect", "abort_after_connect")
        .replace("# strict_ack_window", "strict_ack_window");
    let p = parse(&all).unwrap_or_else(|e| panic!("{e}\n{all}"));
    assert_eq!(p.chunk_opening, ChunkOpening::Type2On(3));
    assert_eq!(p.replies.strict_ack_window, Some(512));
}

fn error(text: &str) -> FileError {
    parse(text).expect_err("the file is wrong")
}

#[test]
fn errors_name_the_line_and_the_field() {
    for (text, line, field, says) in [
        (
            "name = \"x\"\n[handshake]\nfirst_write = \"later\"\n",
            3,
            "handshake.first_write",
            "unknown variant `later`",
        ),
        (
            "name = \"x\"\n[handshake]\nwrite_groups = [[\"S0\", \"S2\"], [\"S1\"]]\n",
            3,
            "handshake.write_groups",
            "in that order",
        ),
        (
            "name = \"x\"\n[handshake]\nwrite_groups = [[\"S0\", \"S1\", \"C2\"]]\n",
            3,
            "handshake.write_groups",
            "S0, S1 and S2 once each",
        ),
        (
            "name = \"x\"\n[handshake]\ngroup_pauses_us = [5]\n",
            3,
            "handshake.group_pauses_us",
            "1 pauses for 1 write groups",
        ),
        (
            "name = \"x\"\n[handshake]\ndigest_version = \"1.2\"\n",
            3,
            "handshake.digest_version",
            "four numbers",
        ),
        (
            "name = \"x\"\n[handshake]\nsimple_s1 = \"random-with-version\"\n",
            3,
            "handshake.simple_s1",
            "needs simple_s1_version",
        ),
        (
            "name = \"x\"\n[handshake]\nsimple_s1_version = \"1.2.3.4\"\n",
            3,
            "handshake.simple_s1_version",
            "applies only",
        ),
        (
            "name = \"x\"\n[handshake]\ns0_version = 300\n",
            3,
            "handshake.s0_version",
            "300",
        ),
        (
            "name = \"x\"\n\n[chunks]\nopening = \"type-3\"\n",
            4,
            "chunks.opening",
            "need opening_csid",
        ),
        (
            "name = \"x\"\n[chunks]\nopening = \"type-1\"\nopening_csid = 3\n",
            4,
            "chunks.opening_csid",
            "applies only",
        ),
        (
            "name = \"x\"\n[replies]\nabort_after_connect = 1\n",
            3,
            "replies.abort_after_connect",
            "not a chunk stream id",
        ),
        (
            "name = \"x\"\n[replies]\nchunk_size = 0\n",
            3,
            "replies.chunk_size",
            "between 1 and",
        ),
        (
            "name = \"x\"\n[replies]\nplay_anwser = \"no-status\"\n",
            3,
            "replies.play_anwser",
            "unknown field",
        ),
        (
            "name = \"x\"\nexercises = [\"s2-all-zero toward everyone\"]\n",
            2,
            "exercises",
            "entry 1 \"s2-all-zero toward everyone\": \"everyone\" is not a kind of client",
        ),
        (
            "name = \"x\"\nexercises = [\"s2-all-zero\", \"s2-all-zeros\"]\n",
            2,
            "exercises",
            "entry 2 \"s2-all-zeros\": \"s2-all-zeros\" is not a deviation class",
        ),
    ] {
        let e = error(text);
        assert_eq!((e.line, e.field.as_str()), (Some(line), field), "{e}");
        assert!(e.message.contains(says), "{e}");
        assert!(e.to_string().starts_with("personality file, line"), "{e}");
    }
    assert!(error("description = \"no name\"\n")
        .message
        .contains("missing field `name`"));
}
