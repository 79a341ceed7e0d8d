//! AMF0, the encoding of RTMP commands and metadata.
//!
//! Every marker from 0x00 to 0x10 decodes and encodes. The AMF3 switch marker (0x11) is kept as
//! [`Amf0Value::Avmplus`] with the rest of the input, since decoding AMF3 is not needed to
//! understand any session seen in practice. Decoding is defensive: a nesting limit keeps hostile
//! input from exhausting the stack, and no count field reserves memory beyond what the remaining
//! input could hold.
//!
//! A value prints (`Display`) and serializes (serde, JSON) in the transcript's words and form,
//! written once for both in `transcript::render::message` and `transcript::model::amf`: the
//! transcript carries this type, not a copy of it.
//!
//! One file past 600 lines: decoding and encoding are mirror images of the same 17 markers, and
//! the nesting and size limits they share must stay next to both.

use bytes::{BufMut, BytesMut};

/// Nesting limit used by [`decode`] and [`decode_all`].
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// One AMF0 value. Objects and ECMA arrays keep their keys in wire order, duplicates included,
/// because transcripts should show what the peer sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    Number(f64),
    Boolean(bool),
    String(String),
    Object(Vec<(String, Amf0Value)>),
    /// Marker 0x04, reserved; carries no data.
    MovieClip,
    Null,
    Undefined,
    /// A reference to an earlier complex value by index (0x07).
    Reference(u16),
    /// 0x08: the count the peer declared (often wrong) and the pairs actually present.
    EcmaArray {
        count_hint: u32,
        pairs: Vec<(String, Amf0Value)>,
    },
    StrictArray(Vec<Amf0Value>),
    Date {
        millis: f64,
        timezone: i16,
    },
    LongString(String),
    Unsupported,
    /// Marker 0x0E, reserved; carries no data.
    RecordSet,
    XmlDocument(String),
    TypedObject {
        class_name: String,
        properties: Vec<(String, Amf0Value)>,
    },
    /// The AMF3 switch marker (0x11) and the AMF3 bytes after it, undecoded.
    Avmplus(Vec<u8>),
}

impl Amf0Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) | Amf0Value::LongString(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The first value under `key` in an object, typed object or ECMA array.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        let pairs = match self {
            Amf0Value::Object(p) => p,
            Amf0Value::EcmaArray { pairs, .. } => pairs,
            Amf0Value::TypedObject { properties, .. } => properties,
            _ => return None,
        };
        pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Builds an object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Amf0Value)>) -> Self {
        Amf0Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn string(s: impl Into<String>) -> Self {
        Amf0Value::String(s.into())
    }
}

/// Why bytes are not valid AMF0; every variant says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Amf0Error {
    #[error("truncated {what} at offset {offset}: needs {needed} bytes, {left} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        left: usize,
    },
    #[error("unknown AMF0 marker 0x{marker:02x} at offset {offset}")]
    UnknownMarker { marker: u8, offset: usize },
    #[error("object end marker (0x09) at offset {offset} where a value was expected")]
    UnexpectedObjectEnd { offset: usize },
    #[error("nesting depth {depth} at offset {offset} exceeds the limit of {limit}")]
    TooDeep {
        depth: usize,
        offset: usize,
        limit: usize,
    },
    #[error("invalid UTF-8 in a string at offset {offset}")]
    InvalidUtf8 { offset: usize },
    #[error(
        "strict array at offset {offset} declares {count} elements but only {left} bytes follow"
    )]
    ImpossibleCount {
        count: u32,
        offset: usize,
        left: usize,
    },
}

/// Reads AMF0 values one after another from a byte slice.
pub struct Amf0Reader<'a> {
    data: &'a [u8],
    pos: usize,
    max_depth: usize,
}

