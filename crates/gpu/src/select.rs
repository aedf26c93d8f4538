//! Which GPU backends a run measures: `TENSORBENCH_GPU_BACKEND=wgpu|cuda|all` (default `all`).

use crate::Error;

/// The environment variable that picks the backends.
pub const BACKEND_ENV: &str = "TENSORBENCH_GPU_BACKEND";

/// The backends to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub wgpu: bool,
    pub cuda: bool,
}

impl Selection {
    pub const ALL: Selection = Selection {
        wgpu: true,
        cuda: true,
    };

    /// Reads [`BACKEND_ENV`]; an unknown value is an error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::parse(std::env::var(BACKEND_ENV).ok().as_deref())
    }

    /// Parses a comma-separated list of `wgpu`, `cuda`, `all`; unset or empty means `all`.
    pub fn parse(value: Option<&str>) -> Result<Self, Error> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Self::ALL);
        };
        let mut sel = Selection {
            wgpu: false,
            cuda: false,
        };
        for part in value.split(',').map(|p| p.trim().to_ascii_lowercase()) {
            match part.as_str() {
                "wgpu" => sel.wgpu = true,
                "cuda" => sel.cuda = true,
                "all" => sel = Self::ALL,
                other => {
                    return Err(Error::bad_input(
                        BACKEND_ENV,
                        format!(
                            "{BACKEND_ENV}={value:?}: unknown backend {other:?}; expected wgpu, cuda or all"
                        ),
                    ));
                }
            }
        }
        Ok(sel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_defaults() {
        assert_eq!(Selection::parse(None), Ok(Selection::ALL));
        assert_eq!(Selection::parse(Some(" ")), Ok(Selection::ALL));
        assert_eq!(
            Selection::parse(Some("CUDA")),
            Ok(Selection {
                wgpu: false,
                cuda: true
            })
        );
        assert_eq!(Selection::parse(Some("wgpu,cuda")), Ok(Selection::ALL));
        let err = Selection::parse(Some("metal")).unwrap_err();
        assert!(
            matches!(&err, Error::BadInput { flag_or_file, .. } if flag_or_file == BACKEND_ENV)
        );
        let err = err.to_string();
        assert!(err.contains(BACKEND_ENV) && err.contains("metal"), "{err}");
    }
}
