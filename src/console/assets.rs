//! The console's static files, embedded in the binary so it works offline and needs no build
//! step: one stylesheet, an icon, the keyboard shortcuts and vendored htmx (see `assets/vendor/README.md`). Each is served under
//! a name carrying a hash of its content, so it can be cached for a year and a new build is
//! fetched at once; the hash is also its ETag.

use std::sync::LazyLock;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// The name it is served under: `stem-<hash>.ext`.
    pub name: String,
    /// Its MIME type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// The first 16 hex digits of its SHA-256.
    pub hash: String,
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let hash: String = hex::encode(Sha256::digest(bytes)).chars().take(16).collect();
        Self {
            name: format!("{stem}-{hash}.{ext}"),
            content_type,
            bytes,
            hash,
        }
    }

    /// The path pages link to.
    pub fn href(&self) -> String {
        format!("/console/assets/{}", self.name)
    }
}

struct Assets {
    css: Asset,
    htmx: Asset,
    icon: Asset,
    keys: Asset,
    css_href: String,
    htmx_href: String,
    icon_href: String,
    keys_href: String,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let css = Asset::new(
        "console",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/console.css"),
    );
    let htmx = Asset::new(
        "htmx",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx.min.js"),
    );
    let icon = Asset::new(
        "icon",
        "svg",
        "image/svg+xml",
        include_bytes!("../../assets/icon.svg"),
    );
    let keys = Asset::new(
        "keys",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/console-keys.js"),
    );
    Assets {
        keys_href: keys.href(),
        keys,
        css_href: css.href(),
        htmx_href: htmx.href(),
        icon_href: icon.href(),
        css,
        htmx,
        icon,
    }
});

/// The stylesheet's path.
pub fn stylesheet() -> &'static str {
    &ASSETS.css_href
}

/// htmx's path.
pub fn htmx() -> &'static str {
    &ASSETS.htmx_href
}

/// The icon's path (browsers ask for one; without it every page logs a 404).
pub fn icon() -> &'static str {
    &ASSETS.icon_href
}

/// The keyboard shortcuts' path (pages with `data-key` elements load it).
pub fn keys() -> &'static str {
    &ASSETS.keys_href
}

/// Mounts `/console/assets/{name}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(serve));
}

async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(asset) = [&ASSETS.css, &ASSETS.htmx, &ASSETS.icon, &ASSETS.keys]
        .into_iter()
        .find(|a| a.name == name.as_str())
    else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset");
    };
    let etag = format!("\"{}\"", asset.hash);
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, etag));
    if cached {
        response.finish()
    } else {
        response.content_type(asset.content_type).body(asset.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_a_hash_of_their_content() {
        let a = Asset::new("x", "css", "text/css", b"body{}");
        let b = Asset::new("x", "css", "text/css", b"body{color:red}");
        assert_ne!(a.name, b.name);
        assert!(a.name.starts_with("x-") && a.name.ends_with(".css"));
        assert!(stylesheet().starts_with("/console/assets/console-"));
        assert!(htmx().starts_with("/console/assets/htmx-"));
    }
}
