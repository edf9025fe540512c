//! Where settings come from, read so that a typo or a blank cannot pass silently: blank values
//! (`KEY=` in a Compose file, `key = ""` in TOML) count as unset, and every `CLIENTSYNC_*`
//! variable must name a known key (serde's `deny_unknown_fields` refuses the rest, and the error
//! names the variable).

use figment::{
    Error, Metadata, Profile, Provider,
    value::{Dict, Map, Value},
};
use serde::{Deserialize, Deserializer, de};

/// Prefix of every setting's environment variable.
pub const ENV_PREFIX: &str = "CLIENTSYNC_";

/// Variables under the prefix that are not settings, read by the CLI: the config file's path,
/// whether a failing command prints a backtrace, and the password `operators passwd` sets.
const NOT_SETTINGS: [&str; 3] = ["CLIENTSYNC_CONFIG", "CLIENTSYNC_BACKTRACE", "CLIENTSYNC_PASSWORD"];

/// `CLIENTSYNC_SECTION__KEY` variables with blank values left out; errors name the variable.
#[derive(Debug, Clone)]
pub struct EnvSettings {
    vars: Vec<(String, String)>,
}

impl EnvSettings {
    /// The process environment.
    pub fn from_process() -> Self {
        Self::from_vars(std::env::vars())
    }

    /// Given variables (tests).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars = vars
            .into_iter()
            .filter(|(name, value)| {
                name.starts_with(ENV_PREFIX)
                    && !NOT_SETTINGS.contains(&name.as_str())
                    && !value.trim().is_empty()
            })
            .collect();
        Self { vars }
    }
}

impl EnvSettings {
    /// The variables read, for naming them in errors.
    pub fn names(&self) -> Vec<String> {
        self.vars.iter().map(|(name, _)| name.clone()).collect()
    }
}

/// The environment variable that sets a dotted key.
pub fn env_var(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

impl Provider for EnvSettings {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("`{ENV_PREFIX}*` environment variable(s)"))
            .interpolater(|_: &Profile, keys: &[&str]| env_var(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut dict = Dict::new();
        for (name, value) in &self.vars {
            let key = name[ENV_PREFIX.len()..].to_ascii_lowercase().replace("__", ".");
            if key.split('.').any(str::is_empty) {
                return Err(Error::from(format!(
                    "`{name}` is not a setting: variables are {ENV_PREFIX}SECTION__KEY"
                )));
            }
            // Secrets are text whatever they look like (all digits, `true`, `[x]`).
            let parsed: Value = if super::SECRET_KEYS.contains(&key.as_str()) {
                Value::from(value.clone())
            } else {
                value.parse().unwrap_or_else(|_| Value::from(value.clone()))
            };
            let nested = figment::util::nest(&key, parsed)
                .into_dict()
                .ok_or_else(|| Error::from(format!("`{name}` is not a setting")))?;
            merge_into(&mut dict, nested);
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn merge_into(dict: &mut Dict, other: Dict) {
    for (key, value) in other {
        match (dict.get_mut(&key), value) {
            (Some(Value::Dict(_, inner)), Value::Dict(_, more)) => merge_into(inner, more),
            (_, value) => {
                dict.insert(key, value);
            }
        }
    }
}

/// Another provider (a TOML file) with blank strings removed, so they count as unset.
pub struct Blankless<P>(pub P);

impl<P: Provider> Provider for Blankless<P> {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut data = self.0.data()?;
        for dict in data.values_mut() {
            strip_blanks(dict);
        }
        Ok(data)
    }
}

fn strip_blanks(dict: &mut Dict) {
    dict.retain(|_, value| !is_blank(value));
    for value in dict.values_mut() {
        match value {
            Value::Dict(_, inner) => strip_blanks(inner),
            Value::Array(_, items) => items.retain(|item| !is_blank(item)),
            _ => {}
        }
    }
}

fn is_blank(value: &Value) -> bool {
    matches!(value, Value::String(_, s) if s.trim().is_empty())
}

/// Text that may arrive as a number (`CLIENTSYNC_CLICKUP__TEAM_ID=9012345` reads as one).
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Str(String),
    Unsigned(u64),
    Signed(i64),
}

impl Text {
    fn into_string(self) -> String {
        match self {
            Text::Str(s) => s,
            Text::Unsigned(n) => n.to_string(),
            Text::Signed(n) => n.to_string(),
        }
    }
}

/// An optional id or code: numbers are read as their digits, blank is unset.
pub fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<Text>::deserialize(d)?.map(Text::into_string);
    Ok(text.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// A list given as an array or, from the environment, as `a,b,c`; blank entries are dropped.
pub fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Many(Vec<Text>),
        One(Text),
    }
    let items = match List::deserialize(d)
        .map_err(|_| de::Error::custom("expected a list: an array in a file, `a,b,c` in the environment"))?
    {
        List::Many(items) => items.into_iter().map(Text::into_string).collect(),
        List::One(text) => text
            .into_string()
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}
