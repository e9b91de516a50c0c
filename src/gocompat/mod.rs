//! Byte-exact Go formatting and parsing, owned in one place.
//!
//! regcred's output is compared byte for byte with what Go programs write
//! (kubectl's `.dockerconfigjson`, sops' files) and its checks must agree
//! with what Go programs accept (kubelet's keyring). Each file ports one Go
//! package function, named after it, with Go's quirks kept:
//!
//! * [`json`]: `encoding/json` string escaping;
//! * [`strconv`]: `strconv.FormatFloat` and `encoding/json` float spelling;
//! * [`time`]: RFC 3339 timestamps as `time.Format(time.RFC3339)` writes UTC;
//! * [`url`]: `net/url.Parse` and `net.SplitHostPort`;
//! * [`filepath`]: `path/filepath.Match`, as kubelet matches registry hosts;
//! * [`yaml_v3`]: go-yaml v3's typing of plain scalars and its encoder
//!   (quoting, indentation, comments), as sops writes YAML.
//!
//! This layer imports nothing from the crate.

pub(crate) mod filepath;
pub(crate) mod json;
pub(crate) mod strconv;
pub(crate) mod time;
pub(crate) mod url;
pub(crate) mod yaml_v3;
