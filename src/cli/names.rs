//! The names a user types: profiles, personalities, variants, case ids and catalogue ids.
//! Shells complete them (each flag's value parser offers them to clap_complete, without
//! listing them in `--help`), and a name that is none of them is answered with the closest
//! ones, as `explain` answers a mistyped id.

use super::exit::UsageError;
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use rtmp_probe::emulate::{profile, variant::Variant};
use rtmp_probe::serve::personality;
use rtmp_probe::transcript::DiagnosticId;

/// A value parser that takes any string (the command checks it, to say what was meant) and
/// offers `names()` for completion.
#[derive(Clone, Copy)]
pub struct Names(fn() -> Vec<String>);

impl TypedValueParser for Names {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.0)().into_iter().map(PossibleValue::new)))
    }
}

pub fn profiles() -> Names {
    Names(|| profile::all().into_iter().map(|p| p.name).collect())
}

pub fn personalities() -> Names {
    Names(|| {
        personality::all()
            .iter()
            .map(|p| p.name.to_string())
            .collect()
    })
}

pub fn variants() -> Names {
    Names(|| Variant::ALL.iter().map(|v| v.name().to_string()).collect())
}

/// Every case id of the full matrix, `PROFILE/VARIANT`.
pub fn cases() -> Names {
    Names(|| {
        profile::all()
            .into_iter()
            .flat_map(|p| Variant::ALL.iter().map(move |v| format!("{}/{v}", p.name)))
            .collect()
    })
}

pub fn catalogue_ids() -> Names {
    Names(|| {
        DiagnosticId::ALL
            .iter()
            .map(|id| id.as_str().to_string())
            .collect()
    })
}

/// The names closest to `typed` (at most three), best first: those most alike by edit
/// distance, and those that contain what was typed.
pub fn closest<'a>(typed: &str, names: &'a [String]) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = names
        .iter()
        .map(|name| {
            let score = strsim::normalized_damerau_levenshtein(typed, name);
            (score, name.as_str())
        })
        .filter(|(score, name)| *score >= 0.5 || (typed.len() >= 3 && name.contains(typed)))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// "unknown profile 'obz'; did you mean obs?", or, with nothing close, the whole list.
pub fn unknown(kind: &str, typed: &str, names: &[String]) -> UsageError {
    let close = closest(typed, names);
    let hint = if close.is_empty() {
        format!("choose one of: {}", names.join(", "))
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    UsageError(format!("unknown {kind} '{typed}'; {hint}"))
}

/// The built-in profile called `name`.
pub fn profile_named(name: &str) -> Result<profile::Profile, UsageError> {
    profile::by_name(name).ok_or_else(|| {
        let names: Vec<String> = profile::all().into_iter().map(|p| p.name).collect();
        unknown("profile", name, &names)
    })
}

/// The built-in personality called `name`.
pub fn personality_named(name: &str) -> Result<personality::Personality, UsageError> {
    personality::by_name(name).ok_or_else(|| {
        let names: Vec<String> = personality::all()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        unknown("personality", name, &names)
    })
}

/// The segmentation variant called `name`.
pub fn variant_named(name: &str) -> Result<Variant, UsageError> {
    Variant::from_name(name).ok_or_else(|| {
        let names: Vec<String> = Variant::ALL.iter().map(|v| v.name().to_string()).collect();
        unknown("variant", name, &names)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_name_gets_the_closest_and_a_far_one_the_list() {
        let said = personality_named("ffmepg").unwrap_err().0;
        assert!(
            said.starts_with("unknown personality 'ffmepg'; did you mean ffmpeg"),
            "{said}"
        );
        let said = profile_named("obz").unwrap_err().0;
        assert!(said.contains("did you mean obs"), "{said}");
        let said = variant_named("bytwise").unwrap_err().0;
        assert!(said.ends_with("did you mean bytewise?"), "{said}");
        let said = variant_named("zzzzzzzzzz").unwrap_err().0;
        assert!(said.contains("choose one of: default, coalesced"), "{said}");
    }

    #[test]
    fn completion_offers_every_name() {
        let offered = |names: Names| -> Vec<String> {
            names
                .possible_values()
                .unwrap()
                .map(|v| v.get_name().to_string())
                .collect()
        };
        assert_eq!(offered(profiles()).len(), profile::all().len());
        assert_eq!(offered(personalities()).len(), personality::all().len());
        assert!(offered(cases()).contains(&"wirecast/default".to_string()));
        assert!(offered(catalogue_ids()).contains(&"hs.first-read-short".to_string()));
    }
}
