//! AMF0 values as the transcript writes them: the protocol's own [`Amf0Value`], serialized as
//! plain JSON where JSON has the type (numbers, booleans, strings, null, objects in their
//! order, strict arrays), and as an object tagged `"$amf0"` for what JSON lacks (undefined, ECMA
//! arrays with their declared count, dates, references, typed objects, XML, the reserved
//! markers, AMF3 bytes, non-finite numbers).
//!
//! Two things the wire has are not kept: a long string is written as a string (it reads back
//! as a [`Amf0Value::String`]), and AMF3 bytes as their length (they read back as that many
//! zero bytes, which print the same). The form is the transcript's, so it is written here,
//! beside the rest of the transcript's JSON, rather than in the sans-IO core.

use crate::protocol::amf0::Amf0Value;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The tag of the values JSON has no type for.
const TAG: &str = "$amf0";

/// The most AMF3 bytes a JSON line may claim: a message is at most 2^24 - 1 bytes.
const MAX_AMF3_LEN: usize = 0xFF_FFFF;

/// A number as JSON has it: an integer when it is one (`1`, not `1.0`).
fn serialize_number<S: Serializer>(n: f64, s: S) -> Result<S::Ok, S::Error> {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        s.serialize_i64(n as i64)
    } else {
        s.serialize_f64(n)
    }
}

struct Number(f64);

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_number(self.0, s)
    }
}

/// Pairs as a JSON object, in their order.
struct Pairs<'a>(&'a [(String, Amf0Value)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A `"$amf0"`-tagged object: the tag, then what `fields` writes.
fn tagged<S: Serializer>(
    s: S,
    tag: &str,
    fields: impl FnOnce(&mut S::SerializeMap) -> Result<(), S::Error>,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    map.serialize_entry(TAG, tag)?;
    fields(&mut map)?;
    map.end()
}

impl Serialize for Amf0Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) if n.is_finite() => serialize_number(*n, s),
            Self::Number(n) => tagged(s, "number", |m| m.serialize_entry("value", &n.to_string())),
            Self::Boolean(b) => s.serialize_bool(*b),
            Self::String(v) | Self::LongString(v) => s.serialize_str(v),
            Self::Object(p) => Pairs(p).serialize(s),
            Self::Null => s.serialize_unit(),
            Self::Undefined => tagged(s, "undefined", |_| Ok(())),
            Self::MovieClip => tagged(s, "movieclip", |_| Ok(())),
            Self::Unsupported => tagged(s, "unsupported", |_| Ok(())),
            Self::RecordSet => tagged(s, "recordset", |_| Ok(())),
            Self::Reference(r) => tagged(s, "reference", |m| m.serialize_entry("index", r)),
            Self::EcmaArray { count_hint, pairs } => tagged(s, "ecma_array", |m| {
                m.serialize_entry("count_hint", count_hint)?;
                m.serialize_entry("pairs", &Pairs(pairs))
            }),
            Self::StrictArray(items) => items.serialize(s),
            Self::Date { millis, timezone } => tagged(s, "date", |m| {
                m.serialize_entry("millis", &Number(*millis))?;
                m.serialize_entry("timezone", timezone)
            }),
            Self::XmlDocument(text) => tagged(s, "xml", |m| m.serialize_entry("value", text)),
            Self::TypedObject {
                class_name,
                properties,
            } => tagged(s, "typed_object", |m| {
                m.serialize_entry("class", class_name)?;
                m.serialize_entry("properties", &Pairs(properties))
            }),
            Self::Avmplus(bytes) => tagged(s, "amf3", |m| m.serialize_entry("len", &bytes.len())),
        }
    }
}

impl<'de> Deserialize<'de> for Amf0Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmfVisitor)
    }
}

struct AmfVisitor;

