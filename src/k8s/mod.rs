//! Kubernetes facts, owned in one place: what an object is and where it
//! lives ([`meta`]), which names the API server accepts ([`names`]), where
//! workloads keep their pod templates ([`workloads`]), how kubelet reads
//! image references and matches them to pull credentials ([`image`]), the
//! two forms a resource takes in memory ([`resource`]) and the one finding
//! type every report uses ([`finding`]).
//!
//! Nothing here reads files or knows about specs; it imports only
//! `gocompat` and `yaml`.

pub(crate) mod finding;
pub(crate) mod image;
pub(crate) mod meta;
pub(crate) mod names;
pub(crate) mod resource;
pub(crate) mod scan;
pub(crate) mod workloads;
