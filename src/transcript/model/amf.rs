//! AMF0 values as the transcript carries them: plain JSON where JSON has the type (numbers,
//! booleans, strings, null, objects in their order, strict arrays), and an object tagged
//! `"$amf0"` for what JSON lacks (undefined, ECMA arrays with their declared count, dates,
//! references, typed objects, XML, the reserved markers, AMF3 bytes, non-finite numbers).

use crate::protocol::amf0::Amf0Value;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The tag of the values JSON has no type for.
const TAG: &str = "$amf0";

/// An AMF0 value (long strings are strings; the wire marker is not kept).
#[derive(Debug, Clone, PartialEq)]
pub enum AmfValue {
    Number(f64),
    Boolean(bool),
    String(String),
    Object(Vec<(String, AmfValue)>),
    Null,
    Undefined,
    MovieClip,
    Reference(u16),
    EcmaArray {
        count_hint: u32,
        pairs: Vec<(String, AmfValue)>,
    },
    StrictArray(Vec<AmfValue>),
    Date {
        millis: f64,
        timezone: i16,
    },
    Unsupported,
    RecordSet,
    Xml(String),
    TypedObject {
        class_name: String,
        properties: Vec<(String, AmfValue)>,
    },
    /// The AMF3 switch marker and this many bytes after it, undecoded.
    Amf3 {
        len: usize,
    },
}

fn pairs(p: &[(String, Amf0Value)]) -> Vec<(String, AmfValue)> {
    p.iter().map(|(k, v)| (k.clone(), v.into())).collect()
}

impl From<&Amf0Value> for AmfValue {
    fn from(v: &Amf0Value) -> Self {
        match v {
            Amf0Value::Number(n) => Self::Number(*n),
            Amf0Value::Boolean(b) => Self::Boolean(*b),
            Amf0Value::String(s) | Amf0Value::LongString(s) => Self::String(s.clone()),
            Amf0Value::Object(p) => Self::Object(pairs(p)),
            Amf0Value::MovieClip => Self::MovieClip,
            Amf0Value::Null => Self::Null,
            Amf0Value::Undefined => Self::Undefined,
            Amf0Value::Reference(r) => Self::Reference(*r),
            Amf0Value::EcmaArray {
                count_hint,
                pairs: p,
            } => Self::EcmaArray {
                count_hint: *count_hint,
                pairs: pairs(p),
            },
            Amf0Value::StrictArray(items) => {
                Self::StrictArray(items.iter().map(Into::into).collect())
            }
            Amf0Value::Date { millis, timezone } => Self::Date {
                millis: *millis,
                timezone: *timezone,
            },
            Amf0Value::Unsupported => Self::Unsupported,
            Amf0Value::RecordSet => Self::RecordSet,
            Amf0Value::XmlDocument(s) => Self::Xml(s.clone()),
            Amf0Value::TypedObject {
                class_name,
                properties,
            } => Self::TypedObject {
                class_name: class_name.clone(),
                properties: pairs(properties),
            },
            Amf0Value::Avmplus(rest) => Self::Amf3 { len: rest.len() },
        }
    }
}

impl AmfValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

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
struct Pairs<'a>(&'a [(String, AmfValue)]);

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

impl Serialize for AmfValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) if n.is_finite() => serialize_number(*n, s),
            Self::Number(n) => tagged(s, "number", |m| m.serialize_entry("value", &n.to_string())),
            Self::Boolean(b) => s.serialize_bool(*b),
            Self::String(v) => s.serialize_str(v),
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
            Self::Xml(text) => tagged(s, "xml", |m| m.serialize_entry("value", text)),
            Self::TypedObject {
                class_name,
                properties,
            } => tagged(s, "typed_object", |m| {
                m.serialize_entry("class", class_name)?;
                m.serialize_entry("properties", &Pairs(properties))
            }),
            Self::Amf3 { len } => tagged(s, "amf3", |m| m.serialize_entry("len", len)),
        }
    }
}

impl<'de> Deserialize<'de> for AmfValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmfVisitor)
    }
}

struct AmfVisitor;

impl<'de> Visitor<'de> for AmfVisitor {
    type Value = AmfValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AMF0 value as JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<AmfValue, E> {
        Ok(AmfValue::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<AmfValue, E> {
        Ok(AmfValue::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<AmfValue, E> {
        Ok(AmfValue::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<AmfValue, E> {
        Ok(AmfValue::Number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<AmfValue, E> {
        Ok(AmfValue::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<AmfValue, E> {
        Ok(AmfValue::String(v))
    }
    fn visit_unit<E>(self) -> Result<AmfValue, E> {
        Ok(AmfValue::Null)
    }
    fn visit_none<E>(self) -> Result<AmfValue, E> {
        Ok(AmfValue::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AmfValue, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(AmfValue::StrictArray(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AmfValue, A::Error> {
        let mut entries: Vec<(String, AmfValue)> = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        let tag = match entries.first() {
            Some((k, AmfValue::String(tag))) if k == TAG => tag.clone(),
            _ => return Ok(AmfValue::Object(entries)),
        };
        from_tagged(&tag, &entries[1..]).map_err(de::Error::custom)
    }
}

/// A `"$amf0"`-tagged object's value.
fn from_tagged(tag: &str, fields: &[(String, AmfValue)]) -> Result<AmfValue, String> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("AMF0 {tag} without {name}"))
    };
    let number = |name: &str| match field(name)? {
        AmfValue::Number(n) => Ok(*n),
        other => Err(format!("AMF0 {tag}: {name} is {other:?}, not a number")),
    };
    let string = |name: &str| match field(name)? {
        AmfValue::String(s) => Ok(s.clone()),
        other => Err(format!("AMF0 {tag}: {name} is {other:?}, not a string")),
    };
    let object = |name: &str| match field(name)? {
        AmfValue::Object(p) => Ok(p.clone()),
        other => Err(format!("AMF0 {tag}: {name} is {other:?}, not an object")),
    };
    Ok(match tag {
        "number" => AmfValue::Number(
            string("value")?
                .parse()
                .map_err(|e| format!("AMF0 number: {e}"))?,
        ),
        "undefined" => AmfValue::Undefined,
        "movieclip" => AmfValue::MovieClip,
        "unsupported" => AmfValue::Unsupported,
        "recordset" => AmfValue::RecordSet,
        "reference" => AmfValue::Reference(number("index")? as u16),
        "ecma_array" => AmfValue::EcmaArray {
            count_hint: number("count_hint")? as u32,
            pairs: object("pairs")?,
        },
        "date" => AmfValue::Date {
            millis: number("millis")?,
            timezone: number("timezone")? as i16,
        },
        "xml" => AmfValue::Xml(string("value")?),
        "typed_object" => AmfValue::TypedObject {
            class_name: string("class")?,
            properties: object("properties")?,
        },
        "amf3" => AmfValue::Amf3 {
            len: number("len")? as usize,
        },
        other => return Err(format!("unknown AMF0 tag {other:?}")),
    })
}