impl<'de> Visitor<'de> for AmfVisitor {
    type Value = Amf0Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AMF0 value as JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Amf0Value, E> {
        Ok(Amf0Value::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Amf0Value, E> {
        Ok(Amf0Value::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Amf0Value, E> {
        Ok(Amf0Value::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Amf0Value, E> {
        Ok(Amf0Value::Number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Amf0Value, E> {
        Ok(Amf0Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Amf0Value, E> {
        Ok(Amf0Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Amf0Value, E> {
        Ok(Amf0Value::Null)
    }
    fn visit_none<E>(self) -> Result<Amf0Value, E> {
        Ok(Amf0Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Amf0Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Amf0Value::StrictArray(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Amf0Value, A::Error> {
        let mut entries: Vec<(String, Amf0Value)> = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        let tag = match entries.first() {
            Some((k, Amf0Value::String(tag))) if k == TAG => tag.clone(),
            _ => return Ok(Amf0Value::Object(entries)),
        };
        from_tagged(&tag, &entries[1..]).map_err(de::Error::custom)
    }
}

/// A `"$amf0"`-tagged object's value.
fn from_tagged(tag: &str, fields: &[(String, Amf0Value)]) -> Result<Amf0Value, String> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("AMF0 {tag} without {name}"))
    };
    let number = |name: &str| match field(name)? {
        Amf0Value::Number(n) => Ok(*n),
        other => Err(format!("AMF0 {tag}: {name} is {other:?}, not a number")),
    };
    let string = |name: &str| match field(name)? {
        Amf0Value::String(s) => Ok(s.clone()),
        other => Err(format!("AMF0 {tag}: {name} is {other:?}, not a string")),
    };
    let object = |name: &str| match field(name)? {
        Amf0Value::Object(p) => Ok(p.clone()),
        other => Err(format!("AMF0 {tag}: {name} is {other:?}, not an object")),
    };
    Ok(match tag {
        "number" => Amf0Value::Number(
            string("value")?
                .parse()
                .map_err(|e| format!("AMF0 number: {e}"))?,
        ),
        "undefined" => Amf0Value::Undefined,
        "movieclip" => Amf0Value::MovieClip,
        "unsupported" => Amf0Value::Unsupported,
        "recordset" => Amf0Value::RecordSet,
        "reference" => Amf0Value::Reference(number("index")? as u16),
        "ecma_array" => Amf0Value::EcmaArray {
            count_hint: number("count_hint")? as u32,
            pairs: object("pairs")?,
        },
        "date" => Amf0Value::Date {
            millis: number("millis")?,
            timezone: number("timezone")? as i16,
        },
        "xml" => Amf0Value::XmlDocument(string("value")?),
        "typed_object" => Amf0Value::TypedObject {
            class_name: string("class")?,
            properties: object("properties")?,
        },
        "amf3" => {
            let len = number("len")?;
            if !(0.0..=MAX_AMF3_LEN as f64).contains(&len) {
                return Err(format!(
                    "AMF0 amf3: len {len} is not a message's length (0 to {MAX_AMF3_LEN})"
                ));
            }
            Amf0Value::Avmplus(vec![0; len as usize])
        }
        other => return Err(format!("unknown AMF0 tag {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &Amf0Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn a_value_reads_back_as_written_but_for_what_json_does_not_keep() {
        let kept = Amf0Value::Object(vec![
            ("n".into(), Amf0Value::Number(f64::INFINITY)),
            (
                "e".into(),
                Amf0Value::EcmaArray {
                    count_hint: 9,
                    pairs: vec![("a".into(), Amf0Value::Undefined)],
                },
            ),
            ("x".into(), Amf0Value::XmlDocument("<a/>".into())),
        ]);
        let back: Amf0Value = serde_json::from_str(&json(&kept)).unwrap();
        assert_eq!(back, kept);
        // A long string is a string in JSON; AMF3 bytes are their length.
        let long = Amf0Value::LongString("l".into());
        assert_eq!(json(&long), "\"l\"");
        assert_eq!(
            serde_json::from_str::<Amf0Value>(&json(&long)).unwrap(),
            Amf0Value::String("l".into())
        );
        let amf3 = Amf0Value::Avmplus(vec![7, 8, 9]);
        assert_eq!(json(&amf3), r#"{"$amf0":"amf3","len":3}"#);
        let back: Amf0Value = serde_json::from_str(&json(&amf3)).unwrap();
        assert_eq!(back, Amf0Value::Avmplus(vec![0; 3]));
        assert_eq!(back.to_string(), amf3.to_string());
    }

    #[test]
    fn an_amf3_length_no_message_can_have_is_refused() {
        for len in ["16777216", "1e15", "-1"] {
            let line = format!(r#"{{"$amf0":"amf3","len":{len}}}"#);
            let err = serde_json::from_str::<Amf0Value>(&line)
                .unwrap_err()
                .to_string();
            assert!(err.contains("is not a message's length"), "{len}: {err}");
        }
    }
}
