//! The console's stylesheet and script, compiled into the binary and served under a
//! name holding a hash of their content: a new build gets new URLs, so they can be
//! cached for a year and never served stale.

use std::sync::LazyLock;

use poem::{IntoResponse, Response, handler, http::StatusCode, web::Path};
use sha2::{Digest, Sha256};

struct Asset {
    /// `style.1a2b3c4d5e6f.css`
    name: String,
    content_type: &'static str,
    body: &'static str,
}

fn asset(stem: &str, ext: &str, content_type: &'static str, body: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(body.as_bytes())[..6]);
    Asset {
        name: format!("{stem}.{hash}.{ext}"),
        content_type,
        body,
    }
}

// Built once: hashing is cheap, but every page names both URLs.
static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset(
            "style",
            "css",
            "text/css; charset=utf-8",
            include_str!("assets/style.css"),
        ),
        asset(
            "console",
            "js",
            "text/javascript; charset=utf-8",
            include_str!("assets/console.js"),
        ),
    ]
});

/// The URL of the stylesheet.
pub fn style_url() -> String {
    format!("/assets/{}", ASSETS[0].name)
}

/// The URL of the script.
pub fn script_url() -> String {
    format!("/assets/{}", ASSETS[1].name)
}

/// Bytes of script the console sends, all files together (kept under 30 KB by a test).
pub fn script_bytes() -> usize {
    ASSETS[1].body.len()
}

#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => Response::builder()
            .content_type(a.content_type)
            .header("cache-control", "public, max-age=31536000, immutable")
            .header("x-content-type-options", "nosniff")
            .body(a.body),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