/// Where the reader stands, without the bytes.
impl std::fmt::Debug for Amf0Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Amf0Reader")
            .field("pos", &self.pos)
            .field("len", &self.data.len())
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl<'a> Amf0Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Decodes the next value.
    pub fn read(&mut self) -> Result<Amf0Value, Amf0Error> {
        self.value(1)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Amf0Error> {
        let left = self.data.len() - self.pos;
        if n > left {
            return Err(Amf0Error::Truncated {
                what,
                offset: self.pos,
                needed: n,
                left,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, Amf0Error> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Amf0Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, Amf0Error> {
        let b = self.take(8, what)?;
        Ok(f64::from_be_bytes(b.try_into().expect("8 bytes")))
    }

    fn utf8(&mut self, len: usize, what: &'static str) -> Result<String, Amf0Error> {
        let offset = self.pos;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| Amf0Error::InvalidUtf8 { offset })
    }

    fn short_string(&mut self) -> Result<String, Amf0Error> {
        let len = self.u16("string length")? as usize;
        self.utf8(len, "string")
    }

    fn long_string(&mut self) -> Result<String, Amf0Error> {
        let len = self.u32("long string length")? as usize;
        self.utf8(len, "long string")
    }

    /// Key/value pairs up to the empty key and the object end marker.
    fn pairs(&mut self, depth: usize) -> Result<Vec<(String, Amf0Value)>, Amf0Error> {
        let mut pairs = Vec::new();
        loop {
            let key = self.short_string()?;
            if key.is_empty() && self.data.get(self.pos) == Some(&0x09) {
                self.pos += 1;
                return Ok(pairs);
            }
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
        }
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, Amf0Error> {
        if depth > self.max_depth {
            return Err(Amf0Error::TooDeep {
                depth,
                offset: self.pos,
                limit: self.max_depth,
            });
        }
        let offset = self.pos;
        let marker = self.take(1, "marker")?[0];
        Ok(match marker {
            0x00 => Amf0Value::Number(self.f64("number")?),
            0x01 => Amf0Value::Boolean(self.take(1, "boolean")?[0] != 0),
            0x02 => Amf0Value::String(self.short_string()?),
            0x03 => Amf0Value::Object(self.pairs(depth)?),
            0x04 => Amf0Value::MovieClip,
            0x05 => Amf0Value::Null,
            0x06 => Amf0Value::Undefined,
            0x07 => Amf0Value::Reference(self.u16("reference")?),
            0x08 => {
                let count_hint = self.u32("ECMA array count")?;
                Amf0Value::EcmaArray {
                    count_hint,
                    pairs: self.pairs(depth)?,
                }
            }
            0x09 => return Err(Amf0Error::UnexpectedObjectEnd { offset }),
            0x0A => {
                let count = self.u32("strict array count")?;
                let left = self.data.len() - self.pos;
                // Every element takes at least one byte: a larger count is a lie.
                if count as usize > left {
                    return Err(Amf0Error::ImpossibleCount {
                        count,
                        offset,
                        left,
                    });
                }
                let mut items = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Amf0Value::StrictArray(items)
            }
            0x0B => {
                let millis = self.f64("date")?;
                let tz = self.take(2, "date time zone")?;
                Amf0Value::Date {
                    millis,
                    timezone: i16::from_be_bytes([tz[0], tz[1]]),
                }
            }
            0x0C => Amf0Value::LongString(self.long_string()?),
            0x0D => Amf0Value::Unsupported,
            0x0E => Amf0Value::RecordSet,
            0x0F => Amf0Value::XmlDocument(self.long_string()?),
            0x10 => {
                let class_name = self.short_string()?;
                Amf0Value::TypedObject {
                    class_name,
                    properties: self.pairs(depth)?,
                }
            }
            0x11 => {
                let rest = self.data[self.pos..].to_vec();
                self.pos = self.data.len();
                Amf0Value::Avmplus(rest)
            }
            marker => return Err(Amf0Error::UnknownMarker { marker, offset }),
        })
    }
}

/// Decodes one value from the start of `data`.
pub fn decode(data: &[u8]) -> Result<Amf0Value, Amf0Error> {
    Amf0Reader::new(data).read()
}

/// Decodes values until `data` is used up.
pub fn decode_all(data: &[u8]) -> Result<Vec<Amf0Value>, Amf0Error> {
    let mut reader = Amf0Reader::new(data);
    let mut values = Vec::new();
    while !reader.is_empty() {
        values.push(reader.read()?);
    }
    Ok(values)
}

fn put_short_string(out: &mut BytesMut, s: &str) {
    // A key or short string longer than 65535 bytes cannot be represented; truncate at a char
    // boundary rather than emit a length that lies.
    let mut end = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.put_u16(end as u16);
    out.put_slice(&s.as_bytes()[..end]);
}

fn put_pairs(out: &mut BytesMut, pairs: &[(String, Amf0Value)]) {
    for (k, v) in pairs {
        put_short_string(out, k);
        encode(v, out);
    }
    out.put_slice(&[0, 0, 0x09]);
}

/// Appends the encoding of `value` to `out`.
pub fn encode(value: &Amf0Value, out: &mut BytesMut) {
    match value {
        Amf0Value::Number(n) => {
            out.put_u8(0x00);
            out.put_f64(*n);
        }
        Amf0Value::Boolean(b) => {
            out.put_u8(0x01);
            out.put_u8(*b as u8);
        }
        Amf0Value::String(s) if s.len() > u16::MAX as usize => {
            out.put_u8(0x0C);
            out.put_u32(s.len() as u32);
            out.put_slice(s.as_bytes());
        }
        Amf0Value::String(s) => {
            out.put_u8(0x02);
            put_short_string(out, s);
        }
        Amf0Value::Object(pairs) => {
            out.put_u8(0x03);
            put_pairs(out, pairs);
        }
        Amf0Value::MovieClip => out.put_u8(0x04),
        Amf0Value::Null => out.put_u8(0x05),
        Amf0Value::Undefined => out.put_u8(0x06),
        Amf0Value::Reference(r) => {
            out.put_u8(0x07);
            out.put_u16(*r);
        }
        Amf0Value::EcmaArray { count_hint, pairs } => {
            out.put_u8(0x08);
            out.put_u32(*count_hint);
            put_pairs(out, pairs);
        }
        Amf0Value::StrictArray(items) => {
            out.put_u8(0x0A);
            out.put_u32(items.len() as u32);
            for item in items {
                encode(item, out);
            }
        }
        Amf0Value::Date { millis, timezone } => {
            out.put_u8(0x0B);
            out.put_f64(*millis);
            out.put_i16(*timezone);
        }
        Amf0Value::LongString(s) => {
            out.put_u8(0x0C);
            out.put_u32(s.len() as u32);
            out.put_slice(s.as_bytes());
        }
        Amf0Value::Unsupported => out.put_u8(0x0D),
        Amf0Value::RecordSet => out.put_u8(0x0E),
        Amf0Value::XmlDocument(s) => {
            out.put_u8(0x0F);
            out.put_u32(s.len() as u32);
            out.put_slice(s.as_bytes());
        }
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => {
            out.put_u8(0x10);
            put_short_string(out, class_name);
            put_pairs(out, properties);
        }
        Amf0Value::Avmplus(rest) => {
            out.put_u8(0x11);
            out.put_slice(rest);
        }
    }
}

/// Appends the encodings of `values` to `out`.
pub fn encode_all(values: &[Amf0Value], out: &mut BytesMut) {
    for v in values {
        encode(v, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &Amf0Value) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(v, &mut out);
        out.to_vec()
    }

    #[test]
    fn spec_vectors() {
        assert_eq!(
            enc(&Amf0Value::Number(1.0)),
            [0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(enc(&Amf0Value::Boolean(true)), [1, 1]);
        assert_eq!(enc(&Amf0Value::string("app")), [2, 0, 3, b'a', b'p', b'p']);
        assert_eq!(
            enc(&Amf0Value::object([("a", Amf0Value::Null)])),
            [3, 0, 1, b'a', 5, 0, 0, 9]
        );
        assert_eq!(enc(&Amf0Value::Reference(258)), [7, 1, 2]);
        assert_eq!(
            enc(&Amf0Value::Date {
                millis: 0.0,
                timezone: -60
            }),
            [0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xc4]
        );
        // Every marker 0x00..=0x10 decodes from its encoding.
        let all = [
            Amf0Value::Number(2.5),
            Amf0Value::Boolean(false),
            Amf0Value::string("s"),
            Amf0Value::object([("k", Amf0Value::Number(1.0))]),
            Amf0Value::MovieClip,
            Amf0Value::Null,
            Amf0Value::Undefined,
            Amf0Value::Reference(1),
            Amf0Value::EcmaArray {
                count_hint: 7,
                pairs: vec![("duration".into(), Amf0Value::Number(0.0))],
            },
            Amf0Value::StrictArray(vec![Amf0Value::Null, Amf0Value::Number(3.0)]),
            Amf0Value::Date {
                millis: 1.5e12,
                timezone: 0,
            },
            Amf0Value::LongString("long".into()),
            Amf0Value::Unsupported,
            Amf0Value::RecordSet,
            Amf0Value::XmlDocument("<a/>".into()),
            Amf0Value::TypedObject {
                class_name: "C".into(),
                properties: vec![("x".into(), Amf0Value::Boolean(true))],
            },
        ];
        let mut out = BytesMut::new();
        encode_all(&all, &mut out);
        let markers: Vec<u8> = {
            let mut r = Amf0Reader::new(&out);
            let mut m = Vec::new();
            while !r.is_empty() {
                m.push(out[r.position()]);
                r.read().unwrap();
            }
            m
        };
        assert_eq!(
            markers,
            (0x00..=0x10).filter(|&m| m != 0x09).collect::<Vec<u8>>()
        );
        assert_eq!(decode_all(&out).unwrap(), all);
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(
            decode(&[2, 0, 12, b'a', b'b']).unwrap_err().to_string(),
            "truncated string at offset 3: needs 12 bytes, 2 left"
        );
        assert_eq!(
            decode(&[0x12]).unwrap_err(),
            Amf0Error::UnknownMarker {
                marker: 0x12,
                offset: 0
            }
        );
        assert_eq!(
            decode(&[9]).unwrap_err(),
            Amf0Error::UnexpectedObjectEnd { offset: 0 }
        );
        assert_eq!(
            decode(&[2, 0, 2, 0xff, 0xfe]).unwrap_err(),
            Amf0Error::InvalidUtf8 { offset: 3 }
        );
        // A strict array claiming four billion elements in a few bytes reserves nothing.
        assert!(matches!(
            decode(&[0x0A, 0xff, 0xff, 0xff, 0xff, 5]).unwrap_err(),
            Amf0Error::ImpossibleCount {
                count: u32::MAX,
                ..
            }
        ));
    }

    #[test]
    fn nesting_is_limited() {
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[0x0A, 0, 0, 0, 1]);
        }
        deep.push(5);
        assert!(matches!(
            decode(&deep).unwrap_err(),
            Amf0Error::TooDeep { limit: 64, .. }
        ));
        assert!(Amf0Reader::new(&deep).with_max_depth(200).read().is_ok());
    }

    #[test]
    fn amf3_switch_is_kept_and_reported() {
        let v = decode_all(&[2, 0, 1, b'x', 0x11, 0x0a, 0x0b, 0x01]).unwrap();
        assert_eq!(v[1], Amf0Value::Avmplus(vec![0x0a, 0x0b, 0x01]));
        assert_eq!(v[1].to_string(), "amf3(3 bytes)");
    }

    #[test]
    fn display_is_compact() {
        let v = Amf0Value::object([
            ("app", Amf0Value::string("live")),
            ("capabilities", Amf0Value::Number(15.0)),
            ("ratio", Amf0Value::Number(0.5)),
        ]);
        assert_eq!(
            v.to_string(),
            r#"{app: "live", capabilities: 15, ratio: 0.5}"#
        );
        assert_eq!(v.get("app").and_then(Amf0Value::as_str), Some("live"));
        assert_eq!(v.get("nope"), None);
    }

    fn value_strategy() -> impl Strategy<Value = Amf0Value> {
        let leaf = prop_oneof![
            any::<f64>()
                .prop_filter("NaN never equals itself", |n| !n.is_nan())
                .prop_map(Amf0Value::Number),
            any::<bool>().prop_map(Amf0Value::Boolean),
            ".{0,20}".prop_map(Amf0Value::String),
            Just(Amf0Value::Null),
            Just(Amf0Value::Undefined),
            Just(Amf0Value::MovieClip),
            Just(Amf0Value::Unsupported),
            Just(Amf0Value::RecordSet),
            any::<u16>().prop_map(Amf0Value::Reference),
            ".{0,20}".prop_map(Amf0Value::LongString),
            ".{0,20}".prop_map(Amf0Value::XmlDocument),
            (any::<i32>(), any::<i16>()).prop_map(|(m, timezone)| Amf0Value::Date {
                millis: m as f64,
                timezone
            }),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let pairs = proptest::collection::vec(("[a-z]{1,8}", inner.clone()), 0..5);
            prop_oneof![
                pairs.clone().prop_map(Amf0Value::Object),
                (any::<u32>(), pairs.clone())
                    .prop_map(|(count_hint, pairs)| Amf0Value::EcmaArray { count_hint, pairs }),
                proptest::collection::vec(inner, 0..5).prop_map(Amf0Value::StrictArray),
                ("[A-Za-z]{0,8}", pairs).prop_map(|(class_name, properties)| {
                    Amf0Value::TypedObject {
                        class_name,
                        properties,
                    }
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn encode_then_decode_gives_the_value_back(values in proptest::collection::vec(value_strategy(), 0..4)) {
            let mut out = BytesMut::new();
            encode_all(&values, &mut out);
            prop_assert_eq!(decode_all(&out).unwrap(), values);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_all(&bytes);
        }
    }
}
