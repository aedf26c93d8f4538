//! The sampler profiles, which also size each suite's problems.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How much of the size range a run covers, and how long each measurement samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// CI-sized: a few points per op, short sampling (the default).
    #[default]
    Quick,
    /// More sizes per op and longer sampling.
    Standard,
    /// The largest sizes, the longest sampling and a ±0.5% CI target.
    Full,
}

impl Profile {
    /// Every profile, shortest first.
    pub const ALL: [Profile; 3] = [Profile::Quick, Profile::Standard, Profile::Full];

    /// The name on the command line and in run files.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Standard => "standard",
            Profile::Full => "full",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that is none of [`Profile::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?}: expected one of quick, standard, full")]
pub struct ParseProfileError {
    /// The name that was given.
    pub name: String,
}

impl FromStr for Profile {
    type Err = ParseProfileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ParseProfileError {
                name: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
            assert_eq!(p.to_string(), p.as_str());
        }
    }

    #[test]
    fn a_bad_name_is_named_with_the_valid_ones() {
        let err = "fast".parse::<Profile>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"fast\""), "{msg}");
        for p in Profile::ALL {
            assert!(msg.contains(p.as_str()), "{msg}");
        }
        assert!("Quick".parse::<Profile>().is_err(), "names are lowercase");
    }
}
