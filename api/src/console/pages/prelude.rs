//! What every page handler reads and answers with: poem's extractors and responses, the
//! templates' values, the page frame and renderer, the session extractors, the state.

pub use minijinja::{Value, context};
pub use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};

pub use crate::{
    console::{
        render::{self, Frame},
        session::{Change, Signed, url_escape},
    },
    state::AppState,
};
